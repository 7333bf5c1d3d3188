"""app.platform.lambda_http: auth parsing, query and path parsing, responses, error mapping.

The `serve()` tests run throwaway routes that answer or raise what a service can raise, as
every function's handler does; nothing here needs the monolith.
"""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from sqlalchemy import delete, literal, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.test import EnvironBuilder

from app.core.errors import (
    AuthenticationRequired,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from app.core.models import User
from app.platform import lambda_http
from app.platform.db import Database
from app.platform.http import (
    CORS_HEADERS,
    JSON_CONTENT_TYPE,
    MAX_REQUEST_BYTES,
    UNAVAILABLE_MESSAGE,
    RequestTooLarge,
    dumps,
)
from app.platform.lambda_http import (
    Answer,
    Request,
    Route,
    Runtime,
    json_response,
    page_of,
    query_args,
    serve,
)
from app.platform.observability import logger, metrics
from app.platform.runtime import LazyConnection
from app.platform.settings import Settings
from tests.support.api import TEST_CONFIG
from tests.support.functions import runtime_on
from tests.support.lambdas import LambdaContext, http_event

TEST_SECRET = TEST_CONFIG["JWT_SECRET"]


def with_query(raw: str) -> dict[str, Any]:
    event = http_event("GET", "/api/articles")
    event["rawQueryString"] = raw
    return event


# --- query strings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", {}),
        ("limit=5&offset=10", {"limit": "5", "offset": "10"}),
        ("tag=dragons&tag=angular", {"tag": "dragons"}),
        ("tag=", {"tag": ""}),
        ("tag", {"tag": ""}),
        ("tag=hello%20world", {"tag": "hello world"}),
        ("tag=hello+world", {"tag": "hello world"}),
        ("tag=a%2Bb", {"tag": "a+b"}),
        ("tag=x%2Cy", {"tag": "x,y"}),
        ("tag=caf%C3%A9", {"tag": "café"}),
        ("tag=café", {"tag": "café"}),
        ("tag=%FF%FEok", {"tag": "%FF%FEok"}),
        ("tag=%ZZ", {"tag": "%ZZ"}),
        ("&&tag=a&", {"tag": "a"}),
        ("TAG=a&tag=b", {"TAG": "a", "tag": "b"}),
        ("limit=1;offset=2", {"limit": "1;offset=2"}),
    ],
)
def test_query_args_read_like_flask(raw: str, expected: dict[str, str]) -> None:
    assert query_args(with_query(raw)) == expected


@pytest.mark.parametrize(
    "raw",
    ["a=1&a=2&b=", "x=%E2%82%AC&y=%C3", "k%20ey=v+al&k+ey=2", "=v&k=", "a=%25&b=%2525", "é=è"],
)
def test_query_args_match_werkzeug(raw: str) -> None:
    flask_args = EnvironBuilder(query_string=raw).get_request().args
    assert query_args(with_query(raw)) == {key: flask_args.get(key) for key in flask_args}


def test_query_args_without_raw_query_string() -> None:
    event = http_event("GET", "/api/articles")
    del event["rawQueryString"]
    assert query_args(event) == {}


def test_page_of_clamps_to_the_configured_maximum() -> None:
    settings = Settings.from_env({"APP_ENV": "test", "MAX_PAGE_SIZE": "7"})
    page = page_of({"limit": "50", "offset": "3"}, settings)
    assert (page.limit, page.offset) == (7, 3)
    assert (page_of({}, settings).limit, page_of({}, settings).offset) == (7, 0)


def test_page_of_reports_every_problem() -> None:
    settings = Settings.from_env({"APP_ENV": "test"})
    with pytest.raises(ValidationFailed) as raised:
        page_of({"limit": "0", "offset": "-1"}, settings)
    assert raised.value.messages == [
        "limit must be a whole number greater than 0",
        "offset must be a whole number of 0 or more",
    ]


# --- the caller -----------------------------------------------------------------------


@pytest.fixture
def runtime(database: Database) -> Runtime:
    return runtime_on(database)


