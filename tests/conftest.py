"""Fixtures for the whole suite.

The database-backed tests run once per backend named in CONDUIT_TEST_DATABASES
(`sqlite`, `mysql`; `make test` runs both). Each backend gets a fresh, migrated
database for the session; each test runs inside a transaction that is rolled back.
"""

from __future__ import annotations

import copy
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text

from app.platform.db import Database, create_db_engine
from app.platform.schema import upgrade
from legacy import create_app
from tests.routing import RoutedClient

BACKENDS = [
    name.strip()
    for name in os.environ.get("CONDUIT_TEST_DATABASES", "sqlite").split(",")
    if name.strip()
]
MYSQL_SERVER_URL = os.environ.get("CONDUIT_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306")

TEST_CONFIG = {"APP_ENV": "test", "JWT_SECRET": "test-secret-" + "x" * 32}


def mysql_server_url() -> str:
    return MYSQL_SERVER_URL


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
    function's handler, or the monolith (tests/routing.py)."""
    return RoutedClient(app.test_client(), database)


@pytest.fixture
def monolith_client(app: Flask) -> FlaskClient:
    """The monolith alone, whatever serverless.yml routes elsewhere."""
    return app.test_client()


@dataclass
class Account:
    username: str
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


class Actions:
    """Builds the world through the public API, the way a client would."""

    def __init__(self, client: FlaskClient | RoutedClient) -> None:
        self.client = client

    def register(self, username: str = "jake", password: str = "password123") -> Account:
        email = f"{username}@example.com"
        response = self.client.post(
            "/api/users",
            json={"user": {"username": username, "email": email, "password": password}},
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        return Account(username, email, password, response.json["user"]["token"])

    def article(
        self, author: Account, title: str = "How to train your dragon", **fields: Any
    ) -> dict[str, Any]:
        body = {"title": title, "description": "Ever wonder how?", "body": "It takes a Jacobian"}
        body |= fields
        response = self.client.post("/api/articles", json={"article": body}, headers=author.headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json["article"]  # type: ignore[no-any-return]

    def comment(self, author: Account, slug: str, body: str = "Nice!") -> dict[str, Any]:
        response = self.client.post(
            f"/api/articles/{slug}/comments",
            json={"comment": {"body": body}},
            headers=author.headers,
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json["comment"]  # type: ignore[no-any-return]

    def follow(self, follower: Account, username: str) -> None:
        response = self.client.post(f"/api/profiles/{username}/follow", headers=follower.headers)
        assert response.status_code == 200, response.get_data(as_text=True)

    def favorite(self, user: Account, slug: str) -> None:
        response = self.client.post(f"/api/articles/{slug}/favorite", headers=user.headers)
        assert response.status_code == 200, response.get_data(as_text=True)


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
