"""Lookups and idempotent writes shared by the services: Core statements only, so the
read paths that use them never import the ORM.

`Executor` is what the read services run statements on: a Core `Connection` (the
dedicated functions) or an ORM `Session` (the monolith, and the writes that answer with
what they wrote); both execute the same statements."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Executable, Result, Table, bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from app.core.errors import AuthenticationRequired, NotFound
from app.core.tables import follows, users

if TYPE_CHECKING:
    from sqlalchemy import Row
    from sqlalchemy.orm import Session

    # A result row of any columns, read by attribute name.
    type AnyRow = Row[*tuple[Any, ...]]


class Executor(Protocol):
    """Runs a statement with bound parameters: a Connection, a Session, or a stand-in."""

    def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None, /
    ) -> Result[*tuple[Any, ...]]: ...


_PROFILE_BY_USERNAME = select(users.c.id, users.c.username, users.c.bio, users.c.image).where(
    users.c.username == bindparam("username")
)
_ACCOUNT_EXISTS = select(users.c.id).where(users.c.id == bindparam("user_id"))
_FOLLOWED_AMONG = select(follows.c.followed_id).where(
    follows.c.follower_id == bindparam("viewer_id"),
    follows.c.followed_id.in_(bindparam("user_ids", expanding=True)),
)


def profile_by_username(executor: Executor, username: str) -> AnyRow:
    """The row (id, username, bio, image) of `username`; NotFound when there is none."""
    person = executor.execute(_PROFILE_BY_USERNAME, {"username": username}).first()
    if person is None:
        raise NotFound(f"profile {username!r} not found")
    return person


def ensure_account(executor: Executor, user_id: int) -> None:
    """AuthenticationRequired unless the account a verified token names still exists.
    Every authenticated request checks this, so no write runs for a phantom caller."""
    if executor.execute(_ACCOUNT_EXISTS, {"user_id": user_id}).first() is None:
        # A valid signature for an account that no longer exists.
        raise AuthenticationRequired("token is invalid")


def followed_among(executor: Executor, viewer_id: int | None, user_ids: Iterable[int]) -> set[int]:
    """Which of `user_ids` the viewer follows (none for an anonymous viewer)."""
    ids = set(user_ids)
    if viewer_id is None or not ids:
        return set()
    rows = executor.execute(_FOLLOWED_AMONG, {"viewer_id": viewer_id, "user_ids": sorted(ids)})
    return {followed_id for (followed_id,) in rows}


def insert_if_absent(session: Session, table: Table, **key: Any) -> None:
    """Insert an association row unless it exists; a concurrent duplicate is not an error."""
    exists = session.scalar(
        select(1).select_from(table).where(*(table.c[name] == value for name, value in key.items()))
    )
    if exists:
        return
    try:
        with session.begin_nested():
            session.execute(insert(table).values(**key))
    except IntegrityError:
        # Another request inserted the same row between our check and our insert.
        pass