@pytest.fixture
def user_id(database: Database) -> int:
    with database.transaction() as session:
        person = User(username="jake", email="jake@example.com", password_hash="x", bio="")
        session.add(person)
        session.flush()
        return person.id


def token_for(subject: Any, *, secret: str = TEST_SECRET, expires_in: int = 3600) -> str:
    now = int(time.time())
    claims = {"sub": str(subject), "iat": now, "exp": now + expires_in}
    return jwt.encode(claims, secret, algorithm="HS256")


def with_authorization(value: str | None, name: str = "Authorization") -> Request:
    # http_event lower-cases header names, as API Gateway does.
    event = http_event("GET", "/api/articles", headers={} if value is None else {name: value})
    return Request(event, {})


def viewer(runtime: Runtime, request: Request) -> int | None:
    with runtime.reads() as connection:
        return runtime.viewer_id(request.authorization, connection)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_no_credentials_is_an_anonymous_viewer(runtime: Runtime, header: str | None) -> None:
    event = with_authorization(header)
    assert viewer(runtime, event) is None
    with runtime.reads() as connection, pytest.raises(AuthenticationRequired) as raised:
        runtime.caller_id(event.authorization, connection)
    assert raised.value.messages == ["authorization is required"]


@pytest.mark.parametrize(
    ("template", "name"),
    [
        ("Token {}", "authorization"),
        ("Bearer {}", "authorization"),
        ("token {}", "authorization"),
        ("  Token   {}  ", "authorization"),
        ("Token {}", "AUTHORIZATION"),
    ],
)
def test_valid_token_names_the_caller(
    runtime: Runtime, user_id: int, template: str, name: str
) -> None:
    event = with_authorization(template.format(token_for(user_id)), name)
    assert viewer(runtime, event) == user_id
    with runtime.reads() as connection:
        assert runtime.caller_id(event.authorization, connection) == user_id


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Basic dXNlcjpwYXNz", "authorization header must be 'Token <jwt>'"),
        ("Token", "authorization header must be 'Token <jwt>'"),
        ("Token a b", "authorization header must be 'Token <jwt>'"),
        ("Token not-a-jwt", "token is invalid"),
        ("Token " + token_for(1, secret="another-secret-" + "y" * 32), "token is invalid"),
        ("Token " + token_for(1, expires_in=-60), "token has expired"),
        ("Token " + token_for("not-a-number"), "token is invalid"),
    ],
)
def test_bad_credentials_are_refused(runtime: Runtime, header: str, message: str) -> None:
    with pytest.raises(AuthenticationRequired) as raised:
        viewer(runtime, with_authorization(header))
    assert raised.value.messages == [message]


def test_token_of_a_deleted_account_is_refused(
    runtime: Runtime, database: Database, user_id: int
) -> None:
    event = with_authorization("Token " + token_for(user_id))
    with database.transaction() as session:
        session.execute(delete(User).where(User.id == user_id))
    with pytest.raises(AuthenticationRequired) as raised:
        viewer(runtime, event)
    assert raised.value.messages == ["token is invalid"]


def test_token_issuer_is_made_once(runtime: Runtime) -> None:
    assert runtime.tokens is runtime.tokens
    assert runtime.tokens.secret == TEST_SECRET


def test_runtime_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'conduit.db'}")
    monkeypatch.setenv("MAX_PAGE_SIZE", "9")
    runtime = Runtime.from_env()
    try:
        assert runtime.settings.max_page_size == 9
        assert str(runtime.database.bind.url).endswith("conduit.db")  # type: ignore[union-attr]
    finally:
        runtime.database.dispose()


# --- reading lazily -------------------------------------------------------------------


class CountingDatabase(Database):
    """A Database that counts the connections it hands out."""

    def __init__(self, inner: Database) -> None:
        super().__init__(inner.bind)
        self.connections = 0

    def connect(self) -> Any:
        self.connections += 1
        return super().connect()


def test_no_connection_is_taken_until_a_statement_runs(database: Database) -> None:
    counting = CountingDatabase(database)
    reads = LazyConnection(counting)
    assert counting.connections == 0
    assert reads.execute(select(literal(41) + 1)).scalar() == 42
    assert reads.execute(select(literal("again"))).scalar() == "again"
    assert counting.connections == 1
    reads.close()


