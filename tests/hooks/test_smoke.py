"""The smoke checks: which function gets which, the events, and that they hold for real.

Every check is also sent, through serverless-wsgi exactly as on Lambda, to the monolith
on a test database: the routes being peeled answer there today with the shapes the
dedicated functions must keep, so a check that the monolith fails is a wrong check.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
import serverless_wsgi
from flask import Flask

from app.core.services.articles import slugify
from app.core.validation import USERNAME_PATTERN
from app.functions.deploy_hooks import response_problem
from app.functions.smoke import (
    MISSING_SLUG,
    MISSING_USERNAME,
    SMOKE_CHECKS,
    SmokeCheck,
    articles_page_shape,
    checks_for,
    error_shape,
    function_name_of,
    http_event,
    stamped,
    tags_shape,
)
from app.platform.db import Database
from tests.conftest import Actions
from tests.functions.support import import_function, runtime_on
from tests.lambda_support import LambdaContext

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "app" / "functions"

REQUIRED = {
    "monolith",
    "listTags",
    "listArticles",
    "getFeed",
    "getArticle",
    "listComments",
    "getProfile",
    "getCurrentUser",
}


@pytest.mark.parametrize(
    ("name", "logical"),
    [
        ("conduit-prod-monolith", "monolith"),
        ("conduit-dev-listTags", "listTags"),
        ("conduit-staging-listArticles", "listArticles"),
        ("conduit-prod-getFeed", "getFeed"),
        ("conduit-prod-getCurrentUser", "getCurrentUser"),
        ("conduit-prod-getArticle", "getArticle"),
        ("conduit-prod-listComments", "listComments"),
        ("conduit-prod-getProfile", "getProfile"),
        ("getProfile", "getProfile"),
        ("arn:aws:lambda:eu-west-1:123456789012:function:conduit-prod-listTags", "listTags"),
        ("arn:aws:lambda:eu-west-1:123456789012:function:conduit-prod-listTags:Live", "listTags"),
        ("123456789012:function:conduit-prod-getArticle:7", "getArticle"),
        ("conduit-prod-getArticle:Live", "getArticle"),
    ],
)
def test_functions_are_found_by_name_suffix_or_arn(name: str, logical: str) -> None:
    found = checks_for(name)
    assert found is not None
    assert found[0] == logical
    assert found[1] is SMOKE_CHECKS[logical]


@pytest.mark.parametrize(
    "name",
    [
        "conduit-prod-exportArticles",
        "conduit-prod-xlistTags",
        "conduit-prod-listTagsV2",
        "conduit-prod-listtags",
        "conduit-prod-newsfeed",
        "arn:aws:lambda:eu-west-1:123456789012:function:conduit-prod-migrate",
        "",
    ],
)
def test_other_functions_have_no_checks(name: str) -> None:
    assert checks_for(name) is None


def test_function_names_come_out_of_arns() -> None:
    assert function_name_of("arn:aws-cn:lambda:cn-north-1:1:function:f:Live") == "f"
    assert function_name_of("1:function:f") == "f"
    assert function_name_of("f:3") == "f"
    assert function_name_of("f") == "f"


def test_every_function_being_peeled_has_checks() -> None:
    assert set(SMOKE_CHECKS) >= REQUIRED
    assert all(SMOKE_CHECKS[name] for name in SMOKE_CHECKS)


def test_the_monolith_checks_tags_articles_and_a_missing_article() -> None:
    checks = SMOKE_CHECKS["monolith"]
    assert [(c.event["rawPath"], c.event["rawQueryString"], c.status) for c in checks] == [
        ("/api/tags", "", 200),
        ("/api/articles", "limit=1", 200),
        (f"/api/articles/{MISSING_SLUG}", "", 404),
    ]
    assert {c.event["routeKey"] for c in checks} == {"$default"}


@pytest.mark.parametrize(
    ("logical", "route_key", "path", "status"),
    [
        ("listTags", "GET /api/tags", "/api/tags", 200),
        ("listArticles", "GET /api/articles", "/api/articles", 200),
        ("getFeed", "GET /api/articles/feed", "/api/articles/feed", 401),
        ("getArticle", "GET /api/articles/{slug}", f"/api/articles/{MISSING_SLUG}", 404),
        (
            "listComments",
            "GET /api/articles/{slug}/comments",
            f"/api/articles/{MISSING_SLUG}/comments",
            404,
        ),
        ("getProfile", "GET /api/profiles/{username}", f"/api/profiles/{MISSING_USERNAME}", 404),
    ],
)
def test_peeled_functions_get_their_own_route(
    logical: str, route_key: str, path: str, status: int
) -> None:
    [check] = SMOKE_CHECKS[logical]
    assert (check.event["routeKey"], check.event["rawPath"], check.status) == (
        route_key,
        path,
        status,
    )
    assert check.event["requestContext"]["routeKey"] == route_key


def test_the_missing_article_and_profile_can_never_exist() -> None:
    assert slugify(MISSING_SLUG) != MISSING_SLUG  # no title slugifies to it
    assert USERNAME_PATTERN.match(MISSING_USERNAME) is None  # no one can register it


def test_http_events_have_the_payload_2_0_shape() -> None:
    event = http_event("GET", "/api/articles/abc/comments", query="a=1&a=2&b=", route=None)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/api/articles/abc/comments"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["requestContext"]["http"]["path"] == "/api/articles/abc/comments"
    assert event["requestContext"]["requestId"]
    assert event["isBase64Encoded"] is False
    assert "pathParameters" not in event
    assert "body" not in event


def test_http_events_carry_the_path_parameters_of_their_route() -> None:
    event = http_event("GET", "/api/articles/abc/comments", route="/api/articles/{slug}/comments")
    assert event["routeKey"] == "GET /api/articles/{slug}/comments"
    assert event["pathParameters"] == {"slug": "abc"}
    assert "queryStringParameters" not in event
    with pytest.raises(ValueError, match="does not match"):
        http_event("GET", "/api/tags", route="/api/articles/{slug}")


def test_stamped_events_get_a_fresh_request_id() -> None:
    original = SMOKE_CHECKS["listTags"][0].event
    first, second = stamped(original), stamped(original)
    assert first["requestContext"]["requestId"] != second["requestContext"]["requestId"]
    assert original["requestContext"]["requestId"] == "smoke-test"
    assert first["rawPath"] == original["rawPath"]


@pytest.mark.parametrize(
    ("shape", "body"),
    [
        (tags_shape, {"tags": None}),
        (tags_shape, {"tags": ["a", 1]}),
        (tags_shape, ["a"]),
        (error_shape, {"errors": {"body": []}}),
        (error_shape, {"errors": {"body": "not found"}}),
        (error_shape, {"errors": ["not found"]}),
        (error_shape, {"message": "Not Found"}),
        (articles_page_shape(1), {"articles": [], "articlesCount": True}),
        (articles_page_shape(1), {"articles": {}, "articlesCount": 0}),
        (articles_page_shape(1), {"articles": [{"slug": "a"}], "articlesCount": 1}),
        (articles_page_shape(1), {"articles": [], "articlesCount": 0.0}),
        (articles_page_shape(1), {"articlesCount": 0}),
    ],
)
def test_shapes_reject_wrong_bodies(shape: Any, body: Any) -> None:
    assert isinstance(shape(body), str)


def test_the_page_shape_holds_the_limit() -> None:
    article = {"slug": "a", "author": {}, "tagList": []}
    assert articles_page_shape(1)({"articles": [article], "articlesCount": 5}) is None
    assert articles_page_shape(1)({"articles": [article, article], "articlesCount": 5})
    assert articles_page_shape(1)({"articles": [article], "articlesCount": 0})


ALL_CHECKS = [
    pytest.param(check, id=f"{logical}: {check.name}")
    for logical, checks in SMOKE_CHECKS.items()
    for check in checks
]


def _answer_through_serverless_wsgi(app: Flask, check: SmokeCheck) -> bytes:
    answer = serverless_wsgi.handle_request(app, json.loads(json.dumps(check.event)), None)
    return json.dumps(answer).encode()


@pytest.mark.parametrize("check", ALL_CHECKS)
def test_every_check_passes_on_the_monolith_with_an_empty_database(
    app: Flask, check: SmokeCheck
) -> None:
    assert response_problem(_answer_through_serverless_wsgi(app, check), check) is None


@pytest.mark.parametrize("check", ALL_CHECKS)
def test_every_check_passes_on_the_monolith_with_data(
    app: Flask, actions: Actions, check: SmokeCheck
) -> None:
    jake = actions.register()
    first = actions.article(jake, tagList=["dragons"])
    actions.article(jake, title="Second", tagList=["angular"])
    actions.comment(jake, first["slug"])
    assert response_problem(_answer_through_serverless_wsgi(app, check), check) is None


def test_a_check_fails_when_the_monolith_answers_otherwise(app: Flask) -> None:
    wrong = SmokeCheck("tags as 404", http_event("GET", "/api/tags"), 404, error_shape)
    assert response_problem(_answer_through_serverless_wsgi(app, wrong), wrong) is not None


# The dedicated functions being peeled (app/functions/<module>.py), by logical name.
DEDICATED = {
    "listTags": "list_tags",
    "listArticles": "list_articles",
    "getFeed": "feed",
    "getArticle": "get_article",
    "listComments": "list_comments",
    "getProfile": "get_profile",
}


@pytest.mark.parametrize(("logical", "module"), DEDICATED.items(), ids=DEDICATED.keys())
def test_every_check_passes_on_the_dedicated_function(
    logical: str, module: str, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    function = import_function(module)
    monkeypatch.setattr(function, "runtime", runtime_on(database))
    for check in SMOKE_CHECKS[logical]:
        event = json.loads(json.dumps(check.event))
        answer = function.handler(event, LambdaContext(function_name=f"conduit-test-{logical}"))
        assert response_problem(json.dumps(answer).encode(), check) is None, check.name


def _http_functions() -> list[str]:
    """Logical names of the HTTP functions in app/functions, from their docstrings."""
    names = []
    for path in sorted(FUNCTIONS_DIR.glob("*.py")):
        docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
        match = re.match(r"Lambda `(\w+)`: (GET|POST|PUT|DELETE) /", docstring)
        if match:
            names.append(match.group(1))
    return names


def test_every_http_function_in_the_code_has_checks() -> None:
    names = _http_functions()
    assert names, "no HTTP function found in app/functions: has the docstring convention changed?"
    assert [name for name in names if checks_for(f"conduit-prod-{name}") is None] == []
