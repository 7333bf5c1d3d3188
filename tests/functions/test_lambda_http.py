"""app.platform.lambda_http: auth parsing, query and path parsing, responses, error mapping.

The resolver tests run a throwaway resolver (made by `http_resolver()`, as every function's
is) with routes that raise what a service can raise; nothing here needs the monolith.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from sqlalchemy import delete
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
from app.platform.db import Database
from app.platform.http import CORS_HEADERS, JSON_CONTENT_TYPE, UNAVAILABLE_MESSAGE, dumps
from app.platform.lambda_http import (
    HttpApiResolver,
    Runtime,
    http_resolver,
    json_response,
    metrics,
    page_of,
    query_args,
)
from app.platform.settings import Settings
from tests.conftest import TEST_CONFIG
from tests.functions.support import runtime_on
from tests.lambda_support import LambdaContext, http_event

TEST_SECRET = TEST_CONFIG["JWT_SECRET"]


def v2(event: dict[str, Any]) -> APIGatewayProxyEventV2:
    return APIGatewayProxyEventV2(event)


def with_query(raw: str) -> APIGatewayProxyEventV2:
    event = http_event("GET", "/api/articles")
    event["rawQueryString"] = raw
    return v2(event)


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
    assert query_args(v2(event)) == {}


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


def with_authorization(value: str | None, name: str = "authorization") -> APIGatewayProxyEventV2:
    event = http_event("GET", "/api/articles")
    if value is not None:
        event["headers"][name] = value
    return v2(event)


def viewer(runtime: Runtime, event: APIGatewayProxyEventV2) -> int | None:
    with runtime.database.read() as session:
        return runtime.viewer_id(event, session)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_no_credentials_is_an_anonymous_viewer(runtime: Runtime, header: str | None) -> None:
    event = with_authorization(header)
    assert viewer(runtime, event) is None
    with runtime.database.read() as session, pytest.raises(AuthenticationRequired) as raised:
        runtime.caller_id(event, session)
    assert raised.value.messages == ["authorization is required"]


@pytest.mark.parametrize(
    ("template", "name"),
    [
        ("Token {}", "authorization"),
        ("Bearer {}", "authorization"),
        ("token {}", "authorization"),
        ("  Token   {}  ", "authorization"),
        ("Token {}", "Authorization"),
    ],
)
def test_valid_token_names_the_caller(
    runtime: Runtime, user_id: int, template: str, name: str
) -> None:
    event = with_authorization(template.format(token_for(user_id)), name)
    assert viewer(runtime, event) == user_id
    with runtime.database.read() as session:
        assert runtime.caller_id(event, session) == user_id


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


# --- responses and errors -------------------------------------------------------------


def test_json_response_is_the_monoliths() -> None:
    payload = {"tags": ["café", "naïve"]}
    response = json_response(payload, 201, {"Retry-After": "1"})
    assert response.status_code == 201
    assert response.body == dumps(payload) == '{"tags":["café","naïve"]}'
    assert response.headers == {
        "Content-Type": JSON_CONTENT_TYPE,
        "Retry-After": "1",
        **CORS_HEADERS,
    }


def raising(error: Exception) -> Callable[[], Response[str]]:
    def route() -> Response[str]:
        raise error

    return route


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


@pytest.fixture
def resolver() -> HttpApiResolver:
    app = http_resolver()
    for name, error in ERRORS.items():
        app.get(f"/raise/{name}")(raising(error))

    @app.get("/echo/<value>")
    def echo(value: str) -> Response[str]:
        return json_response({"value": value})

    @app.get("/pair/<first>/and/<second>")
    def pair(first: str, second: str) -> Response[str]:
        return json_response([first, second])

    return app


@pytest.fixture(autouse=True)
def fresh_metrics() -> Iterator[None]:
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def invoke(app: HttpApiResolver, event: dict[str, Any]) -> dict[str, Any]:
    """One invocation, metrics flushed as the functions' handlers do."""

    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    result: dict[str, Any] = handler(event, LambdaContext(function_name="conduit-test-fn"))
    return result


def get(app: HttpApiResolver, raw_path: str) -> dict[str, Any]:
    event = http_event("GET", "/")
    event["rawPath"] = raw_path
    return invoke(app, event)


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
def test_domain_errors_map_to_their_status(
    resolver: HttpApiResolver, name: str, status: int, messages: list[str]
) -> None:
    response = get(resolver, f"/raise/{name}")
    assert_json(response, status, {"errors": {"body": messages}})
    assert "Retry-After" not in response["headers"]


@pytest.mark.parametrize("name", ["operational", "interface", "pool-timeout"])
def test_database_unavailable_is_503_with_retry_after(
    resolver: HttpApiResolver, name: str, capfd: pytest.CaptureFixture[str]
) -> None:
    response = get(resolver, f"/raise/{name}")
    assert_json(response, 503, {"errors": {"body": [UNAVAILABLE_MESSAGE]}})
    assert response["headers"]["Retry-After"] == "1"
    emitted = emf_metrics(capfd.readouterr().out)
    assert emitted["ServerErrors"] == [1.0]
    assert emitted["DatabaseUnavailable"] == [1.0]


def test_unexpected_error_is_500_without_details(
    resolver: HttpApiResolver,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    response = get(resolver, "/raise/unexpected")
    assert_json(response, 500, {"errors": {"body": ["internal server error"]}})
    for leak in ("hunter2", "Traceback", "RuntimeError", ".py"):
        assert leak not in response["body"]
    # The details go to the log instead, with the stack trace.
    [record] = [record for record in caplog.records if record.getMessage() == "unhandled error"]
    assert record.exc_info is not None and record.exc_info[1] is ERRORS["unexpected"]
    assert emf_metrics(capfd.readouterr().out)["ServerErrors"] == [1.0]


def test_unknown_path_is_the_monoliths_404(resolver: HttpApiResolver) -> None:
    assert_json(get(resolver, "/nowhere"), 404, {"errors": {"body": ["resource not found"]}})


def test_every_request_is_counted_by_route(
    resolver: HttpApiResolver, capfd: pytest.CaptureFixture[str]
) -> None:
    get(resolver, "/echo/x")
    blobs = [json.loads(line) for line in capfd.readouterr().out.splitlines() if '"_aws"' in line]
    requests = [blob for blob in blobs if "Requests" in blob]
    assert len(requests) == 1
    assert requests[0]["route"] == "$default"
    assert requests[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Conduit"
    assert "ServerErrors" not in requests[0]


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
def test_path_parameters_are_decoded_like_the_monolith(
    resolver: HttpApiResolver, raw_path: str, value: str
) -> None:
    assert_json(get(resolver, raw_path), 200, {"value": value})


def test_encoded_slash_routes_as_a_slash(resolver: HttpApiResolver) -> None:
    # serverless-wsgi decodes the path before Flask routes it: a%2Fb is two segments.
    assert get(resolver, "/echo/a%2Fb")["statusCode"] == 404
    assert_json(
        get(resolver, "/pair/a%2Fand/and/b"), 404, {"errors": {"body": ["resource not found"]}}
    )
    assert_json(get(resolver, "/pair/a%20b/and/c%2Cd"), 200, ["a b", "c,d"])


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