def test_an_anonymous_request_refused_before_reading_never_connects(
    runtime: Runtime, database: Database
) -> None:
    counting = CountingDatabase(database)
    lazy = Runtime(runtime.settings, counting)
    with lazy.reads() as connection, pytest.raises(AuthenticationRequired):
        lazy.caller_id(with_authorization(None).authorization, connection)
    assert counting.connections == 0


# --- routes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "raw_path", "parameters"),
    [
        ("GET /api/tags", "/api/tags", {}),
        ("GET /api/tags", "/api/tags/", None),
        ("GET /api/tags", "/api/tag", None),
        ("GET /api/articles/{slug}", "/api/articles/how-to", {"slug": "how-to"}),
        ("GET /api/articles/{slug}", "/api/articles/", None),
        ("GET /api/articles/{slug}", "/api/articles/a/b", None),
        ("GET /api/articles/{slug}/comments", "/api/articles/x/comments", {"slug": "x"}),
        ("GET /api/articles/{slug}/comments", "/api/articles/x/comment", None),
        ("GET /api/articles/{slug}/comments", "/api/articles//comments", None),
        ("GET /api/profiles/{username}", "/api/profiles/jake%20p", {"username": "jake p"}),
    ],
)
def test_route_matches_its_own_path_only(
    route: str, raw_path: str, parameters: dict[str, str] | None
) -> None:
    assert Route(route).match(raw_path) == parameters


# --- serving: responses and errors ----------------------------------------------------

ECHO = Route("GET /echo/{value}")
PAIR = Route("GET /pair/{first}/and/{second}")


def test_json_response_is_the_monoliths() -> None:
    payload = {"tags": ["café", "naïve"]}
    response = json_response(payload, 201, {"Retry-After": "1"})
    assert response["statusCode"] == 201
    assert response["body"] == dumps(payload) == '{"tags":["café","naïve"]}'
    assert response["isBase64Encoded"] is False
    assert response["headers"] == {
        "Content-Type": JSON_CONTENT_TYPE,
        "Retry-After": "1",
        **CORS_HEADERS,
    }


ERRORS: dict[str, Exception] = {
    "validation": ValidationFailed("title can't be blank", "body can't be blank"),
    "authentication": AuthenticationRequired("token is invalid"),
    "permission": PermissionDenied("only the author may change this article"),
    "not-found": NotFound("article 'x' not found"),
    "domain": DomainError("something else"),
    "operational": OperationalError("SELECT 1", {}, Exception("Can't connect to MySQL")),
    "interface": InterfaceError("SELECT 1", {}, Exception("connection closed")),
    "pool-timeout": PoolTimeoutError("QueuePool limit reached"),
    "unexpected": RuntimeError("password=hunter2 leaked in a message"),
}


@pytest.fixture(autouse=True)
def fresh_metrics() -> Iterator[None]:
    metrics.clear()
    yield
    metrics.clear()


def raising(error: Exception) -> Callable[[Request], Answer]:
    def respond(_request: Request) -> Answer:
        raise error

    return respond


def echo(request: Request) -> Answer:
    return Answer(dict(request.path))


def invoke(
    route: Route, respond: Callable[[Request], Answer], raw_path: str, **context: Any
) -> dict[str, Any]:
    event = http_event("GET", raw_path)
    event["routeKey"] = event["requestContext"]["routeKey"] = route.key
    return serve(event, LambdaContext(function_name="conduit-test-fn", **context), route, respond)


def fail_with(name: str) -> dict[str, Any]:
    return invoke(ECHO, raising(ERRORS[name]), "/echo/x")


def assert_json(response: dict[str, Any], status: int, body: Any) -> None:
    assert response["statusCode"] == status
    assert response["headers"]["Content-Type"] == JSON_CONTENT_TYPE
    for name, value in CORS_HEADERS.items():
        assert response["headers"][name] == value
    assert response["isBase64Encoded"] is False
    assert response["body"] == dumps(body)


