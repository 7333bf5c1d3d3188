"""What the parity tests share: the seeded world (the monolith on it, as serverless-wsgi
runs it on Lambda), the callers' credentials, the cases, and how two answers are compared.
Its fixtures are in tests/functional/parity/conftest.py."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from flask import Flask

from app.platform.db import Database
from tests.support.api import Account, Actions, delete_user, make_token, user_id_of
from tests.support.events import load_event
from tests.support.functions import BY_NAME
from tests.support.lambdas import LambdaContext, invoke


@dataclass(frozen=True)
class World:
    """jake and jane write; alice reads. jane follows jake, alice follows jane; alice
    favorites one article of each; jane and alice comment on jake's first article.
    ghost's account was deleted after it got its token."""

    monolith: Flask
    database: Database
    accounts: dict[str, Account]
    slugs: dict[str, str]

    def token(self, name: str) -> str:
        return self.accounts[name].token


def seed(actions: Actions, database: Database) -> tuple[dict[str, Account], dict[str, str]]:
    accounts = {name: actions.register(name) for name in ("jake", "jane", "alice", "ghost")}
    jake, jane, alice = accounts["jake"], accounts["jane"], accounts["alice"]
    slugs = {
        "dragon": actions.article(jake, tagList=["dragons", "training"])["slug"],
        "second": actions.article(jake, title="Second dragon", tagList=["dragons"])["slug"],
        "cafe": actions.article(jake, title="Café society", tagList=["café", "hello world"])[
            "slug"
        ],
        "jane": actions.article(jane, title="Jane's story", tagList=["angular", "x,y", "a+b"])[
            "slug"
        ],
        "quiet": actions.article(jane, title="Quiet post")["slug"],
    }
    actions.follow(jane, "jake")
    actions.follow(alice, "jane")
    actions.favorite(alice, slugs["dragon"])
    actions.favorite(alice, slugs["jane"])
    actions.favorite(jane, slugs["second"])
    actions.comment(jane, slugs["dragon"], "Nice!")
    actions.comment(alice, slugs["dragon"], "Thanks for the tips 🐉")
    delete_user(database, "ghost")
    return accounts, slugs


# --- credentials ----------------------------------------------------------------------

Auth = Callable[[World], str | None]

AUTHS: dict[str, Auth] = {
    "anonymous": lambda world: None,
    "blank-header": lambda world: "   ",
    "jake": lambda world: f"Token {world.token('jake')}",
    "jane-bearer": lambda world: f"Bearer {world.token('jane')}",
    "alice-lowercase-scheme": lambda world: f"token {world.token('alice')}",
    "garbage-token": lambda world: "Token not.a.jwt",
    "wrong-secret": lambda world: "Token " + make_token("1", secret="wrong-secret-" + "z" * 32),
    "expired": lambda world: (
        "Token " + make_token(str(user_id_of(world.accounts["jake"])), expires_in=-60)
    ),
    "deleted-account": lambda world: f"Token {world.token('ghost')}",
    "basic-scheme": lambda world: "Basic dXNlcjpwYXNz",
    "scheme-only": lambda world: "Token",
    "token-and-extra": lambda world: f"Token {world.token('jake')} extra",
    "huge-subject": lambda world: "Token " + make_token("9" * 30),
    "superscript-subject": lambda world: "Token " + make_token("²"),
}
ANONYMOUS = {"anonymous", "blank-header"}
VALID = {"jake", "jane-bearer", "alice-lowercase-scheme"}


# --- the corpus -----------------------------------------------------------------------


# The status the monolith answers; by backend where they differ.
Status = int | dict[str, int]
# MariaDB compares strings PAD SPACE, even in utf8mb4_bin: "jake " = "jake".
PAD_SPACE: Status = {"sqlite": 404, "mysql": 200}


@dataclass(frozen=True)
class Case:
    function: str
    label: str
    status: Status
    # As sent on the wire; {dragon}, {jane}, ... stand for the world's slugs.
    path: str
    query: str = ""
    auth: str = "anonymous"

    @property
    def id(self) -> str:
        return f"{self.function}:{self.label}"

    def status_on(self, backend: str) -> int:
        return self.status if isinstance(self.status, int) else self.status[backend]

    def event(self, world: World) -> dict[str, Any]:
        header = AUTHS[self.auth](world)
        return load_event(
            BY_NAME[self.function].event,
            rawPath=self.path.format(**world.slugs),
            rawQueryString=self.query,
            headers={"authorization": header},
        )


# What each function does with credentials: "none" (never reads them), "optional" or
# "required". Keyed by handler module, as the sample events are. A retired route (listed in
# custom.migration.retired) has no monolith code left to compare with: its function is
# held by the behaviour tests (tests/functional/api) alone.
AUTH_OF = {
    "list_articles": "optional",
    "feed": "required",
    "get_article": "optional",
    "list_comments": "optional",
    "get_profile": "optional",
    "get_current_user": "required",
}


def auth_status(function: str, auth: str) -> int:
    if auth in VALID:
        return 200
    if auth in ANONYMOUS:
        return 401 if AUTH_OF[function] == "required" else 200
    # Sent but invalid: refused even where credentials are optional; ignored where
    # none are read (tags).
    return 200 if AUTH_OF[function] == "none" else 401


HAPPY_PATHS = {
    "list_articles": "/api/articles",
    "feed": "/api/articles/feed",
    "get_article": "/api/articles/{dragon}",
    "list_comments": "/api/articles/{dragon}/comments",
    "get_profile": "/api/profiles/jake",
    "get_current_user": "/api/user",
}


# --- comparing answers ----------------------------------------------------------------


def headers_of(response: dict[str, Any]) -> dict[str, str]:
    """Header names lower-cased; Content-Length left out (API Gateway sets its own)."""
    return {
        name.lower(): value
        for name, value in (response.get("headers") or {}).items()
        if name.lower() != "content-length"
    }


def assert_same_answer(monolith: dict[str, Any], function: dict[str, Any]) -> None:
    assert function["statusCode"] == monolith["statusCode"]
    assert headers_of(function) == headers_of(monolith)
    assert function["isBase64Encoded"] is monolith["isBase64Encoded"] is False
    assert json.loads(function["body"]) == json.loads(monolith["body"])
    assert function["body"] == monolith["body"]


def both(
    monolith_app: Any, module: ModuleType, event: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    expected = invoke(monolith_app, copy.deepcopy(event))
    actual = module.handler(
        copy.deepcopy(event), LambdaContext(function_name=f"conduit-test-{module.__name__}")
    )
    return expected, actual


def assert_case(case: Case, world: World, functions: dict[str, ModuleType], backend: str) -> None:
    """The case's request, sent to the monolith and to the function: same answer."""
    expected, actual = both(world.monolith, functions[case.function], case.event(world))
    assert expected["statusCode"] == case.status_on(backend), expected.get("body")
    assert_same_answer(expected, actual)
