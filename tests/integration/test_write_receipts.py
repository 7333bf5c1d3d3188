"""A unit of work whose connection is lost during COMMIT, on MariaDB: the server may have
committed it or not, and the client cannot tell from the error. The write receipt tells:
the work is applied exactly once and the unit ends normally, or it raises and nothing
was written."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pymysql
import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

import app.platform.db as db_module
from app.core.models import Tag
from app.core.tables import utcnow, write_receipts
from app.platform.db import Database

pytestmark = pytest.mark.mysql


@pytest.fixture
def database(migrated_url: str) -> Iterator[Database]:
    database = Database.from_url(migrated_url)
    yield database
    database.dispose()


def _losing_the_answer(*, committed: bool) -> Callable[[Any, Any], None]:
    """A dialect `do_commit` whose answer is lost: after the server committed, or
    after it rolled back (as a COMMIT interrupted by a KILL can go either way)."""

    def do_commit(_dialect: Any, dbapi_connection: Any) -> None:
        if committed:
            dbapi_connection.commit()
        else:
            dbapi_connection.rollback()
        raise pymysql.err.OperationalError(2013, "Lost connection to server during query")

    return do_commit


def _tags(database: Database) -> list[str]:
    with database.read() as session:
        return list(session.scalars(select(Tag.name)))


def _receipts(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(write_receipts)) or 0)


def test_a_commit_that_lost_its_answer_but_was_applied_ends_normally(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialect = type(database.bind.dialect)  # type: ignore[union-attr]
    monkeypatch.setattr(dialect, "do_commit", _losing_the_answer(committed=True))
    with database.transaction() as session:
        session.add(Tag(name="dragons"))
    monkeypatch.undo()
    assert _tags(database) == ["dragons"]
    assert _receipts(database) == 1


def test_a_commit_that_lost_its_answer_and_was_not_applied_raises(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialect = type(database.bind.dialect)  # type: ignore[union-attr]
    monkeypatch.setattr(dialect, "do_commit", _losing_the_answer(committed=False))
    with pytest.raises(OperationalError) as raised, database.transaction() as session:
        session.add(Tag(name="dragons"))
    monkeypatch.undo()
    assert raised.value.connection_invalidated
    assert _tags(database) == []
    assert _receipts(database) == 0


def test_old_receipts_are_pruned_as_writes_go_on(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "RECEIPT_PRUNE_EVERY", 3)
    with database.transaction() as session:
        session.execute(
            insert(write_receipts),
            [{"id": f"old{n}", "created_at": utcnow() - timedelta(hours=2)} for n in range(5)],
        )
    with database.transaction() as session:
        session.execute(
            update(write_receipts)
            .where(write_receipts.c.id.not_like("old%"))
            .values(created_at=utcnow() - timedelta(minutes=5))
        )
    assert _receipts(database) == 7  # 5 old, 2 issued by the two units above
    with database.transaction() as session:  # the third write: it prunes
        session.add(Tag(name="dragons"))
    with database.read() as session:
        left = set(session.scalars(select(write_receipts.c.id)))
    assert len(left) == 3 and not any(receipt.startswith("old") for receipt in left)


def test_no_receipt_without_a_network_connection(fresh_database_url: Any) -> None:
    database = Database.from_url(fresh_database_url("sqlite"))
    try:
        from app.platform.schema import upgrade

        with database.bind.connect() as connection:  # type: ignore[union-attr]
            upgrade(connection)
        with database.transaction() as session:
            session.add(Tag(name="dragons"))
        assert _receipts(database) == 0
    finally:
        database.dispose()


# -- the same unit of work in Core (Database.core_transaction: the dedicated functions) --


@pytest.mark.parametrize("committed", [True, False])
def test_a_core_unit_whose_commit_lost_its_answer_is_settled_by_the_receipt(
    database: Database, monkeypatch: pytest.MonkeyPatch, committed: bool
) -> None:
    dialect = type(database.bind.dialect)  # type: ignore[union-attr]
    monkeypatch.setattr(dialect, "do_commit", _losing_the_answer(committed=committed))
    with contextlib.ExitStack() as stack:
        if not committed:
            stack.enter_context(pytest.raises(OperationalError))
        connection = stack.enter_context(database.core_transaction())
        connection.execute(insert(Tag.__table__).values(name="dragons"))
    monkeypatch.undo()
    assert _tags(database) == (["dragons"] if committed else [])
    assert _receipts(database) == int(committed)


def test_a_core_unit_rolls_back_on_error_and_a_failed_savepoint_alone(database: Database) -> None:
    tags = Tag.__table__
    with pytest.raises(RuntimeError), database.core_transaction() as connection:
        connection.execute(insert(tags).values(name="dragons"))
        raise RuntimeError("the request failed")
    assert _tags(database) == []
    with database.core_transaction() as connection:
        connection.execute(insert(tags).values(name="dragons"))
        with pytest.raises(IntegrityError), connection.begin_nested():
            connection.execute(insert(tags).values(name="dragons"))
        connection.execute(insert(tags).values(name="knights"))
    assert sorted(_tags(database)) == ["dragons", "knights"]
