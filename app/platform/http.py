"""HTTP conventions shared by the monolith and every dedicated function:
the error format, status mapping, JSON encoding, auth header parsing and CORS.
One definition here is what keeps both web layers answering byte for byte alike."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.core import shapes
from app.core.errors import (
    AuthenticationRequired,
    DomainError,
    NotFound,
    PermissionDenied,
    TemporarilyUnavailable,
    ValidationFailed,
)
from app.platform.observability import logger

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
NOT_FOUND_MESSAGE = "resource not found"
TOO_LARGE_MESSAGE = "request body is too large"

# What the monolith's 204 has always carried (Flask's default type on an empty Response):
# a route's function sends the same, so a client sees no change when the route moves.
NO_CONTENT_HEADERS = {"Content-Type": "text/html; charset=utf-8"}

# Request bodies larger than this are refused with 413 before any JSON is parsed.
MAX_REQUEST_BYTES = 1024 * 1024

# A numeric path segment (a comment id): one or more decimal digits, as Werkzeug's `int`
# converter reads them (`\d+` on text, so any Unicode decimal digit, then int()).
_PATH_INTEGER = re.compile(r"\d+")


class RequestTooLarge(Exception):
    """The request body is over MAX_REQUEST_BYTES (413)."""


dumps = shapes.to_json


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


# NamedTuples, not dataclasses: README, "What a function loads at cold start".
class ErrorAnswer(NamedTuple):
    """What a web layer sends back for an exception raised while serving a request."""

    status: int
    payload: dict[str, Any]
    headers: Mapping[str, str] = MappingProxyType({})


def error_answer(error: Exception, *, method: str, path: str) -> ErrorAnswer:
    """The answer to `error`, logged the same way by the monolith and every function:
    a domain error maps to its status; a database that cannot be reached is a 503 the
    client may retry; anything else is a 500 whose details stay in the logs."""
    if isinstance(error, DomainError):
        return ErrorAnswer(status_for(error), error_payload(*error.messages))
    if isinstance(error, RequestTooLarge):
        return ErrorAnswer(413, error_payload(TOO_LARGE_MESSAGE))
    if isinstance(error, TemporarilyUnavailable) or is_database_unavailable(error):
        logger.warning("unavailable", error=str(error))
        return ErrorAnswer(503, error_payload(UNAVAILABLE_MESSAGE), {"Retry-After": "1"})
    logger.exception("unhandled error", method=method, path=path)
    return ErrorAnswer(500, error_payload("internal server error"))


def parse_json_body(raw: bytes | str | None) -> Any:
    """Decode a request body; ValidationFailed when it is empty or not JSON."""
    if raw is None or len(raw) == 0:
        raise ValidationFailed("request body is required")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: nesting deeper than the decoder can follow ("[[[[…").
        raise ValidationFailed("request body must be valid JSON") from None


def path_integer(segment: str) -> int:
    """A path segment that must be a whole number (a comment id). Anything else names no
    resource: NotFound with the message of an unknown path, before credentials are read,
    as when the monolith routed the segment with Werkzeug's `int` converter."""
    if _PATH_INTEGER.fullmatch(segment):
        try:
            return int(segment)
        except ValueError:  # more digits than int() converts
            pass
    raise NotFound(NOT_FOUND_MESSAGE)


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
