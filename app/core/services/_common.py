"""Lookups and idempotent writes shared by the services."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.errors import NotFound
from app.core.models import User, follows


def user_by_username(session: Session, username: str) -> User:
    person = session.scalar(select(User).where(User.username == username))
    if person is None:
        raise NotFound(f"profile {username!r} not found")
    return person


def followed_among(session: Session, viewer_id: int | None, user_ids: Iterable[int]) -> set[int]:
    """Which of `user_ids` the viewer follows (none for an anonymous viewer)."""
    ids = set(user_ids)
    if viewer_id is None or not ids:
        return set()
    rows = session.scalars(
        select(follows.c.followed_id).where(
            follows.c.follower_id == viewer_id, follows.c.followed_id.in_(ids)
        )
    )
    return set(rows)


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
