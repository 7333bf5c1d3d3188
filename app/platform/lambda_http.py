"""What every dedicated HTTP function shares: one small wrapper around its one route.

API Gateway has already routed the request, so a function needs no router: `serve()`
reads the HTTP API v2 event (path, query string, headers), hands a `Request` to the
function's own code and turns what comes back, or what it raises, into the response.

A peeled route must answer exactly as the monolith did (legacy/context.py,
legacy/errors.py, reached through serverless-wsgi), so everything here is built from the
same definitions in app.platform.http: the caller from the Authorization header, Flask's
reading of the query string and the path, the JSON response with CORS on every answer,
and one mapping from exception to answer. Nothing here imports Flask, Werkzeug, the ORM
or a Powertools event handler.

Per invocation `serve()` also puts the Lambda and API Gateway request ids on every log
line and writes the request's metrics (EMF). Tracing is Lambda's own (active tracing in
serverless.yml): it records each invocation without an SDK in the process.

Writes (`Runtime.writes()`) run in one transaction per request, in Core statements, on the
environment's one pooled connection: committed when the function returns, rolled back
when it raises.
What they send pins no RDS Proxy connection (no SET, no user variables, no locks, no
temporary tables, no server-side prepared statements); only the write receipt's check
after a COMMIT lost its answer reads with a lock (app/platform/db.py). A request body is
read by `json_body()`, with the monolith's rules and answers.

Cold start: the JWT library is imported on the first request that presents a token; the
password hasher on the first request that needs it. No function imports the ORM.
"""

from __future__ import annotations

import base64
import binascii
import codecs
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote

from app.core.errors import AuthenticationRequired
from app.core.validation import Page, parse_page
from app.platform.db import Database
from app.platform.http import (
    CORS_HEADERS,
    JSON_CONTENT_TYPE,
    MAX_REQUEST_BYTES,
    NO_CONTENT_HEADERS,
    NOT_FOUND_MESSAGE,
    RequestTooLarge,
    bearer_token,
    dumps,
    error_answer,
    error_payload,
    parse_json_body,
)
from app.platform.observability import bind_invocation, metrics
from app.platform.read_retry import retry_read
from app.platform.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Connection, Executable, Result

    from app.core.passwords import Passwords
    from app.core.services._common import Executor
    from app.core.tokens import TokenIssuer

# Werkzeug reads the query string with this error handler: bytes that are not UTF-8 stay
# percent-encoded instead of becoming U+FFFD. The same rule under our own name.
_REQUOTE_INVALID_UTF8 = "conduit.requote"


def _requote(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return quote(error.object[error.start : error.end], safe=""), error.end


codecs.register_error(_REQUOTE_INVALID_UTF8, _requote)


class LazyConnection:
    """A Core connection that is checked out on the first statement, not before: a
    request refused before it reads anything (no credentials where they are required, a
    bad page) never touches the database, as in the monolith, whose sessions connect
    on first use too."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._connection: Connection | None = None
        self._stack = ExitStack()

    def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None, /
    ) -> Result[*tuple[Any, ...]]:
        if self._connection is None:
            self._connection = self._stack.enter_context(self._database.connect())
        return self._connection.execute(statement, parameters)

    def close(self) -> None:
        self._stack.close()
        self._connection = None


class Runtime:
    """What one execution environment holds for its life: settings and the database (one
    pooled connection on Lambda). Built at module scope by each function; the token
    verifier is made on first use, so anonymous requests never import the JWT library."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self._tokens: TokenIssuer | None = None
        self._passwords: Passwords | None = None

    @classmethod
    def from_env(cls) -> Runtime:
        settings = Settings.from_env()
        return cls(settings, Database.from_settings(settings))

    @property
    def tokens(self) -> TokenIssuer:
        if self._tokens is None:
            from app.core.tokens import TokenIssuer

            self._tokens = TokenIssuer(self.settings.jwt_secret, self.settings.jwt_ttl_seconds)
        return self._tokens

    @property
    def passwords(self) -> Passwords:
        """The password hasher, with the monolith's cost parameters (made on first use)."""
        if self._passwords is None:
            from app.core.passwords import Passwords

            hashing = self.settings.password_hashing
            self._passwords = Passwords(
                time_cost=hashing.time_cost,
                memory_cost_kib=hashing.memory_cost_kib,
                parallelism=hashing.parallelism,
            )
        return self._passwords

    @contextmanager
    def writes(self, request: Request) -> Iterator[tuple[Connection, int]]:
        """Where one request writes, as the caller it names: one transaction, committed
        on return, rolled back on any exception; and the caller's user id.

        Credentials come first, as in the monolith: none, or a token that does not verify,
        is a 401 before the database is touched. The account is then looked up inside the
        transaction, on its connection (one checkout per request)."""
        token = self.caller_token(request)
        user_id = self.tokens.verify(token)
        with self.database.core_transaction() as connection:
            from app.core.services._common import ensure_account

            ensure_account(connection, user_id)
            yield connection, user_id

    @contextmanager
    def reads(self) -> Iterator[LazyConnection]:
        """Where one request reads: a connection taken on first use, given back after."""
        connection = LazyConnection(self.database)
        try:
            yield connection
        finally:
            connection.close()

    def viewer_id(self, request: Request, connection: Executor) -> int | None:
        """The caller's user id, or None when no credentials were sent. Credentials that
        were sent but are invalid, or name an account that is gone, are an error."""
        token = bearer_token(request.header("authorization"))
        if token is None:
            return None
        user_id = self.tokens.verify(token)
        from app.core.services._common import ensure_account

        ensure_account(connection, user_id)
        return user_id

    def caller_id(self, request: Request, connection: Executor) -> int:
        """The caller's user id; AuthenticationRequired when no credentials were sent."""
        user_id = self.viewer_id(request, connection)
        if user_id is None:
            raise AuthenticationRequired("authorization is required")
        return user_id

    def caller_token(self, request: Request) -> str:
        """The token the caller sent, not yet verified; AuthenticationRequired when none
        was sent (what answers about the current user echo back)."""
        token = bearer_token(request.header("authorization"))
        if token is None:
            raise AuthenticationRequired("authorization is required")
        return token


@dataclass(frozen=True)
class Route:
    """One HTTP API route, e.g. `GET /api/articles/{slug}`, matched against a path the
    way the monolith matches it: serverless-wsgi percent-decodes the whole path before
    Flask routes it, and a parameter is any non-empty run of characters but '/'. So an
    encoded slash splits a segment, as in the monolith, where API Gateway's own
    `pathParameters` would have kept it in one."""

    key: str
    segments: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        _method, _, path = self.key.partition(" ")
        object.__setattr__(self, "segments", tuple(path.split("/")))

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


@dataclass(frozen=True)
class Request:
    """The parts of an HTTP API v2 event a route reads."""

    event: Mapping[str, Any]
    path: Mapping[str, str]

    def header(self, name: str) -> str | None:
        """A header by its lower-case name (API Gateway lower-cases them)."""
        headers: Mapping[str, str] = self.event.get("headers") or {}
        return headers.get(name)

    @cached_property
    def args(self) -> dict[str, str]:
        return query_args(self.event)


@dataclass(frozen=True)
class Answer:
    """A JSON answer: the payload, its status and any headers beyond the common ones.
    A payload of None is an answer without a body (204), typed as the monolith types it."""

    payload: object
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


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
