"""Fixtures for the whole suite (helpers live in tests/support, fixtures here).

Four kinds of test, one folder each: unit/ (no I/O at all), functional/ (the monolith and
the functions' handlers, on SQLite or MariaDB), integration/ (MariaDB faults, moto, the
packaged templates), e2e/ (servers, newman, the fuzz gate). `make test-fast` runs unit/
and functional/ on SQLite; `make test` runs everything on both databases.

The database-backed tests run once per backend named in CONDUIT_TEST_DATABASES
(`sqlite`, `mysql`; `make test` runs both). Each backend gets a fresh, migrated
database for the session; each test runs inside a transaction that is rolled back.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text

from app.platform.db import Database, create_db_engine
from app.platform.schema import upgrade
from legacy import create_app
from tests.support.api import BACKENDS, MYSQL_SERVER_URL, TEST_CONFIG, Actions
from tests.support.routing import RoutedClient

pytest_plugins = ["tests.support.aws"]


@pytest.fixture(scope="session")
def fresh_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A factory of empty databases on a backend, dropped at the end of the session."""
    created: list[str] = []
    server = create_engine(MYSQL_SERVER_URL) if "mysql" in BACKENDS else None

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / 'conduit.db'}"
        if backend == "mysql":
            assert server is not None, "mysql is not in CONDUIT_TEST_DATABASES"
            name = f"conduit_test_{uuid.uuid4().hex[:12]}"
            with server.connect() as conn:
                conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            created.append(name)
            return f"{MYSQL_SERVER_URL}/{name}?charset=utf8mb4"
        raise ValueError(f"unknown backend {backend!r}")

    yield make
    if server is not None:
        with server.connect() as conn:
            for name in created:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def engine(backend: str, fresh_database_url: Any) -> Iterator[Engine]:
    """A migrated database for this backend, shared by the session's tests."""
    engine = create_db_engine(fresh_database_url(backend))
    with engine.connect() as connection:
        upgrade(connection)
    yield engine
    engine.dispose()


@pytest.fixture
def database(engine: Engine) -> Iterator[Database]:
    """A Database whose every unit of work is a savepoint in a rolled-back transaction."""
    connection = engine.connect()
    outer = connection.begin()
    try:
        yield Database(connection, join_savepoint=True)
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def session(database: Database) -> Iterator[Any]:
    with database.transaction() as session:
        yield session


@pytest.fixture(scope="session")
def _monolith(engine: Engine) -> Flask:
    """One app per backend: building it per test cost a third of the suite's time."""
    return create_app(TEST_CONFIG, database=Database(engine))


@pytest.fixture
def app(_monolith: Flask, database: Database) -> Iterator[Flask]:
    """The monolith, serving this test's rolled-back database."""
    shared = _monolith.extensions["conduit"]
    serving = copy.copy(shared)  # the same settings and token verifier, this database
    serving.database = database
    _monolith.extensions["conduit"] = serving
    # Derived from the database and cached on first use (legacy/exports.py): never carry
    # one over from another test's connection.
    _monolith.extensions.pop("conduit_exports", None)
    try:
        yield _monolith
    finally:
        _monolith.extensions["conduit"] = shared
        _monolith.extensions.pop("conduit_exports", None)


@pytest.fixture
def client(app: Flask, database: Database) -> RoutedClient:
    """Each request goes to whoever owns its route in serverless.yml: a dedicated
    function's handler, or the monolith (tests/support/routing.py)."""
    return RoutedClient(app.test_client(), database)


@pytest.fixture
def monolith_client(app: Flask) -> FlaskClient:
    """The monolith alone, whatever serverless.yml routes elsewhere."""
    return app.test_client()


@pytest.fixture
def actions(client: RoutedClient) -> Actions:
    return Actions(client)


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that runs on MariaDB carries the `mysql` marker (its `backend` is mysql),
    so `-m "not mysql"` is the SQLite run."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend") == "mysql":
            item.add_marker(pytest.mark.mysql)
