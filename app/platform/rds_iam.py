"""IAM authentication tokens for RDS Proxy, signed here with the standard library.

A token is a presigned request (AWS Signature Version 4, query-string form) for the
`connect` action of `rds-db` on `host:port` as `user`; nothing is sent anywhere. It is
what boto3's `generate_db_auth_token` returns, byte for byte (the tests hold the two
side by side), without building a boto3 client at the first connection.

A token is valid for 15 minutes for *opening* a connection, so one token is reused for
new connections until shortly before it expires. The credentials are the execution
role's, which Lambda puts in the environment; elsewhere (no keys in the environment)
botocore's credential chain is asked once, and only then is botocore imported.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import quote

TOKEN_LIFETIME_SECONDS = 15 * 60
# Renew well before expiry: a token must still be valid when the TLS handshake ends.
TOKEN_REUSE_SECONDS = 10 * 60

_ALGORITHM = "AWS4-HMAC-SHA256"
_SERVICE = "rds-db"
# The request has no body: its payload hash is that of the empty string.
_EMPTY_PAYLOAD_HASH = hashlib.sha256(b"").hexdigest()


# NamedTuples, not dataclasses: README, "What a function loads at cold start".
class Credentials(NamedTuple):
    access_key: str
    secret_key: str
    session_token: str | None = None


def credentials_from_environment() -> Credentials:
    """The execution role's credentials as Lambda provides them; elsewhere, what
    botocore's credential chain finds (profiles, container or instance roles)."""
    access_key = os.environ.get("AWS_ACCESS_KEY_ID")
    secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if access_key and secret_key:
        return Credentials(access_key, secret_key, os.environ.get("AWS_SESSION_TOKEN") or None)
    import botocore.session

    found = botocore.session.get_session().get_credentials()
    if found is None:
        raise RuntimeError("no AWS credentials to sign the database auth token with")
    frozen = found.get_frozen_credentials()
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token)


def _encode(value: str) -> str:
    # RFC 3986: everything but unreserved characters is percent-encoded.
    return quote(value, safe="-_.~")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def sign_auth_token(
    *,
    host: str,
    port: int,
    user: str,
    region: str,
    credentials: Credentials,
    now: datetime,
) -> str:
    """The auth token for `user` at `host:port`, signed at `now` (UTC)."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    scope = f"{day}/{region}/{_SERVICE}/aws4_request"
    parameters = {
        "Action": "connect",
        "DBUser": user,
        "X-Amz-Algorithm": _ALGORITHM,
        "X-Amz-Credential": f"{credentials.access_key}/{scope}",
        "X-Amz-Date": stamp,
        "X-Amz-Expires": str(TOKEN_LIFETIME_SECONDS),
        "X-Amz-SignedHeaders": "host",
    }
    if credentials.session_token:
        parameters["X-Amz-Security-Token"] = credentials.session_token
    query = "&".join(f"{_encode(key)}={_encode(value)}" for key, value in parameters.items())
    canonical_query = "&".join(
        f"{_encode(key)}={_encode(value)}" for key, value in sorted(parameters.items())
    )
    netloc = f"{host}:{port}"
    canonical_request = "\n".join(
        ("GET", "/", canonical_query, f"host:{netloc}\n", "host", _EMPTY_PAYLOAD_HASH)
    )
    string_to_sign = "\n".join(
        (_ALGORITHM, stamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest())
    )
    key = ("AWS4" + credentials.secret_key).encode("utf-8")
    for part in (day, region, _SERVICE, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{netloc}/?{query}&X-Amz-Signature={signature}"


def issue_auth_token(*, host: str, port: int, user: str, region: str) -> str:
    """A token signed now with the credentials of this environment."""
    return sign_auth_token(
        host=host,
        port=port,
        user=user,
        region=region,
        credentials=credentials_from_environment(),
        now=datetime.now(UTC),
    )


class IamAuthToken:
    """Callable returning a current auth token for `user` at `host:port`."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        user: str,
        region: str,
        issue: Callable[..., str] = issue_auth_token,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host, self.port, self.user, self.region = host, port, user, region
        self._issue = issue
        self._clock = clock
        self._token: str | None = None
        self._issued_at = 0.0
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drop the cached token: the next connection signs a new one (after a restore)."""
        with self._lock:
            self._token = None
            self._issued_at = 0.0

    def __call__(self) -> str:
        with self._lock:
            now = self._clock()
            if self._token is None or now - self._issued_at >= TOKEN_REUSE_SECONDS:
                self._token = self._issue(
                    host=self.host, port=self.port, user=self.user, region=self.region
                )
                self._issued_at = now
            return self._token
