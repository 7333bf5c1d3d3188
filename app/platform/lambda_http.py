"""What every dedicated HTTP function shares: one small wrapper around its one route.

API Gateway has already routed the request, so a function needs no router: `serve()`
reads the HTTP API v2 event (path, query string, headers), hands a `Request` to the
function's own code and turns what comes back, or what it raises, into the response.

A peeled route must answer exactly as the monolith did (legacy/context.py,
legacy/errors.py, reached through serverless-wsgi), so everything here is built from the
same definitions in app.platform.http: Flask's reading of the query string and the path,
the JSON response with CORS on every answer, and one mapping from exception to answer.
The caller, the database and the settings come from the same `Runtime` the monolith
uses (app/platform/runtime.py), which this module re-exports for the functions. Nothing
here imports Flask, Werkzeug, the ORM or a Powertools event handler.

Per invocation `serve()` also puts the Lambda and API Gateway request ids on every log
line and writes the request's metrics (EMF). Tracing is Lambda's own (active tracing in
serverless.yml): it records each invocation without an SDK in the process.

Writes (`Runtime.writes()`) run in one transaction per request, in Core statements, on the
environment's one pooled connection: committed when the function returns, rolled back
when it raises.
What they send pins no RDS Proxy connection (no SET, no user variables, no locks, no
temporary tables, no server-side prepared statements); only the write receipt's check
after a COMMIT lost its answer reads with a lock (app/platform/db.py). A request body is
read by `json_body()`, with the monolith's rules and answers. No function imports the ORM.
"""

from __future__ import annotations

import base64
import binascii
import codecs
from collections.abc import Callable, Mapping
from functools import cached_property
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote, unquote

from app.core.validation import Page, parse_page
from app.platform.http import (
    CORS_HEADERS,
    JSON_CONTENT_TYPE,
    MAX_REQUEST_BYTES,
    NO_CONTENT_HEADERS,
    NOT_FOUND_MESSAGE,
    RequestTooLarge,
    dumps,
    error_answer,
    error_payload,
    parse_json_body,
)
from app.platform.observability import bind_invocation, metrics
from app.platform.read_retry import retry_read
from app.platform.runtime import Runtime
from app.platform.settings import Settings

__all__ = [
    "NO_CONTENT",
    "Answer",
    "Request",
    "Route",
    "Runtime",
    "json_body",
    "json_response",
    "page_of",
    "query_args",
    "serve",
]

# Werkzeug reads the query string with this error handler: bytes that are not UTF-8 stay
# percent-encoded instead of becoming U+FFFD. The same rule under our own name.
_REQUOTE_INVALID_UTF8 = "conduit.requote"


