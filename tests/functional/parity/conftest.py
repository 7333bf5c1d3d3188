"""Fixtures for the parity tests: one seeded world per module and backend, the monolith
on it and the dedicated functions on the same database."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest
from sqlalchemy import Engine

from app.platform.db import Database
from legacy import create_app
from tests.support.api import TEST_CONFIG, Actions
from tests.support.functions import FUNCTIONS, import_function, runtime_on
from tests.support.parity import World, seed


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
