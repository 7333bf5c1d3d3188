"""Profiles and follows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.core import shapes
from app.core.errors import ValidationFailed
from app.core.models import follows
from app.core.services._common import followed_among, insert_if_absent, user_by_username


def get_profile(session: Session, username: str, viewer_id: int | None) -> dict[str, Any]:
    person = user_by_username(session, username)
    following = person.id in followed_among(session, viewer_id, [person.id])
    return {"profile": shapes.profile(person, following=following)}


def follow(session: Session, username: str, follower_id: int) -> dict[str, Any]:
    person = user_by_username(session, username)
    if person.id == follower_id:
        raise ValidationFailed("you cannot follow yourself")
    insert_if_absent(session, follows, follower_id=follower_id, followed_id=person.id)
    return {"profile": shapes.profile(person, following=True)}


def unfollow(session: Session, username: str, follower_id: int) -> dict[str, Any]:
    person = user_by_username(session, username)
    session.execute(
        delete(follows).where(
            follows.c.follower_id == follower_id, follows.c.followed_id == person.id
        )
    )
    return {"profile": shapes.profile(person, following=False)}
