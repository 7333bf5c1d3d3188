"""A function that serves a safe method holds a reads-only database (Runtime.from_env with
`reads_only`): on MariaDB, through the production path (DB_HOST, one pooled connection),
its statements run on the server's autocommit and no ROLLBACK follows a request; it
still sees what other connections commit; and it opens no unit of work that writes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

from app.core.tables import tags
from app.platform.db import Database, ReadsOnly
from app.platform.settings import Settings
from tests.support.api import TEST_CONFIG

pytestmark = pytest.mark.mysql


def _deployed_database(url: str, *, reads_only: bool) -> Database:
    parsed = make_url(url)
    settings = Settings.from_env(
        {
            **TEST_CONFIG,
            "APP_ENV": "test",
            "DB_HOST": str(parsed.host),
            "DB_PORT": str(parsed.port or 3306),
            "DB_NAME": str(parsed.database),
            "DB_USER": str(parsed.username),
            "DB_IAM_AUTH": "false",
            "DB_TLS": "false",
        }
    )
    return Database.from_settings(settings, reads_only=reads_only)


@pytest.fixture(params=[True, False], ids=["reads-only", "default"])
def database(request: pytest.FixtureRequest, migrated_url: str) -> Iterator[Database]:
    database = _deployed_database(migrated_url, reads_only=request.param)
    yield database
    database.dispose()


def _session_status(database: Database, name: str) -> int:
    with database.connect() as connection:
        row = connection.execute(text("SHOW SESSION STATUS LIKE :name"), {"name": name}).one()
        return int(row[1])


def test_reads_run_on_autocommit_with_no_rollback_after_them(database: Database) -> None:
    with database.connect() as connection:
        autocommit = connection.execute(text("SELECT @@autocommit")).scalar()
    before = _session_status(database, "Com_rollback")
    for _ in range(3):
        with database.connect() as connection:
            connection.execute(select(tags.c.name)).all()
    # The status read itself is a request too: its own rollback is counted by the next.
    rollbacks = _session_status(database, "Com_rollback") - before
    if database.reads_only:
        assert (autocommit, rollbacks) == (1, 0)
    else:
        assert (autocommit, rollbacks) == (0, 4)


def test_a_reads_only_connection_sends_one_set_less_at_connect(migrated_url: str) -> None:
    # PyMySQL sends `SET AUTOCOMMIT = 0` when it connects, unless told autocommit=True
    # (the server's default already); both send its `SET NAMES`.
    sets = {}
    for reads_only in (True, False):
        database = _deployed_database(migrated_url, reads_only=reads_only)
        try:
            sets[reads_only] = _session_status(database, "Com_set_option")
        finally:
            database.dispose()
    assert sets[False] - sets[True] == 1, sets


def test_a_read_sees_what_another_connection_committed_since(
    database: Database, migrated_url: str
) -> None:
    writer = Database.from_url(migrated_url)
    try:
        with database.connect() as connection:
            assert connection.execute(select(tags.c.name)).all() == []
        with writer.core_transaction() as connection:
            connection.execute(insert(tags).values(name="fresh"))
        with database.connect() as connection:
            assert connection.execute(select(tags.c.name)).scalars().all() == ["fresh"]
    finally:
        writer.dispose()


def test_a_reads_only_database_opens_no_unit_of_work_that_writes(migrated_url: str) -> None:
    database = _deployed_database(migrated_url, reads_only=True)
    try:
        with pytest.raises(ReadsOnly), database.core_transaction():
            pass
        with pytest.raises(ReadsOnly), database.transaction():
            pass
        with database.connect() as connection:
            assert connection.execute(select(tags.c.id)).all() == []
    finally:
        database.dispose()
