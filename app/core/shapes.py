"""The RealWorld JSON shapes, built in one place for every web layer.

Each shape reads attributes by name, so it takes a Core result row (the read paths) or an
ORM object (the write paths) alike."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any


def to_json(value: Any) -> str:
    """The one JSON encoding of every answer and document: compact, UTF-8 as is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a `Z`, e.g. 2016-02-18T03:22:56.637Z."""
    # isoformat() truncates to milliseconds as the format asks, and is much cheaper than
    # strftime(): a page of articles formats forty timestamps.
    return moment.isoformat(timespec="milliseconds") + "Z"


def user(account: Any, token: str) -> dict[str, Any]:
    return {
        "email": account.email,
        "token": token,
        "username": account.username,
        "bio": account.bio,
        "image": account.image,
    }


def profile(person: Any, *, following: bool) -> dict[str, Any]:
    return {
        "username": person.username,
        "bio": person.bio,
        "image": person.image,
        "following": following,
    }


def article(
    item: Any,
    *,
    author: Any,
    tags: Iterable[str],
    favorited: bool,
    favorites_count: int,
    following_author: bool,
    with_body: bool = True,
) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "slug": item.slug,
        "title": item.title,
        "description": item.description,
    }
    if with_body:
        shape["body"] = item.body
    shape |= {
        "tagList": sorted(tags),
        "createdAt": timestamp(item.created_at),
        "updatedAt": timestamp(item.updated_at),
        "favorited": favorited,
        "favoritesCount": favorites_count,
        "author": profile(author, following=following_author),
    }
    return shape


def comment(item: Any, *, author: Any, following_author: bool) -> dict[str, Any]:
    return {
        "id": item.id,
        "createdAt": timestamp(item.created_at),
        "updatedAt": timestamp(item.updated_at),
        "body": item.body,
        "author": profile(author, following=following_author),
    }
