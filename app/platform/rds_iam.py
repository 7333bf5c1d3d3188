"""IAM authentication tokens for RDS Proxy.

A token is a presigned request made locally by botocore (no network call). It is
valid for 15 minutes for *opening* a connection, so one token is reused for new
connections until shortly before it expires. boto3 is imported only when the first
connection is made, keeping it off the import path of code that never connects.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

TOKEN_LIFETIME_SECONDS = 15 * 60
# Renew well before expiry: a token must still be valid when the TLS handshake ends.
TOKEN_REUSE_SECONDS = 10 * 60


class IamAuthToken:
    """Callable returning a current auth token for `user` at `host:port`."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        user: str,
        region: str,
        client: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host, self.port, self.user, self.region = host, port, user, region
        self._client = client
        self._clock = clock
        self._token: str | None = None
        self._issued_at = 0.0
        self._lock = threading.Lock()

    def _rds(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("rds", region_name=self.region)
        return self._client

    def __call__(self) -> str:
        with self._lock:
            now = self._clock()
            if self._token is None or now - self._issued_at >= TOKEN_REUSE_SECONDS:
                self._token = self._rds().generate_db_auth_token(
                    DBHostname=self.host, Port=self.port, DBUsername=self.user, Region=self.region
                )
                self._issued_at = now
            return self._token
