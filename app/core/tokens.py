"""Signed session tokens (JWT, HS256). The secret comes from settings."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from app.core.errors import AuthenticationRequired

ALGORITHM = "HS256"


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
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject.isdigit():
            raise AuthenticationRequired("token is invalid")
        return int(subject)
