"""Profiles and follows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete

from app.core import shapes
from app.core.errors import ValidationFailed
from app.core.services._common import (
    followed_among,
    insert_if_absent,
    profile_by_username,
)
from app.core.tables import follows

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.core.services._common import Executor


def get_profile(executor: Executor, username: str, viewer_id: int | None) -> dict[str, Any]:
    person = profile_by_username(executor, username)
    following = person.id in followed_among(executor, viewer_id, [person.id])
    return {"profile": shapes.profile(person, following=following)}


def follow(session: Session, username: str, follower_id: int) -> dict[str, Any]:
    person = profile_by_username(session, username)
    if person.id == follower_id:
        raise ValidationFailed("you cannot follow yourself")
    insert_if_absent(session, follows, follower_id=follower_id, followed_id=person.id)
    return {"profile": shapes.profile(person, following=True)}


def unfollow(session: Session, username: str, follower_id: int) -> dict[str, Any]:
    person = profile_by_username(session, username)
    session.execute(
        delete(follows).where(
            follows.c.follower_id == follower_id, follows.c.followed_id == person.id
        )
    )
    return {"profile": shapes.profile(person, following=False)}