@pytest.mark.parametrize(
    ("name", "status", "messages"),
    [
        ("validation", 422, ["title can't be blank", "body can't be blank"]),
        ("authentication", 401, ["token is invalid"]),
        ("permission", 403, ["only the author may change this article"]),
        ("not-found", 404, ["article 'x' not found"]),
        ("domain", 400, ["something else"]),
    ],
)
def test_domain_errors_map_to_their_status(name: str, status: int, messages: list[str]) -> None:
    response = fail_with(name)
    assert_json(response, status, {"errors": {"body": messages}})
    assert "Retry-After" not in response["headers"]


@pytest.mark.parametrize("name", ["operational", "interface", "pool-timeout"])
def test_database_unavailable_is_503_with_retry_after(
    name: str, capfd: pytest.CaptureFixture[str]
) -> None:
    response = fail_with(name)
    assert_json(response, 503, {"errors": {"body": [UNAVAILABLE_MESSAGE]}})
    assert response["headers"]["Retry-After"] == "1"
    emitted = emf_metrics(capfd.readouterr().out)
    assert emitted["ServerErrors"] == 1
    assert emitted["DatabaseUnavailable"] == 1


def test_unexpected_error_is_500_without_details(capfd: pytest.CaptureFixture[str]) -> None:
    output = io.StringIO()
    previous = logger.registered_handler.setStream(output)
    try:
        response = fail_with("unexpected")
    finally:
        logger.registered_handler.setStream(previous)
    assert_json(response, 500, {"errors": {"body": ["internal server error"]}})
    for leak in ("hunter2", "Traceback", "RuntimeError", ".py"):
        assert leak not in response["body"]
    # The details go to the log instead, with the stack trace.
    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    [line] = [line for line in lines if line["message"] == "unhandled error"]
    assert line["level"] == "ERROR"
    assert line["exception_name"] == "RuntimeError"
    assert "hunter2" in line["exception"]
    assert (line["method"], line["path"]) == ("GET", "/echo/x")
    emitted = emf_metrics(capfd.readouterr().out)
    assert emitted["ServerErrors"] == 1
    assert "DatabaseUnavailable" not in emitted


def test_every_log_line_names_both_request_ids() -> None:
    output = io.StringIO()
    previous = logger.registered_handler.setStream(output)

    def logs(request: Request) -> Answer:
        logger.info("serving", value=request.path["value"])
        return Answer({})

    try:
        first = invoke(ECHO, logs, "/echo/one", aws_request_id="lambda-1")
        second = invoke(ECHO, logs, "/echo/two", aws_request_id="lambda-2")
    finally:
        logger.registered_handler.setStream(previous)
    assert first["statusCode"] == second["statusCode"] == 200
    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    assert [(line["value"], line["function_request_id"]) for line in lines] == [
        ("one", "lambda-1"),
        ("two", "lambda-2"),
    ]
    assert all(line["correlation_id"] for line in lines)
    assert lines[0]["correlation_id"] != lines[1]["correlation_id"]


def test_a_path_that_is_not_the_route_is_the_monoliths_404() -> None:
    answered: list[Request] = []

    def remember(request: Request) -> Answer:
        answered.append(request)
        return Answer({})

    response = invoke(ECHO, remember, "/echo/x/y")
    assert_json(response, 404, {"errors": {"body": ["resource not found"]}})
    assert answered == []


def test_every_request_is_counted_by_route(capfd: pytest.CaptureFixture[str]) -> None:
    invoke(ECHO, echo, "/echo/x")
    blobs = [json.loads(line) for line in capfd.readouterr().out.splitlines() if '"_aws"' in line]
    requests = [blob for blob in blobs if "Requests" in blob]
    assert len(requests) == 1
    assert requests[0]["route"] == "GET /echo/{value}"
    assert requests[0]["service"] == "conduit"
    assert requests[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Conduit"
    assert requests[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "route"]]
    assert "ServerErrors" not in requests[0]


