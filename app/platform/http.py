"""HTTP conventions shared by the monolith and every dedicated function:
the error format, status mapping, JSON encoding, auth header parsing and CORS.
One definition here is what keeps both web layers answering byte for byte alike."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.core.errors import (
    AuthenticationRequired,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

JSON_CONTENT_TYPE = "application/json; charset=utf-8"

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
    "Access-Control-Max-Age": "600",
}

_STATUS_BY_ERROR: dict[type[DomainError], int] = {
    ValidationFailed: 422,
    AuthenticationRequired: 401,
    PermissionDenied: 403,
    NotFound: 404,
}

UNAVAILABLE_MESSAGE = "the service is temporarily unavailable, please retry"


def dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def error_payload(*messages: str) -> dict[str, Any]:
    return {"errors": {"body": list(messages)}}


def status_for(error: DomainError) -> int:
    for kind, status in _STATUS_BY_ERROR.items():
        if isinstance(error, kind):
            return status
    return 400


def is_database_unavailable(error: BaseException) -> bool:
    """A connection-level database failure: the request may succeed when retried."""
    # OperationalError covers refused/lost connections and lock timeouts alike.
    return isinstance(
        error, OperationalError | InterfaceError | DisconnectionError | PoolTimeoutError
    )


def parse_json_body(raw: bytes | str | None) -> Any:
    """Decode a request body; ValidationFailed when it is empty or not JSON."""
    if raw is None or len(raw) == 0:
        raise ValidationFailed("request body is required")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: nesting deeper than the decoder can follow ("[[[[…").
        raise ValidationFailed("request body must be valid JSON") from None


def bearer_token(header: str | None) -> str | None:
    """The token from `Authorization: Token <jwt>` or `Bearer <jwt>`; None when absent.

    A header that is present but not of that form is an AuthenticationRequired error,
    so a client with a broken header learns it instead of being served anonymously.
    """
    if header is None or header.strip() == "":
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() not in ("token", "bearer") or not token or " " in token:
        raise AuthenticationRequired("authorization header must be 'Token <jwt>'")
    return token
