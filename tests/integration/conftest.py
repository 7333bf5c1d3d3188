"""Fixtures for the tests against a real MariaDB server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from app.platform.schema import upgrade
from tests.support.api import MYSQL_SERVER_URL


@pytest.fixture(scope="module")
def admin() -> Iterator[Engine]:
    """Connections to the server with no default database: never counted as the app's."""
    engine = create_engine(MYSQL_SERVER_URL, poolclass=NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def migrated_url(fresh_database_url: Any) -> str:
    """A fresh, migrated MariaDB database; no connection to it is left open."""
    url: str = fresh_database_url("mysql")
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            upgrade(connection)
    finally:
        engine.dispose()
    return url
