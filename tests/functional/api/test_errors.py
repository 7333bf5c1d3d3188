"""What every endpoint shares: the error format, HTTP-level errors, bodies and CORS."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from app.core.models import User
from app.core.services import comments, tags
from app.platform.db import Database
from tests.support.api import JSON_CONTENT_TYPE, Actions, assert_error, count_rows
from tests.support.lambdas import http_event, invoke, response_json

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
}

# Every endpoint that reads a JSON body, and whether it needs a token first.
JSON_ENDPOINTS = [
    ("POST", "/api/users", False),
    ("POST", "/api/users/login", False),
    ("PUT", "/api/user", True),
    ("POST", "/api/articles", True),
    ("PUT", "/api/articles/how-to-train-your-dragon", True),
    ("POST", "/api/articles/how-to-train-your-dragon/comments", True),
]


@pytest.fixture
def headers(actions: Actions) -> dict[str, str]:
    """A token for jake, who has written the article the JSON endpoints address."""
    jake = actions.register()
    actions.article(jake)
    return jake.headers


def assert_cors(response: Any) -> None:
    for name, value in CORS.items():
        assert response.headers.get(name) == value, name


@pytest.mark.parametrize(
    "path", ["/api/nope", "/nope", "/", "/api", "/api/articles/a/b/c", "/api/users/login/x"]
)
def test_unknown_route_is_404(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert assert_error(response, 404) == ["resource not found"]
    assert_cors(response)


DOUBLE_SLASHES = [
    "/api//tags",
    "//api/tags",
    "/api/articles//how-to-train-your-dragon",
    "/api/articles/how-to-train-your-dragon//comments",
    "/api/profiles//jake",
]


@pytest.mark.parametrize("path", DOUBLE_SLASHES)
def test_a_path_with_an_empty_segment_is_404_not_a_redirect(
    client: FlaskClient, headers: dict[str, str], path: str
) -> None:
    response = client.get(path, headers=headers)
    assert assert_error(response, 404) == ["resource not found"]
    assert "Location" not in response.headers
    assert_cors(response)


@pytest.mark.parametrize("path", DOUBLE_SLASHES)
def test_a_path_with_an_empty_segment_is_404_on_lambda(
    app: Flask, headers: dict[str, str], path: str
) -> None:
    response = invoke(app, http_event("GET", path, headers=headers))
    assert response["statusCode"] == 404, response
    assert {name.lower() for name in response["headers"]}.isdisjoint({"location"})
    assert response_json(response) == {"errors": {"body": ["resource not found"]}}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", "/api/user", {"GET", "PUT"}),
        ("DELETE", "/api/user", {"GET", "PUT"}),
        ("GET", "/api/users", {"POST"}),
        ("PUT", "/api/users/login", {"POST"}),
        ("PUT", "/api/profiles/jake/follow", {"POST", "DELETE"}),
        ("POST", "/api/articles/feed/comments/1", {"DELETE"}),
    ],
)
def test_wrong_method_is_405_with_allow(
    client: FlaskClient, method: str, path: str, allowed: set[str]
) -> None:
    response = client.open(path, method=method)
    assert assert_error(response, 405) == ["method not allowed"]
    assert_cors(response)
    advertised = {name.strip() for name in response.headers["Allow"].split(",")}
    assert allowed <= advertised
    assert method not in advertised


def test_another_method_on_a_retired_route_is_404(client: FlaskClient) -> None:
    """GET /api/tags left the monolith: other methods on its path reach the catch-all,
    where the monolith no longer knows the path (it answered 405 while it had the view)."""
    response = client.post("/api/tags")
    assert assert_error(response, 404) == ["resource not found"]
    assert_cors(response)


@pytest.mark.parametrize(("method", "path", "needs_token"), JSON_ENDPOINTS)
def test_body_over_one_mebibyte_is_413(
    client: FlaskClient,
    database: Database,
    headers: dict[str, str],
    method: str,
    path: str,
    needs_token: bool,
) -> None:
    # Valid JSON, so only its size can be the reason for refusing it.
    padding = "x" * (1024 * 1024)
    body = f'{{"user": {{"username": "big", "bio": "{padding}"}}}}'
    response = client.open(
        path, method=method, data=body, content_type="application/json", headers=headers
    )
    assert assert_error(response, 413) == ["request body is too large"]
    assert_cors(response)
    assert count_rows(database, User) == 1


def test_body_of_exactly_one_mebibyte_is_read(client: FlaskClient, actions: Actions) -> None:
    jake = actions.register()
    envelope = '{"user": {"bio": ""}}'
    body = envelope.replace('""', '"' + "x" * (1024 * 1024 - len(envelope)) + '"')
    assert len(body) == 1024 * 1024
    response = client.put(
        "/api/user", data=body, content_type="application/json", headers=jake.headers
    )
    # Read and validated: 2000 characters is the limit for a bio.
    assert assert_error(response, 422) == ["bio is too long (maximum is 2000 characters)"]


def assert_unreadable_body_is_422(
    client: FlaskClient,
    database: Database,
    headers: dict[str, str],
    request: tuple[str, str],
    body: str | bytes,
    message: str,
) -> None:
    method, path = request
    response = client.open(
        path, method=method, data=body, content_type="application/json", headers=headers
    )
    assert assert_error(response, 422) == [message]
    assert_cors(response)
    assert count_rows(database, User) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "request body is required"),
        ("{", "request body must be valid JSON"),
        ("{'user': {}}", "request body must be valid JSON"),
        ('{"user": {"email": "a@b.c",}}', "request body must be valid JSON"),
        ("user=jake", "request body must be valid JSON"),
        (b"\xff\xfe\x00", "request body must be valid JSON"),
        ("[]", "request body must be a JSON object"),
        ('"user"', "request body must be a JSON object"),
        ("42", "request body must be a JSON object"),
        ("null", "request body must be a JSON object"),
        ("true", "request body must be a JSON object"),
    ],
)
def test_body_that_is_not_a_json_object_is_422(
    client: FlaskClient,
    database: Database,
    headers: dict[str, str],
    body: str | bytes,
    message: str,
) -> None:
    request = ("POST", "/api/users")
    assert_unreadable_body_is_422(client, database, headers, request, body, message)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "request body is required"),
        ("{", "request body must be valid JSON"),
        ("[]", "request body must be a JSON object"),
    ],
)
@pytest.mark.parametrize(("method", "path", "needs_token"), JSON_ENDPOINTS)
def test_every_json_endpoint_refuses_an_unreadable_body(
    client: FlaskClient,
    database: Database,
    headers: dict[str, str],
    method: str,
    path: str,
    needs_token: bool,
    body: str,
    message: str,
) -> None:
    assert_unreadable_body_is_422(client, database, headers, (method, path), body, message)


@pytest.mark.parametrize(("method", "path", "needs_token"), JSON_ENDPOINTS)
def test_a_token_is_checked_before_the_body(
    client: FlaskClient, method: str, path: str, needs_token: bool
) -> None:
    response = client.open(path, method=method, data="{", content_type="application/json")
    if needs_token:
        assert assert_error(response, 401) == ["authorization is required"]
    else:
        assert assert_error(response, 422) == ["request body must be valid JSON"]


def test_json_is_read_whatever_the_content_type(client: FlaskClient) -> None:
    response = client.post(
        "/api/users",
        data=json.dumps(
            {"user": {"username": "jake", "email": "jake@example.com", "password": "password123"}}
        ),
        content_type="text/plain",
    )
    assert response.status_code == 201


def test_success_responses_are_utf8_json_with_cors(client: FlaskClient, actions: Actions) -> None:
    jake = actions.register()
    actions.article(jake, title="Ünïcödé", tagList=["日本"])
    for response in (
        client.get("/api/tags"),
        client.get("/api/articles"),
        client.get("/api/articles/unicode"),
        client.get("/api/user", headers=jake.headers),
    ):
        assert response.status_code == 200
        assert response.content_type == JSON_CONTENT_TYPE
        assert_cors(response)
    # Non-ASCII goes out as UTF-8, not as \\u escapes.
    assert "日本".encode() in client.get("/api/tags").get_data()


def test_no_content_responses_have_cors_and_no_body(client: FlaskClient, actions: Actions) -> None:
    jake = actions.register()
    slug = actions.article(jake)["slug"]
    comment = actions.comment(jake, slug)
    for path in (f"/api/articles/{slug}/comments/{comment['id']}", f"/api/articles/{slug}"):
        response = client.delete(path, headers=jake.headers)
        assert response.status_code == 204
        assert response.get_data() == b""
        assert_cors(response)


@pytest.mark.parametrize(
    "path",
    [
        "/api/users",
        "/api/user",
        "/api/articles",
        "/api/articles/feed",
        "/api/articles/any-slug/comments/1",
        "/api/profiles/jake/follow",
        "/api/not-a-route",
    ],
)
def test_preflight_is_204_with_cors_on_any_path(client: FlaskClient, path: str) -> None:
    response = client.options(
        path,
        headers={
            "Origin": "https://conduit.example",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.get_data() == b""
    assert_cors(response)
    assert response.headers["Access-Control-Max-Age"] == "600"


@pytest.mark.parametrize(
    ("request_args", "status"),
    [
        ({"method": "GET", "path": "/api/user"}, 401),
        ({"method": "GET", "path": "/api/profiles/nobody"}, 404),
        ({"method": "POST", "path": "/api/users", "json": {"user": {}}}, 422),
        (
            {
                "method": "POST",
                "path": "/api/users/login",
                "json": {"user": {"email": "a@b.co", "password": "x"}},
            },
            401,
        ),
        ({"method": "PUT", "path": "/api/articles/x", "data": "{"}, 401),
    ],
)
def test_errors_carry_cors(client: FlaskClient, request_args: dict[str, Any], status: int) -> None:
    args = dict(request_args)
    response = client.open(args.pop("path"), **args)
    assert_error(response, status)
    assert_cors(response)


def test_unexpected_error_is_a_generic_500(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(session: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(tags, "list_tags", explode)
    response = client.get("/api/tags")
    assert assert_error(response, 500) == ["internal server error"]
    assert b"secret" not in response.get_data()
    assert_cors(response)


def test_database_outage_is_a_retryable_503(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(session: Any) -> Any:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))

    monkeypatch.setattr(tags, "list_tags", unreachable)
    response = client.get("/api/tags")
    assert assert_error(response, 503) == ["the service is temporarily unavailable, please retry"]
    assert response.headers["Retry-After"] == "1"
    assert_cors(response)


def _lost_connection() -> OperationalError:
    return OperationalError("INSERT", {}, Exception("(2013, 'Lost connection')"), False, True)


def test_a_write_that_loses_its_connection_is_a_503_and_is_not_run_again(
    client: FlaskClient, actions: Actions, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    jake = actions.register()
    article = actions.article(jake)
    calls = []

    def cut(*args: Any) -> Any:
        calls.append(args)
        raise _lost_connection()

    monkeypatch.setattr(comments, "add_comment", cut)
    response = client.post(
        f"/api/articles/{article['slug']}/comments",
        json={"comment": {"body": "hi"}},
        headers=jake.headers,
    )
    assert assert_error(response, 503) == ["the service is temporarily unavailable, please retry"]
    assert len(calls) == 1


def test_a_read_that_loses_its_connection_once_is_served(
    client: FlaskClient, actions: Actions, monkeypatch: pytest.MonkeyPatch
) -> None:
    jake = actions.register()
    actions.article(jake, tagList=["dragons"])
    list_tags = tags.list_tags
    calls = []

    def cut_once(session: Any) -> Any:
        calls.append(session)
        if len(calls) == 1:
            raise _lost_connection()
        return list_tags(session)

    monkeypatch.setattr(tags, "list_tags", cut_once)
    response = client.get("/api/tags")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json == {"tags": ["dragons"]}
    assert len(calls) == 2


def test_deeply_nested_json_is_422(client: FlaskClient) -> None:
    response = client.post("/api/users", data="[" * 100_000, content_type="application/json")
    assert assert_error(response, 422) == ["request body must be valid JSON"]
