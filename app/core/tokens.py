"""Signed session tokens: JWTs (RFC 7519) signed with HMAC-SHA256, the JWS algorithm
HS256 (RFC 7515, RFC 7518 section 3.2). The secret comes from settings.

Made and checked with the standard library alone (hmac, hashlib, base64, json), which
every function has loaded by then. PyJWT, which this module used before, imports its
JWKS client when it is imported, and with it urllib.request, http.client, email and ssl:
about 20 ms of the cold start of every function that reads a token, for a client that
fetches keys over HTTPS, which HS256 with a shared secret never does. The tests check
this module against PyJWT both ways: a token made here is byte for byte the one PyJWT
makes from the same claims, and PyJWT's tokens, good and bad, get the same verdict here
(tests/unit/test_tokens.py).

What verify() accepts is deliberately narrow: three base64url segments, unpadded and
canonical; a signature that matches (compared in constant time, before anything is
parsed); a header that is a JSON object naming HS256, whose key id, if any, is a string
and whose only critical extension, if any, is `b64` (true: an unencoded payload needs the
payload handed over apart, which a bearer token never is); claims that are a JSON object
with an `exp` in the future and a `sub` naming a user id. An `iat` or `nbf` in the
future, an `aud` (this API names no audience) or a `jti` that is not a string make a
token invalid. A NumericDate is read as PyJWT reads it (`int()`), and where a token has
several faults the verdict ("expired" or "invalid") is the one PyJWT gives.

Not mirrored: PyJWT refuses an HMAC secret that is empty or shaped like a PEM, SSH, DER
or JWK key, which guards a verifier that holds an asymmetric key against a token
claiming HS256. This one holds only the configured shared secret (at least 32 characters
outside local and test, app.platform.settings) and accepts only HS256.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from typing import Any

from app.core.errors import AuthenticationRequired

ALGORITHM = "HS256"
# User ids are the schema's INTEGER primary keys: 32-bit signed on MySQL, the narrower
# backend. A subject outside 1..MAX_USER_ID names no account on any backend.
MAX_USER_ID = 2**31 - 1
_USER_ID = re.compile(r"[1-9][0-9]{0,9}")
# A base64url segment as JWS writes it: the URL-safe alphabet, no padding. A length of
# 1 modulo 4 encodes no whole byte.
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _now() -> float:
    """The time as PyJWT reads it (`datetime.now(UTC).timestamp()`): whole microseconds,
    rounded down. `time.time()` can round up to the next second just before it."""
    return time.time_ns() // 1000 / 1_000_000


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


# The header of every token issued: the keys sorted, as PyJWT writes it.
_HEADER = _encode(_json({"alg": ALGORITHM, "typ": "JWT"}))


class _Invalid(Exception):
    pass


def _decode(segment: str) -> bytes:
    if len(segment) % 4 == 1 or not _SEGMENT.fullmatch(segment):
        raise _Invalid
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except binascii.Error:
        raise _Invalid from None
    # The last character of a segment can carry bits that decoding drops: only the one
    # canonical spelling is accepted, so a token has one form (as PyJWT requires too).
    if _encode(data) != segment:
        raise _Invalid
    return data


def _object(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(_decode(segment))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested too deeply
        raise _Invalid from None
    if not isinstance(value, dict):
        raise _Invalid
    return value


def _number(claims: dict[str, Any], name: str) -> int | None:
    """The claim `name` if present, in whole seconds, read with `int()` as PyJWT reads it
    (a float is cut, a string of digits taken); one `int()` refuses makes the token
    invalid (null, a list, NaN, infinity: json.loads takes the last two)."""
    if name not in claims:
        return None
    try:
        return int(claims[name])
    except (OverflowError, TypeError, ValueError):
        raise _Invalid from None


def _header_accepted(fields: dict[str, Any]) -> bool:
    """HS256; a key id, if any, a string; critical extensions, if any, a list naming only
    `b64`, which the header carries; and the payload encoded (`b64` not false)."""
    if fields.get("alg") != ALGORITHM or not isinstance(fields.get("kid", ""), str):
        return False
    if "crit" in fields:
        crit = fields["crit"]
        if not isinstance(crit, list) or not crit:
            return False
        if any(extension != "b64" or extension not in fields for extension in crit):
            return False
    return fields.get("b64", True) is not False


class TokenIssuer:
    """Issues and verifies the tokens of one secret. (A plain class, not a dataclass:
    README, "What a function loads at cold start".)"""

    __slots__ = ("secret", "ttl_seconds")

    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self.secret = secret
        self.ttl_seconds = ttl_seconds

    def _signature(self, signing_input: bytes) -> bytes:
        return hmac.new(self.secret.encode(), signing_input, hashlib.sha256).digest()

    def issue(self, user_id: int) -> str:
        now = time.time_ns() // 1_000_000_000
        claims = {"sub": str(user_id), "iat": now, "exp": now + self.ttl_seconds}
        signing_input = f"{_HEADER}.{_encode(_json(claims))}"
        return f"{signing_input}.{_encode(self._signature(signing_input.encode()))}"

    def verify(self, token: str) -> int:
        """The user id a valid token was issued for; AuthenticationRequired otherwise."""
        try:
            claims = self._claims(token)
        except _Invalid:
            raise AuthenticationRequired("token is invalid") from None
        return _user_id(claims["sub"])

    def _claims(self, token: str) -> dict[str, Any]:
        segments = token.split(".")
        if len(segments) != 3:
            raise _Invalid
        header, payload, signature = segments
        signing_input = f"{header}.{payload}"
        if not signing_input.isascii() or not hmac.compare_digest(
            _decode(signature), self._signature(signing_input.encode())
        ):
            raise _Invalid
        if not _header_accepted(_object(header)):
            raise _Invalid
        claims = _object(payload)
        # In PyJWT's order, so that a token with more than one fault gets its verdict.
        if claims.get("exp") is None or claims.get("sub") is None:  # required
            raise _Invalid
        now = _now()
        for name in ("iat", "nbf"):
            moment = _number(claims, name)
            if moment is not None and moment > now:
                raise _Invalid
        expires = _number(claims, "exp")
        if expires is not None and expires <= now:
            raise AuthenticationRequired("token has expired")
        if claims.get("aud") or not isinstance(claims.get("jti", ""), str):
            raise _Invalid
        return claims


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