def _requote(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return quote(error.object[error.start : error.end], safe=""), error.end


codecs.register_error(_REQUOTE_INVALID_UTF8, _requote)


# Plain classes and a NamedTuple, not dataclasses: README, "What a function loads at
# cold start".
class Route:
    """One HTTP API route, e.g. `GET /api/articles/{slug}`, matched against a path the
    way the monolith matches it: serverless-wsgi percent-decodes the whole path before
    Flask routes it, and a parameter is any non-empty run of characters but '/'. So an
    encoded slash splits a segment, as in the monolith, where API Gateway's own
    `pathParameters` would have kept it in one."""

    __slots__ = ("key", "segments")

    def __init__(self, key: str) -> None:
        self.key = key
        self.segments = tuple(key.partition(" ")[2].split("/"))

    def match(self, raw_path: str) -> dict[str, str] | None:
        """The path parameters of `raw_path` (as sent), or None when it is not this route."""
        parts = unquote(raw_path).split("/")
        if len(parts) != len(self.segments):
            return None
        parameters: dict[str, str] = {}
        for part, segment in zip(parts, self.segments, strict=True):
            if segment.startswith("{") and segment.endswith("}"):
                if not part:
                    return None
                parameters[segment[1:-1]] = part
            elif part != segment:
                return None
        return parameters


class Request:
    """The parts of an HTTP API v2 event a route reads."""

    def __init__(self, event: Mapping[str, Any], path: Mapping[str, str]) -> None:
        self.event = event
        self.path = path

    def header(self, name: str) -> str | None:
        """A header by its lower-case name (API Gateway lower-cases them)."""
        headers: Mapping[str, str] = self.event.get("headers") or {}
        return headers.get(name)

    @property
    def authorization(self) -> str | None:
        """The Authorization header, for the runtime's caller lookup."""
        return self.header("authorization")

    @cached_property
    def args(self) -> dict[str, str]:
        return query_args(self.event)


class Answer(NamedTuple):
    """A JSON answer: the payload, its status and any headers beyond the common ones.
    A payload of None is an answer without a body (204), typed as the monolith types it."""

    payload: object
    status: int = 200
    headers: Mapping[str, str] = MappingProxyType({})


NO_CONTENT = Answer(None, 204, NO_CONTENT_HEADERS)


def json_body(request: Request) -> Any:
    """The request's JSON body, read by the monolith's rules: over MAX_REQUEST_BYTES is a
    413; empty, not JSON, or not UTF-8/16/32 is a 422 (app.platform.http.parse_json_body).
    What the body must contain is the parser's job (app.core.validation), which reports
    every problem at once. A base64 body (binary media types) is decoded first."""
    raw = request.event.get("body")
    if raw is None:
        data = b""
    elif request.event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(raw)
        except (binascii.Error, ValueError):  # API Gateway never sends it: a 422 below
            data = b""
    else:
        # A lone surrogate (an event's "\ud800") stays undecodable bytes: a 422 below.
        data = str(raw).encode("utf-8", "surrogatepass")
    if len(data) > MAX_REQUEST_BYTES:
        raise RequestTooLarge
    return parse_json_body(data)


def query_args(event: Mapping[str, Any]) -> dict[str, str]:
    """The query string as Flask's `request.args.get` reads it: the first value of a
    repeated key, blank values kept as "", '+' as a space, invalid UTF-8 left encoded.

    `queryStringParameters` cannot serve: API Gateway joins repeated keys with commas."""
    args: dict[str, str] = {}
    raw = event.get("rawQueryString") or ""
    for key, value in parse_qsl(raw, keep_blank_values=True, errors=_REQUOTE_INVALID_UTF8):
        args.setdefault(key, value)
    return args


def page_of(args: Mapping[str, str], settings: Settings) -> Page:
    """`?limit=&offset=` of an article list (422 when invalid; limit clamped)."""
    return parse_page(args.get("limit"), args.get("offset"), max_limit=settings.max_page_size)


def json_response(
    payload: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The monolith's JSON answer as an HTTP API v2 response: its encoding, its content
    type, CORS headers. No payload: no body; the headers given and CORS."""
    if payload is None:
        return {
            "statusCode": status,
            "headers": {**(headers or {}), **CORS_HEADERS},
            "isBase64Encoded": False,
        }
    return {
        "statusCode": status,
        "headers": {"Content-Type": JSON_CONTENT_TYPE, **(headers or {}), **CORS_HEADERS},
        "body": dumps(payload),
        "isBase64Encoded": False,
    }


def _failure(error: Exception, event: Mapping[str, Any]) -> Answer:
    http = (event.get("requestContext") or {}).get("http") or {}
    answer = error_answer(error, method=http.get("method", ""), path=http.get("path", ""))
    if answer.status >= 500:
        metrics.add_count("ServerErrors")
    if answer.status == 503:
        metrics.add_count("DatabaseUnavailable")
    return Answer(answer.payload, answer.status, answer.headers)


_cold_start = True


def serve(
    event: Mapping[str, Any],
    context: Any,
    route: Route,
    respond: Callable[[Request], Answer],
) -> dict[str, Any]:
    """One invocation of a single-route function: `respond` gets the request when the
    path is the route's; any exception becomes the monolith's error answer."""
    global _cold_start
    bind_invocation(event, context)
    if _cold_start:
        metrics.cold_start(getattr(context, "function_name", "unknown"))
        _cold_start = False
    metrics.add_dimension("route", event.get("routeKey") or "unknown")
    metrics.add_count("Requests")
    try:
        parameters = route.match(event.get("rawPath") or "/")
        if parameters is None:
            answer = Answer(error_payload(NOT_FOUND_MESSAGE), 404)
        else:
            request = Request(event, parameters)
            # A read that lost its database connection runs once more, in the time left.
            answer = retry_read(
                ((event.get("requestContext") or {}).get("http") or {}).get("method", ""),
                lambda: respond(request),
                remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000,
            )
    except Exception as error:
        answer = _failure(error, event)
    finally:
        metrics.flush()
    return json_response(answer.payload, answer.status, answer.headers)
