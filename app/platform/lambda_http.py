"""What every dedicated HTTP function shares, on Powertools for AWS Lambda.

A peeled route must answer exactly as the monolith did (legacy/context.py, legacy/errors.py,
reached through serverless-wsgi), so everything here is built from the same definitions in
app.platform.http: the caller from the Authorization header, Flask's reading of the query
string and the path, the JSON response with CORS on every answer, and one exception handler
with the monolith's status mapping and error body. Nothing here imports Flask or Werkzeug.

Cold start: the JWT library (and the account lookup that goes with a token) is imported on
the first request that presents a token; Tracer patches nothing.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, unquote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.metrics import Metrics, MetricUnit
from aws_lambda_powertools.tracing import Tracer
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from sqlalchemy.orm import Session

from app.core.errors import AuthenticationRequired
from app.core.validation import Page, parse_page
from app.platform.db import Database
from app.platform.http import (
    CORS_HEADERS,
    JSON_CONTENT_TYPE,
    NOT_FOUND_MESSAGE,
    bearer_token,
    dumps,
    error_answer,
    error_payload,
)
from app.platform.observability import bind_invocation
from app.platform.read_retry import retry_read
from app.platform.settings import Settings

if TYPE_CHECKING:
    from app.core.tokens import TokenIssuer

# One of each per execution environment. The Tracer patches no library: these functions
# call no AWS API per request, and patching would import what it instruments.
tracer = Tracer(auto_patch=False)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Conduit"))

# Werkzeug reads the query string with this error handler: bytes that are not UTF-8 stay
# percent-encoded instead of becoming U+FFFD. The same rule under our own name.
_REQUOTE_INVALID_UTF8 = "conduit.requote"


def _requote(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return quote(error.object[error.start : error.end], safe=""), error.end


codecs.register_error(_REQUOTE_INVALID_UTF8, _requote)


class Runtime:
    """What one execution environment holds for its life: settings and the database (one
    pooled connection on Lambda). Built at module scope by each function; the token
    verifier is made on first use, so anonymous requests never import the JWT library."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self._tokens: TokenIssuer | None = None

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

    def viewer_id(self, event: APIGatewayProxyEventV2, session: Session) -> int | None:
        """The caller's user id, or None when no credentials were sent. Credentials that
        were sent but are invalid, or name an account that is gone, are an error."""
        token = bearer_token(event.headers.get("authorization"))
        if token is None:
            return None
        user_id = self.tokens.verify(token)
        from app.core.services import users

        users.ensure_account(session, user_id)
        return user_id

    def caller_id(self, event: APIGatewayProxyEventV2, session: Session) -> int:
        """The caller's user id; AuthenticationRequired when no credentials were sent."""
        user_id = self.viewer_id(event, session)
        if user_id is None:
            raise AuthenticationRequired("authorization is required")
        return user_id


def query_args(event: APIGatewayProxyEventV2) -> dict[str, str]:
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
) -> Response[str]:
    """The monolith's JSON answer: its encoding, its content type, CORS headers."""
    return Response(
        status_code=status,
        content_type=JSON_CONTENT_TYPE,
        body=dumps(payload),
        headers={**(headers or {}), **CORS_HEADERS},
    )


class HttpApiResolver(APIGatewayHttpResolver):
    """Routes the path exactly as the monolith sees it.

    serverless-wsgi percent-decodes the whole path before Flask routes it, and Flask's
    default converter takes any run of characters but '/'. Powertools would route the
    path as it arrives and let a parameter match only a fixed class of characters."""

    def _remove_prefix(self, path: str) -> str:
        return unquote(super()._remove_prefix(path))

    @staticmethod
    def _compile_regex(rule: str, base_regex: str = "^{}$") -> re.Pattern[str]:
        return re.compile(base_regex.format(re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", rule)))


def http_resolver() -> HttpApiResolver:
    """A resolver with the monolith's error handling; add the function's route to it."""
    app = HttpApiResolver()

    def observe(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[str]:
        event = app.current_event
        bind_invocation(event.raw_event, app.lambda_context)
        metrics.add_dimension(name="route", value=event.get("routeKey") or "unknown")
        metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        # A read that lost its database connection runs once more, in the time left.
        context = app.lambda_context
        return retry_read(
            event.http_method,
            lambda: next_middleware(app),
            remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000,
        )

    @app.not_found
    def not_found(_error: Exception) -> Response[str]:
        return json_response(error_payload(NOT_FOUND_MESSAGE), 404)

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def failed(error: Exception) -> Response[str]:
        event = app.current_event
        answer = error_answer(error, method=event.http_method, path=event.path)
        if answer.status >= 500:
            metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=1)
        if answer.status == 503:
            metrics.add_metric(name="DatabaseUnavailable", unit=MetricUnit.Count, value=1)
        return json_response(answer.payload, answer.status, answer.headers)

    app.use(middlewares=[observe])
    return app
