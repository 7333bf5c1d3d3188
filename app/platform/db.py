"""Engine and session factory.

One `Database` per process (per Lambda execution environment), made at start-up.
The code that owns a unit of work opens it with `transaction()`; services receive the
session and never commit or close it themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

# MySQL connections are dropped by servers and proxies after a while; recycle first.
MYSQL_POOL_RECYCLE_SECONDS = 280
MYSQL_CONNECT_TIMEOUT_SECONDS = 5


def engine_options(url: str) -> dict[str, Any]:
    """Pool and driver options suited to a long-running server for this URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": 15}}
    if parsed.get_backend_name() == "mysql":
        return {
            "pool_pre_ping": True,
            "pool_recycle": MYSQL_POOL_RECYCLE_SECONDS,
            "connect_args": {"connect_timeout": MYSQL_CONNECT_TIMEOUT_SECONDS},
        }
    return {}


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_db_engine(url: str, **overrides: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    options = engine_options(url) | overrides
    engine = create_engine(parsed, **options)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


class Database:
    """An engine and the session factory bound to it."""

    def __init__(self, bind: Engine | Connection, *, join_savepoint: bool = False) -> None:
        self.bind = bind
        # Tests bind to a connection inside an outer transaction: each unit of work
        # becomes a savepoint that the test rolls back afterwards.
        mode = "create_savepoint" if join_savepoint else "conditional_savepoint"
        self.sessions = sessionmaker(bind=bind, expire_on_commit=False, join_transaction_mode=mode)

    @classmethod
    def from_url(cls, url: str, **engine_overrides: Any) -> Database:
        return cls(create_db_engine(url, **engine_overrides))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error, closed."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads only; nothing is committed."""
        with self.sessions() as session:
            yield session

    def dispose(self) -> None:
        if isinstance(self.bind, Engine):
            self.bind.dispose()
