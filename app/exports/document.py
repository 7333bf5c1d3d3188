"""The export document: a user's profile, articles, comments, favorites and follows as
one JSON object, produced as a stream of text chunks.

Rows are read in keyset batches (`WHERE id > last ORDER BY id LIMIT n`, plain column
rows, nothing kept in the session's identity map), so memory stays bounded by one batch
whatever the user has written. The synchronous GET /api/user/export and the runner (SQS
worker or inline) both use `export_document`; only where the chunks go differs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from app.core.errors import AuthenticationRequired
from app.core.models import (
    Article,
    Comment,
    Tag,
    User,
    article_tags,
    favorites,
    follows,
    utcnow,
)
from app.core.shapes import timestamp, to_json

# Version of the document's layout; bump when a field changes meaning or goes away.
FORMAT_VERSION = 1
# What a stored document is served as: JSON, downloaded as a file of this name.
CONTENT_TYPE = "application/json; charset=utf-8"
DOWNLOAD_NAME = "conduit-export.json"
# Rows per keyset batch. An article body may be up to 100,000 characters, so one batch of
# articles holds at most ~10 MB of text; comments and the rest are far smaller.
DEFAULT_BATCH_SIZE = 100
# Items are serialised one by one and handed on in chunks of about this many characters:
# small enough to add little to the batch in memory, large enough to keep writes few.
CHUNK_CHARS = 64 * 1024


def export_document(
    session: Session, user_id: int, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> Iterator[str]:
    """The user's data as JSON text chunks; joined, they form one JSON object.

    Checks the user at once (so a caller can still answer with an error); the rest is
    read lazily, batch by batch, while the chunks are consumed. Consume it inside one
    read transaction for a consistent snapshot.
    """
    row = session.execute(
        select(User.username, User.email, User.bio, User.image, User.created_at).where(
            User.id == user_id
        )
    ).one_or_none()
    if row is None:
        raise AuthenticationRequired("token is invalid")
    profile = {
        "username": row.username,
        "email": row.email,
        "bio": row.bio,
        "image": row.image,
        "createdAt": timestamp(row.created_at),
    }
    return _document(session, user_id, profile, batch_size)


def _document(
    session: Session, user_id: int, profile: dict[str, Any], batch_size: int
) -> Iterator[str]:
    yield (
        f'{{"formatVersion":{FORMAT_VERSION},"generatedAt":{to_json(timestamp(utcnow()))},'
        f'"profile":{to_json(profile)}'
    )
    sections = (
        ("articles", _articles),
        ("comments", _comments),
        ("favorites", _favorites),
        ("following", _following),
    )
    for name, batches in sections:
        yield f',"{name}":['
        pieces: list[str] = []
        size = 0
        separator = ""
        for batch in batches(session, user_id, batch_size):
            for item in batch:
                piece = separator + to_json(item)
                separator = ","
                pieces.append(piece)
                size += len(piece)
                if size >= CHUNK_CHARS:
                    yield "".join(pieces)
                    pieces.clear()
                    size = 0
        yield "".join(pieces) + "]"
    yield "}"


def _pages(
    session: Session,
    query: Select[*tuple[Any, ...]],
    key: ColumnElement[int] | QueryableAttribute[int],
    size: int,
) -> Iterator[Sequence[Row[*tuple[Any, ...]]]]:
    """`query` in pages of `size` by its first column `key`, ascending: `WHERE key > last
    ORDER BY key LIMIT size`, so each page costs an index range scan however deep it is."""
    last = 0
    while True:
        rows = session.execute(query.where(key > last).order_by(key).limit(size)).all()
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last = rows[-1][0]


def _articles(session: Session, user_id: int, size: int) -> Iterator[list[dict[str, Any]]]:
    query = select(
        Article.id,
        Article.slug,
        Article.title,
        Article.description,
        Article.body,
        Article.created_at,
        Article.updated_at,
    ).where(Article.author_id == user_id)
    for rows in _pages(session, query, Article.id, size):
        ids = [row.id for row in rows]
        tags: dict[int, list[str]] = {}
        for article_id, name in session.execute(
            select(article_tags.c.article_id, Tag.name)
            .join(Tag, Tag.id == article_tags.c.tag_id)
            .where(article_tags.c.article_id.in_(ids))
        ):
            tags.setdefault(article_id, []).append(name)
        counts: dict[int, int] = {
            article_id: count
            for article_id, count in session.execute(
                select(favorites.c.article_id, func.count())
                .where(favorites.c.article_id.in_(ids))
                .group_by(favorites.c.article_id)
            )
        }
        yield [
            {
                "slug": row.slug,
                "title": row.title,
                "description": row.description,
                "body": row.body,
                "tagList": sorted(tags.get(row.id, [])),
                "createdAt": timestamp(row.created_at),
                "updatedAt": timestamp(row.updated_at),
                "favoritesCount": counts.get(row.id, 0),
            }
            for row in rows
        ]


def _comments(session: Session, user_id: int, size: int) -> Iterator[list[dict[str, Any]]]:
    """The user's own comments, on anyone's articles."""
    query = (
        select(Comment.id, Comment.body, Comment.created_at, Comment.updated_at, Article.slug)
        .join(Article, Article.id == Comment.article_id)
        .where(Comment.author_id == user_id)
    )
    for rows in _pages(session, query, Comment.id, size):
        yield [
            {
                "id": row.id,
                "article": row.slug,
                "body": row.body,
                "createdAt": timestamp(row.created_at),
                "updatedAt": timestamp(row.updated_at),
            }
            for row in rows
        ]


def _favorites(session: Session, user_id: int, size: int) -> Iterator[list[dict[str, Any]]]:
    """The articles the user favorited (the favorites primary key serves the scan)."""
    query = (
        select(favorites.c.article_id, Article.slug, Article.title, User.username)
        .join(Article, Article.id == favorites.c.article_id)
        .join(User, User.id == Article.author_id)
        .where(favorites.c.user_id == user_id)
    )
    for rows in _pages(session, query, favorites.c.article_id, size):
        yield [{"slug": row.slug, "title": row.title, "author": row.username} for row in rows]


def _following(session: Session, user_id: int, size: int) -> Iterator[list[dict[str, Any]]]:
    """The profiles the user follows."""
    query = (
        select(follows.c.followed_id, User.username, User.bio, User.image)
        .join(User, User.id == follows.c.followed_id)
        .where(follows.c.follower_id == user_id)
    )
    for rows in _pages(session, query, follows.c.followed_id, size):
        yield [{"username": row.username, "bio": row.bio, "image": row.image} for row in rows]
