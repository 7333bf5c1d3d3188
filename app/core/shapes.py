"""The RealWorld JSON shapes, built in one place for every web layer."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from app.core.models import Article, Comment, User


def to_json(value: Any) -> str:
    """The one JSON encoding of every answer and document: compact, UTF-8 as is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a `Z`, e.g. 2016-02-18T03:22:56.637Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def user(account: User, token: str) -> dict[str, Any]:
    return {
        "email": account.email,
        "token": token,
        "username": account.username,
        "bio": account.bio,
        "image": account.image,
    }


def profile(person: User, *, following: bool) -> dict[str, Any]:
    return {
        "username": person.username,
        "bio": person.bio,
        "image": person.image,
        "following": following,
    }


def article(
    item: Article,
    *,
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
        "tagList": sorted(tag.name for tag in item.tags),
        "createdAt": timestamp(item.created_at),
        "updatedAt": timestamp(item.updated_at),
        "favorited": favorited,
        "favoritesCount": favorites_count,
        "author": profile(item.author, following=following_author),
    }
    return shape


def comment(item: Comment, *, following_author: bool) -> dict[str, Any]:
    return {
        "id": item.id,
        "createdAt": timestamp(item.created_at),
        "updatedAt": timestamp(item.updated_at),
        "body": item.body,
        "author": profile(item.author, following=following_author),
    }
