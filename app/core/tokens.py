"""Signed session tokens (JWT, HS256). The secret comes from settings."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import jwt

from app.core.errors import AuthenticationRequired

ALGORITHM = "HS256"
# User ids are the schema's INTEGER primary keys: 32-bit signed on MySQL, the narrower
# backend. A subject outside 1..MAX_USER_ID names no account on any backend.
MAX_USER_ID = 2**31 - 1
_USER_ID = re.compile(r"[1-9][0-9]{0,9}")


@dataclass(frozen=True)
class TokenIssuer:
    secret: str
    ttl_seconds: int

    def issue(self, user_id: int) -> str:
        now = int(time.time())
        claims = {"sub": str(user_id), "iat": now, "exp": now + self.ttl_seconds}
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> int:
        """The user id a valid token was issued for; AuthenticationRequired otherwise."""
        try:
            claims = jwt.decode(
                token, self.secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationRequired("token has expired") from None
        except jwt.PyJWTError:
            raise AuthenticationRequired("token is invalid") from None
        return _user_id(claims["sub"])


def _user_id(subject: object) -> int:
    """The id a subject names: ASCII digits without a leading zero, 1..MAX_USER_ID.
    `str.isdigit` alone would let "²" through to int(), and any length through to
    the database driver."""
    if not isinstance(subject, str) or not _USER_ID.fullmatch(subject):
        raise AuthenticationRequired("token is invalid")
    user_id = int(subject)
    if user_id > MAX_USER_ID:
        raise AuthenticationRequired("token is invalid")
    return user_id