def test_cold_start_is_counted_once_per_environment(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lambda_http, "_cold_start", True)
    invoke(ECHO, echo, "/echo/x")
    invoke(ECHO, echo, "/echo/y")
    blobs = [json.loads(line) for line in capfd.readouterr().out.splitlines() if '"_aws"' in line]
    cold = [blob for blob in blobs if "ColdStart" in blob]
    assert len(cold) == 1
    assert cold[0]["function_name"] == "conduit-test-fn"


@pytest.mark.parametrize(
    ("raw_path", "value"),
    [
        ("/echo/plain-slug", "plain-slug"),
        ("/echo/hello%20world", "hello world"),
        ("/echo/hello world", "hello world"),
        ("/echo/caf%C3%A9", "café"),
        ("/echo/café", "café"),
        ("/echo/%F0%9F%90%89", "🐉"),
        ("/echo/🐉", "🐉"),
        ('/echo/a"b', 'a"b'),
        ("/echo/a%5Cb%60c", "a\\b`c"),
        ("/echo/a%3Fb%23c", "a?b#c"),
        ("/echo/100%25", "100%"),
        ("/echo/%FF", "\ufffd"),
    ],
)
def test_path_parameters_are_decoded_like_the_monolith(raw_path: str, value: str) -> None:
    assert_json(invoke(ECHO, echo, raw_path), 200, {"value": value})


def test_encoded_slash_routes_as_a_slash() -> None:
    # serverless-wsgi decodes the path before Flask routes it: a%2Fb is two segments.
    assert invoke(ECHO, echo, "/echo/a%2Fb")["statusCode"] == 404
    assert_json(
        invoke(PAIR, echo, "/pair/a%2Fand/and/b"),
        404,
        {"errors": {"body": ["resource not found"]}},
    )
    assert_json(invoke(PAIR, echo, "/pair/a%20b/and/c%2Cd"), 200, {"first": "a b", "second": "c,d"})


def emf_metrics(output: str) -> dict[str, Any]:
    """Every metric value in the EMF blobs printed to stdout, by name."""
    values: dict[str, Any] = {}
    for line in output.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for definition in blob["_aws"]["CloudWatchMetrics"]:
            for metric in definition["Metrics"]:
                values[metric["Name"]] = blob[metric["Name"]]
    return values


def _request_with_body(body: str, *, base64_encoded: bool = False) -> lambda_http.Request:
    return lambda_http.Request({"body": body, "isBase64Encoded": base64_encoded}, {})


def test_json_body_takes_a_body_of_exactly_the_limit() -> None:
    text = '"' + "x" * (MAX_REQUEST_BYTES - 2) + '"'
    assert lambda_http.json_body(_request_with_body(text)) == "x" * (MAX_REQUEST_BYTES - 2)


def test_json_body_counts_bytes_not_characters() -> None:
    # 2 bytes each in UTF-8: fewer characters than the limit, more bytes.
    text = '"' + "é" * (MAX_REQUEST_BYTES // 2) + '"'
    with pytest.raises(RequestTooLarge):
        lambda_http.json_body(_request_with_body(text))


def test_json_body_decodes_a_base64_body_first() -> None:
    encoded = base64.b64encode('{"a": [1]}'.encode("utf-16")).decode()
    assert lambda_http.json_body(_request_with_body(encoded, base64_encoded=True)) == {"a": [1]}


@pytest.mark.parametrize("body", [None, "", "{", "[1,", "\ud800"])
def test_json_body_refuses_what_the_monolith_refuses(body: str | None) -> None:
    request = lambda_http.Request({} if body is None else {"body": body}, {})
    with pytest.raises(ValidationFailed):
        lambda_http.json_body(request)


def test_standard_logging_arguments_keep_their_meaning() -> None:
    output = io.StringIO()
    previous = logger.registered_handler.setStream(output)
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logger.warning("kept going", exc_info=True, extra={"attempt": 2})
        logger.info("plain", exc_info=False)
    finally:
        logger.registered_handler.setStream(previous)
    warning, plain = (json.loads(line) for line in output.getvalue().splitlines())
    assert warning["exception_name"] == "ValueError"
    assert warning["attempt"] == 2
    assert "exc_info" not in warning and "extra" not in warning
    assert "exception" not in plain
