"""Profiles and follows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select

from app.core import shapes
from app.core.errors import NotFound, ValidationFailed
from app.core.services._common import (
    Association,
    profile_by_username,
    viewer_follows,
)
from app.core.tables import follows, users

if TYPE_CHECKING:
    from app.core.services._common import Executor, Writer


# The profile and whether the viewer (the bound `viewer_id`) follows it, in one statement.
_PROFILE_SEEN_BY = select(
    users.c.username, users.c.bio, users.c.image, viewer_follows(users.c.id)
).where(users.c.username == bindparam("username"))


def get_profile(executor: Executor, username: str, viewer_id: int | None) -> dict[str, Any]:
    parameters = {"username": username, "viewer_id": viewer_id}
    person = executor.execute(_PROFILE_SEEN_BY, parameters).first()
    if person is None:
        raise NotFound(f"profile {username!r} not found")
    return {"profile": shapes.profile(person, following=bool(person.following_author))}


_FOLLOWS = Association(follows, "follower_id", "followed_id")


def follow(session: Writer, username: str, follower_id: int) -> dict[str, Any]:
    person = profile_by_username(session, username)
    if person.id == follower_id:
        raise ValidationFailed("you cannot follow yourself")
    _FOLLOWS.insert_if_absent(session, follower_id=follower_id, followed_id=person.id)
    return {"profile": shapes.profile(person, following=True)}


def unfollow(session: Writer, username: str, follower_id: int) -> dict[str, Any]:
    person = profile_by_username(session, username)
    _FOLLOWS.delete(session, follower_id=follower_id, followed_id=person.id)
    return {"profile": shapes.profile(person, following=False)}
