"""The smoke checks: which function gets which, the events, and that they hold for real.

Every check is also sent, through serverless-wsgi exactly as on Lambda, to the monolith
on a test database: the routes being peeled answer there today with the shapes the
dedicated functions must keep, so a check that the monolith fails is a wrong check.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
import serverless_wsgi
from flask import Flask

from app.core.services.articles import slugify
from app.core.validation import USERNAME_PATTERN
from app.deploy.events import LambdaContext
from app.deploy.hooks import response_problem
from app.deploy.registry import Registry, load_registry, registry_of
from app.deploy.smoke import (
    MISSING_SLUG,
    MISSING_USERNAME,
    MONOLITH_CHECKS,
    SmokeCheck,
    articles_page_shape,
    checks_for,
    error_shape,
    function_checks,
    function_name_of,
    manifest_from_env,
    route_checks,
    smoke_event,
    stamped,
    tags_shape,
)
from app.platform.db import Database
from app.platform.runtime import Runtime
from app.platform.settings import SigningKey
from tests.support.api import TEST_CONFIG, Actions
from tests.support.functions import import_function, runtime_on

REGISTRY = load_registry()
MANIFEST = REGISTRY.manifest()


def test_the_manifest_has_every_dedicated_function_and_the_monolith() -> None:
    assert set(MANIFEST) == {f.name for f in REGISTRY.http_functions} | {"monolith"}
    assert MANIFEST["monolith"]["routes"] == ["$default"]


@pytest.mark.parametrize("logical", sorted(MANIFEST))
def test_functions_are_found_by_name_suffix_or_arn(logical: str) -> None:
    arn = f"arn:aws:lambda:eu-west-1:123456789012:function:conduit-prod-{logical}"
    for name in (f"conduit-prod-{logical}", logical, arn, f"{arn}:Live", f"{arn}:7"):
        found = checks_for(name, MANIFEST)
        assert found is not None, name
        assert found[0] == logical
        assert [c.name for c in found[1]] == [c.name for c in function_checks(MANIFEST[logical])]


def test_the_longest_logical_name_wins() -> None:
    manifest = {"tags": {"routes": ["GET /api/tags"]}, "listTags": {"routes": ["GET /api/x"]}}
    found = checks_for("conduit-prod-listTags", manifest)
    assert found is not None and found[0] == "listTags"


@pytest.mark.parametrize(
    "name",
    [
        "conduit-prod-exportArticles",
        "conduit-prod-xmonolith",
        "conduit-prod-monolithV2",
        "arn:aws:lambda:eu-west-1:123456789012:function:conduit-prod-migrate",
        "",
    ],
)
def test_other_functions_have_no_checks(name: str) -> None:
    assert checks_for(name, MANIFEST) is None


def test_the_manifest_comes_from_the_environment() -> None:
    assert manifest_from_env({"DEDICATED_FUNCTIONS": '{"a": {"routes": []}}'}) == {
        "a": {"routes": []}
    }
    with pytest.raises(LookupError, match="DEDICATED_FUNCTIONS"):
        manifest_from_env({})


def test_function_names_come_out_of_arns() -> None:
    assert function_name_of("arn:aws-cn:lambda:cn-north-1:1:function:f:Live") == "f"
    assert function_name_of("1:function:f") == "f"
    assert function_name_of("f:3") == "f"
    assert function_name_of("f") == "f"


@pytest.mark.parametrize("logical", sorted(MANIFEST))
def test_every_tested_function_has_checks(logical: str) -> None:
    assert function_checks(MANIFEST[logical])


def test_the_monolith_checks_only_what_it_keeps() -> None:
    assert [(c.event["rawPath"], c.status) for c in MONOLITH_CHECKS] == [
        ("/api/users/login", 422),
        ("/api/no-such-route", 404),
        ("/api/user", 401),  # a forged token: the signing key is read and used
        ("/api/user/exports", 401),  # the export settings resolve before the token is read
    ]
    assert {c.event["routeKey"] for c in MONOLITH_CHECKS} == {"$default"}


@pytest.mark.parametrize(
    ("route_key", "path", "query", "status"),
    [
        ("GET /api/tags", "/api/tags", "", 200),
        ("GET /api/articles", "/api/articles", "limit=1", 200),
        ("GET /api/articles/feed", "/api/articles/feed", "", 401),
        ("GET /api/user", "/api/user", "", 401),
        ("GET /api/articles/{slug}", f"/api/articles/{MISSING_SLUG}", "", 404),
        ("GET /api/profiles/{username}", f"/api/profiles/{MISSING_USERNAME}", "", 404),
        ("POST /api/articles/{slug}/favorite", f"/api/articles/{MISSING_SLUG}/favorite", "", 401),
        (
            "DELETE /api/articles/{slug}/comments/{id}",
            f"/api/articles/{MISSING_SLUG}/comments/0",
            "",
            401,
        ),
        ("PUT /api/user", "/api/user", "", 401),
    ],
)
def test_checks_are_derived_from_the_route(
    route_key: str, path: str, query: str, status: int
) -> None:
    [check] = route_checks(route_key)
    assert (check.event["rawPath"], check.event["rawQueryString"], check.status) == (
        path,
        query,
        status,
    )
    assert check.event["routeKey"] == route_key
    assert "body" not in check.event  # a smoke check never sends anything to write
    assert check.also == (() if route_key.startswith("GET") else (422,))


def test_a_parameter_with_no_never_existing_value_gets_no_derived_check() -> None:
    assert route_checks("GET /api/things/{thing}") == ()


def test_an_entry_may_add_its_own_checks() -> None:
    entry = {
        "routes": ["GET /api/articles"],
        "smoke": [
            {"name": "page of two", "path": "/api/articles", "query": "limit=2", "status": 200}
        ],
    }
    checks = function_checks(entry)
    assert [c.name for c in checks] == ["GET /api/articles", "page of two"]
    assert checks[1].event["rawQueryString"] == "limit=2"
    assert checks[1].event["routeKey"] == "GET /api/articles"


def test_the_missing_article_and_profile_can_never_exist() -> None:
    assert slugify(MISSING_SLUG) != MISSING_SLUG  # no title slugifies to it
    assert USERNAME_PATTERN.match(MISSING_USERNAME) is None  # no one can register it


def test_smoke_events_have_the_payload_2_0_shape() -> None:
    event = smoke_event("GET", "/api/articles/abc/comments", query="a=1&a=2&b=")
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/api/articles/abc/comments"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["isBase64Encoded"] is False
    assert "pathParameters" not in event
    assert "body" not in event


def test_smoke_events_carry_the_path_parameters_of_their_route() -> None:
    event = smoke_event("GET", "/api/articles/abc/comments", route="/api/articles/{slug}/comments")
    assert event["routeKey"] == "GET /api/articles/{slug}/comments"
    assert event["pathParameters"] == {"slug": "abc"}
    with pytest.raises(ValueError, match="does not match"):
        smoke_event("GET", "/api/tags", route="/api/articles/{slug}")


def test_stamped_events_get_a_fresh_request_id() -> None:
    original = route_checks("GET /api/tags")[0].event
    first, second = stamped(original), stamped(original)
    assert first["requestContext"]["requestId"] != second["requestContext"]["requestId"]
    assert first["requestContext"]["requestId"].startswith("smoke-")
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


RETIRED = set(REGISTRY.declared("retired"))
# What the monolith still has code for: a retired route's checks run on its function alone.
ALL_CHECKS = [
    pytest.param(check, id=f"{logical}: {check.name}")
    for logical, entry in MANIFEST.items()
    if not set(REGISTRY.get(logical).routes) <= RETIRED
    for check in function_checks(entry)
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
    wrong = SmokeCheck("articles as 404", smoke_event("GET", "/api/articles"), 404, error_shape)
    assert response_problem(_answer_through_serverless_wsgi(app, wrong), wrong) is not None


@pytest.mark.parametrize("function", REGISTRY.switched, ids=[f.name for f in REGISTRY.switched])
def test_every_check_passes_on_the_dedicated_function(
    function: Any, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = import_function(str(function.module_name))
    monkeypatch.setattr(module, "runtime", runtime_on(database))
    for check in function_checks(MANIFEST[function.name]):
        event = json.loads(json.dumps(check.event))
        answer = module.handler(event, LambdaContext(function_name=f"conduit-test-{function.name}"))
        assert response_problem(json.dumps(answer).encode(), check) is None, check.name


def _registry(**functions: Any) -> Registry:
    return registry_of({"functions": functions})


def test_a_function_the_registry_finds_gets_checks_without_naming_it_anywhere() -> None:
    registry = _registry(
        monolith={"handler": "wsgi_handler.handler", "events": [{"httpApi": "*"}]},
        favoriteArticle={
            "handler": "wsgi_handler.handler",
            "events": [{"httpApi": "POST /api/articles/{slug}/favorite"}],
        },
    )
    found = checks_for("conduit-prod-favoriteArticle", registry.manifest())
    assert found is not None
    assert [c.status for c in found[1]] == [401]


# --- features -------------------------------------------------------------------------

SIGNING = [f for f in REGISTRY.switched if "signingKey" in f.uses]


TOKEN_READERS = ("runtime.writes(", "runtime.viewer_id(", "runtime.caller_id(", "runtime.required(")


@pytest.mark.parametrize("function", REGISTRY.switched, ids=[f.name for f in REGISTRY.switched])
def test_a_function_declares_the_signing_key_exactly_when_its_code_reads_tokens(
    function: Any,
) -> None:
    """Otherwise its role could not read the key, and no smoke check would make it try."""
    source = inspect.getsource(import_function(str(function.module_name)))
    reads_tokens = any(call in source for call in TOKEN_READERS)
    assert ("signingKey" in function.uses) == reads_tokens


@pytest.mark.parametrize("function", SIGNING, ids=[f.name for f in SIGNING])
def test_each_feature_a_function_uses_is_exercised_by_a_check(function: Any) -> None:
    checks = function_checks(MANIFEST[function.name])
    forged = [c for c in checks if "forged token" in c.name]
    assert len(forged) == 1
    assert forged[0].status == 401
    assert forged[0].event["headers"]["authorization"].startswith("Token ey")


def test_a_function_without_features_gets_no_feature_check() -> None:
    plain = [f for f in REGISTRY.switched if not f.uses]
    assert plain, "listTags reads no token"
    for function in plain:
        assert not [c for c in function_checks(MANIFEST[function.name]) if "forged" in c.name]


@pytest.mark.parametrize("function", SIGNING, ids=[f.name for f in SIGNING])
def test_a_signing_key_the_function_cannot_read_fails_its_deployment(
    function: Any, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key named by JWT_SECRET_ID cannot be read (no such secret, no right to it): the
    smoke checks fail, so CodeDeploy rolls back before any user sends a token."""

    def unreadable(name: str) -> str:
        raise RuntimeError(f"AccessDeniedException: not allowed to read {name}")

    module = import_function(str(function.module_name))
    runtime = runtime_on(database)
    broken = runtime.settings._replace(
        signing_key=SigningKey(secret_id="conduit/jwt", fetch=unreadable)
    )
    monkeypatch.setattr(module, "runtime", Runtime(broken, database))
    failed = []
    for check in function_checks(MANIFEST[function.name]):
        answer = module.handler(
            json.loads(json.dumps(check.event)),
            LambdaContext(function_name=f"conduit-test-{function.name}"),
        )
        if response_problem(json.dumps(answer).encode(), check) is not None:
            failed.append((check.name, answer["statusCode"]))
    assert failed == [(f"{function.route.key}: the signing key refuses a forged token", 500)]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("EXPORTS_MODE", "carrier-pigeon"), ("EXPORTS_URL_TTL_SECONDS", "-1")],
)
def test_a_bad_export_setting_fails_the_monoliths_deployment(
    database: Database, variable: str, value: str
) -> None:
    """The monolith is the one HTTP function with the export feature: its checks make it
    resolve the EXPORTS_* settings, so a bad one is a failed check, not a user's 500."""
    from legacy import create_app

    broken = create_app({**TEST_CONFIG, variable: value}, database=database)
    answers = [(check, _answer_through_serverless_wsgi(broken, check)) for check in MONOLITH_CHECKS]
    failed = [
        (check.name, json.loads(answer)["statusCode"])
        for check, answer in answers
        if response_problem(answer, check) is not None
    ]
    assert failed == [("exports: the settings resolve, then no token is refused", 500)]
