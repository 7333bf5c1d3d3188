"""The ORM classes, mapped onto the Core tables of app.core.tables (the one schema).

The write paths use these; the read paths select columns from the tables and never
import this module.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from app.core import tables
from app.core.tables import (
    EXPORT_STATUSES,
    article_tags,
    favorites,
    follows,
    utcnow,
    write_receipts,
)

__all__ = [
    "EXPORT_STATUSES",
    "Article",
    "Base",
    "Comment",
    "Export",
    "Tag",
    "User",
    "article_tags",
    "favorites",
    "follows",
    "utcnow",
    "write_receipts",
]


class Base(DeclarativeBase):
    metadata = tables.metadata


class User(Base):
    __table__ = tables.users

    id: Mapped[int]
    username: Mapped[str]
    email: Mapped[str]
    password_hash: Mapped[str]
    bio: Mapped[str]
    image: Mapped[str | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Tag(Base):
    __table__ = tables.tags

    id: Mapped[int]
    name: Mapped[str]


class Article(Base):
    __table__ = tables.articles

    id: Mapped[int]
    slug: Mapped[str]
    title: Mapped[str]
    description: Mapped[str]
    body: Mapped[str]
    author_id: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    author: Mapped[User] = relationship(lazy="raise")
    tags: Mapped[list[Tag]] = relationship(secondary=article_tags, lazy="raise")


class Comment(Base):
    __table__ = tables.comments

    id: Mapped[int]
    body: Mapped[str]
    article_id: Mapped[int]
    author_id: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    author: Mapped[User] = relationship(lazy="raise")


class Export(Base):
    """A user's request for a copy of their data, built off the request path."""

    __table__ = tables.exports

    id: Mapped[str]
    user_id: Mapped[int]
    status: Mapped[str]
    object_key: Mapped[str | None]
    failure_reason: Mapped[str | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
