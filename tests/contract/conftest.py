"""Fixtures for the contract tests: one seeded world per backend, the monolith on it (as
serverless-wsgi runs it on Lambda) and the dedicated functions on the same database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType

import pytest
from flask import Flask
from sqlalchemy import Engine

from app.platform.db import Database
from legacy import create_app
from tests.api.helpers import delete_user
from tests.conftest import TEST_CONFIG, Account, Actions
from tests.functions.support import FUNCTIONS, import_function, runtime_on


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


@pytest.fixture(scope="module")
def world(engine: Engine) -> Iterator[World]:
    """Seeded once per module and backend: every request in the corpus only reads."""
    connection = engine.connect()
    outer = connection.begin()
    try:
        database = Database(connection, join_savepoint=True)
        monolith = create_app(TEST_CONFIG, database=database)
        accounts, slugs = seed(Actions(monolith.test_client()), database)
        yield World(monolith, database, accounts, slugs)
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def functions(world: World, monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    """Every dedicated function's module, its runtime bound to the world's database and
    to the monolith's own settings."""
    settings = world.monolith.extensions["conduit"].settings
    modules = {}
    for function in FUNCTIONS:
        module = import_function(function.name)
        monkeypatch.setattr(module, "runtime", runtime_on(world.database, settings))
        modules[function.name] = module
    return modules
