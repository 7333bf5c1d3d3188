"""Peeled routes answer exactly as the monolith did.

Each request of the corpus is one HTTP API v2 event, sent as it is to the monolith
(through serverless-wsgi, as `wsgi_handler.handler` runs it on Lambda) and to the route's
dedicated function, on the same database. The answers must agree on status code, headers
(Content-Length aside: API Gateway sets it) and the body, byte for byte.

Each case also states the status it expects, so a corpus that went all-404 would fail.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

import app.core.services.articles
import app.core.services.comments
import app.core.services.profiles
from app.core.tokens import TokenIssuer
from app.platform.db import Database
from legacy import create_app
from tests.support.api import MYSQL_SERVER_URL, TEST_CONFIG
from tests.support.events import load_event
from tests.support.functions import BY_NAME, import_function, runtime_on
from tests.support.lambdas import LambdaContext, invoke
from tests.support.parity import (
    AUTH_OF,
    AUTHS,
    HAPPY_PATHS,
    PAD_SPACE,
    Case,
    Status,
    World,
    assert_case,
    assert_same_answer,
    auth_status,
    both,
    headers_of,
)

AUTH_CASES = [
    Case(function, f"auth-{auth}", auth_status(function, auth), path, auth=auth)
    for function, path in HAPPY_PATHS.items()
    for auth in AUTHS
]

LIST_QUERIES = [
    # (label, raw query string, status)
    ("no-query", "", 200),
    ("limit", "limit=2", 200),
    ("limit-offset", "limit=2&offset=1", 200),
    ("offset-past-end", "offset=100", 200),
    ("limit-above-max", "limit=1000", 200),
    ("limit-blank", "limit=", 200),
    ("offset-blank", "offset=", 200),
    ("limit-padded", "limit=%202%20", 200),
    ("limit-plus-as-space", "limit=+3", 200),
    ("limit-negative-zero", "limit=-0", 422),
    ("limit-zero", "limit=0", 422),
    ("limit-negative", "limit=-1", 422),
    ("limit-word", "limit=abc", 422),
    ("limit-decimal", "limit=1.5", 422),
    ("limit-exponent", "limit=1e3", 422),
    ("limit-double-sign", "limit=--5", 422),
    ("limit-huge-is-clamped", "limit=99999999999999999999", 200),
    ("offset-far-past-end", "offset=1000000000000", 200),
    ("offset-beyond-the-database", "offset=99999999999999999999", 422),
    ("limit-arabic-digit", "limit=%D9%A3", 422),
    ("offset-negative", "offset=-1", 422),
    ("both-invalid", "limit=abc&offset=-2", 422),
    ("limit-repeated-first-wins", "limit=1&limit=abc", 200),
    ("limit-repeated-invalid-first", "limit=abc&limit=1", 422),
    ("semicolon-is-not-a-separator", "limit=1;offset=2", 422),
    ("tag", "tag=dragons", 200),
    ("tag-blank", "tag=", 200),
    ("tag-without-equals", "tag", 200),
    ("tag-unknown", "tag=nope", 200),
    ("tag-repeated-first-wins", "tag=angular&tag=dragons", 200),
    ("tag-comma-joined", "tag=angular,dragons", 200),
    ("tag-with-comma", "tag=x%2Cy", 200),
    ("tag-with-comma-raw", "tag=x,y", 200),
    ("tag-percent-space", "tag=hello%20world", 200),
    ("tag-plus-space", "tag=hello+world", 200),
    ("tag-encoded-plus", "tag=a%2Bb", 200),
    ("tag-unicode-encoded", "tag=caf%C3%A9", 200),
    ("tag-unicode-raw", "tag=café", 200),
    ("tag-invalid-utf8", "tag=%FF", 200),
    ("tag-bad-escape", "tag=%ZZ", 200),
    ("tag-key-case", "TAG=dragons", 200),
    ("empty-pairs", "&&tag=dragons&", 200),
    ("author", "author=jane", 200),
    ("author-blank", "author=", 200),
    ("author-unknown", "author=nobody", 200),
    ("author-repeated", "author=jane&author=jake", 200),
    ("author-case", "author=JAKE", 200),
    ("favorited", "favorited=alice", 200),
    ("favorited-blank", "favorited=", 200),
    ("favorited-unknown", "favorited=nobody", 200),
    ("all-filters", "tag=dragons&author=jake&favorited=alice", 200),
    ("all-filters-paged", "tag=dragons&author=jake&favorited=jane&limit=1&offset=0", 200),
    ("filters-and-invalid-page", "tag=dragons&limit=0", 422),
]

LIST_CASES = [
    Case("list_articles", f"{label}-{auth}", status, "/api/articles", query, auth)
    for label, query, status in LIST_QUERIES
    for auth in ("anonymous", "alice-lowercase-scheme")
] + [
    # Credentials are checked before the page: a bad token with a bad limit is a 401.
    Case(
        "list_articles", "bad-token-and-bad-limit", 401, "/api/articles", "limit=0", "garbage-token"
    ),
]

FEED_CASES = [
    Case("feed", f"{label}-{auth}", status, "/api/articles/feed", query, auth)
    for label, query, status in [
        ("no-query", "", 200),
        ("limit", "limit=1", 200),
        ("offset", "offset=1", 200),
        ("limit-zero", "limit=0", 422),
        ("limit-word-repeated", "limit=x&limit=1", 422),
        ("filters-are-ignored", "tag=angular&author=nobody", 200),
    ]
    for auth in ("jane-bearer", "alice-lowercase-scheme", "jake")
] + [
    Case("feed", "anonymous-and-bad-limit", 401, "/api/articles/feed", "limit=0"),
    Case(
        "feed",
        "deleted-account-and-bad-limit",
        401,
        "/api/articles/feed",
        "limit=0",
        "deleted-account",
    ),
]

SLUG_PATHS: list[tuple[str, str, Status]] = [
    # (label, raw path below /api/articles/, status)
    ("dragon", "{dragon}", 200),
    ("second", "{second}", 200),
    ("cafe", "{cafe}", 200),
    ("jane", "{jane}", 200),
    ("quiet", "{quiet}", 200),
    ("unknown", "no-such-article", 404),
    ("upper-case", "HOW-TO-TRAIN-YOUR-DRAGON", 404),
    ("encoded-slug-chars", "how%2Dto%2Dtrain%2Dyour%2Ddragon", 200),
    ("percent-space", "hello%20world", 404),
    ("decoded-space", "hello world", 404),
    ("unicode-encoded", "caf%C3%A9", 404),
    ("unicode-decoded", "café", 404),
    ("emoji", "%F0%9F%90%89", 404),
    ("quote-and-backslash", "a%22b%5Cc", 404),
    ("decoded-quote", 'a"b', 404),
    ("percent-literal", "100%25", 404),
    ("invalid-utf8", "%FF", 404),
    ("question-mark-encoded", "a%3Fb", 404),
    ("single-quote", "it's", 404),
    ("trailing-space", "{dragon}%20", PAD_SPACE),
]

ARTICLE_CASES = [
    Case("get_article", f"{label}-{auth}", status, f"/api/articles/{path}", auth=auth)
    for label, path, status in SLUG_PATHS
    for auth in ("anonymous", "alice-lowercase-scheme")
] + [
    Case("get_article", "query-is-ignored", 200, "/api/articles/{dragon}", "limit=abc&tag="),
    Case("get_article", "unknown-and-bad-token", 401, "/api/articles/nope", auth="garbage-token"),
]

COMMENT_CASES = [
    Case("list_comments", f"{label}-{auth}", status, f"/api/articles/{path}/comments", auth=auth)
    for label, path, status in SLUG_PATHS
    for auth in ("anonymous", "jake")
]

PROFILE_NAMES: list[tuple[str, str, Status]] = [
    ("jake", "jake", 200),
    ("jane", "jane", 200),
    ("alice", "alice", 200),
    ("deleted", "ghost", 404),
    ("unknown", "nobody", 404),
    ("case-differs", "Jake", 404),
    ("encoded", "%6A%61%6B%65", 200),
    ("trailing-space", "jake%20", PAD_SPACE),
    ("unicode", "j%C3%A4ke", 404),
    ("dots-and-dashes", "j.a-k_e", 404),
    ("emoji-decoded", "🐉", 404),
]

PROFILE_CASES = [
    Case("get_profile", f"{label}-{auth}", status, f"/api/profiles/{name}", auth=auth)
    for label, name, status in PROFILE_NAMES
    for auth in ("anonymous", "jane-bearer", "alice-lowercase-scheme")
]

CASES = AUTH_CASES + LIST_CASES + FEED_CASES + ARTICLE_CASES + COMMENT_CASES + PROFILE_CASES


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_same_answer(
    case: Case, world: World, functions: dict[str, ModuleType], backend: str
) -> None:
    assert_case(case, world, functions, backend)


def test_corpus_names_only_switched_functions() -> None:
    """Cases name functions the registry says run new code (that every switched function
    has cases is a rule of `make migration-status`)."""
    assert {case.function for case in CASES} <= set(BY_NAME)
    assert set(AUTH_OF) <= set(BY_NAME)
    assert len({case.id for case in CASES}) == len(CASES)


# --- failures -------------------------------------------------------------------------

SERVICES = {
    "list_articles": (app.core.services.articles, "list_articles"),
    "feed": (app.core.services.articles, "feed"),
    "get_article": (app.core.services.articles, "get_article"),
    "list_comments": (app.core.services.comments, "list_comments"),
    "get_profile": (app.core.services.profiles, "get_profile"),
}


def failing(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("secret detail: password=hunter2")


@pytest.mark.parametrize("function", sorted(SERVICES))
def test_same_answer_when_the_service_fails(
    function: str,
    world: World,
    functions: dict[str, ModuleType],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module, name = SERVICES[function]
    monkeypatch.setattr(module, name, failing)
    case = Case(function, "service-fails", 500, HAPPY_PATHS[function], auth="jake")
    expected, actual = both(world.monolith, functions[function], case.event(world))
    assert expected["statusCode"] == 500
    assert "hunter2" not in actual["body"]
    assert_same_answer(expected, actual)


def losing_the_connection(times: int, service: Callable[..., Any]) -> Callable[..., Any]:
    """`service`, whose first `times` calls fail as a connection cut mid-query does."""
    calls = {"n": 0}

    def serve(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= times:
            raise OperationalError(
                "SELECT 1", {}, Exception("(2013, 'Lost connection')"), False, True
            )
        return service(*args, **kwargs)

    return serve


@pytest.mark.parametrize("function", sorted(SERVICES))
def test_a_read_that_loses_its_connection_once_is_served(
    function: str,
    world: World,
    functions: dict[str, ModuleType],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module, name = SERVICES[function]
    service = getattr(module, name)
    event = Case(function, "lost-once", 200, HAPPY_PATHS[function], auth="jake").event(world)

    def answers(losses: int) -> tuple[dict[str, Any], dict[str, Any]]:
        monkeypatch.setattr(module, name, losing_the_connection(losses, service))
        expected = invoke(world.monolith, copy.deepcopy(event))
        monkeypatch.setattr(module, name, losing_the_connection(losses, service))
        actual = functions[function].handler(copy.deepcopy(event), LambdaContext())
        return expected, actual

    expected, actual = answers(1)
    assert expected["statusCode"] == 200, expected
    assert_same_answer(expected, actual)
    # Lost on the second attempt too: both give up with the same 503.
    expected, actual = answers(2)
    assert expected["statusCode"] == 503, expected
    assert_same_answer(expected, actual)


@pytest.fixture
def unreachable_database() -> Iterator[Database]:
    """A MySQL URL on 127.0.0.1 where nothing listens: every connection is refused."""
    url = make_url(MYSQL_SERVER_URL).set(host="127.0.0.1", port=1, database="conduit")
    database = Database.from_url(url.render_as_string(hide_password=False))
    yield database
    database.dispose()


@pytest.mark.parametrize(
    ("function", "auth", "status"),
    [
        ("list_articles", "anonymous", 503),
        ("feed", "jake", 503),
        ("feed", "anonymous", 401),
        ("get_article", "anonymous", 503),
        ("get_article", "jake", 503),
        ("get_article", "garbage-token", 401),
        ("list_comments", "anonymous", 503),
        ("get_profile", "anonymous", 503),
    ],
)
def test_same_answer_when_the_database_is_down(
    function: str,
    auth: str,
    status: int,
    unreachable_database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monolith = create_app(TEST_CONFIG, database=unreachable_database)
    settings = monolith.extensions["conduit"].settings
    module = import_function(function)
    monkeypatch.setattr(module, "runtime", runtime_on(unreachable_database, settings))
    # No world here: a token is checked for its signature before the account is looked up.
    token = TokenIssuer(settings.jwt_secret, 3600).issue(1)
    header = {"anonymous": None, "jake": f"Token {token}", "garbage-token": "Token x.y.z"}[auth]
    event = load_event(
        BY_NAME[function].event,
        rawPath=HAPPY_PATHS[function].format(dragon="how-to-train-your-dragon"),
        headers={"authorization": header},
    )
    expected, actual = both(monolith, module, event)
    assert expected["statusCode"] == status
    if status == 503:
        assert headers_of(actual)["retry-after"] == "1"
    assert_same_answer(expected, actual)
