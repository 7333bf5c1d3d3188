"""Data exports: a user's profile, articles, comments, favorites and follows as one JSON
document, and the lifecycle of an export built off the request path.

The document is produced as a stream of text chunks: rows are read in keyset batches
(`WHERE id > last ORDER BY id LIMIT n`, plain column rows, nothing kept in the session's
identity map), so memory stays bounded by one batch whatever the user has written. The
synchronous GET /api/user/export, the inline local mode and the SQS worker all use
`export_document`; only where the chunks go differs.

An export moves pending -> done or pending -> failed by conditional UPDATEs
(`... WHERE status = 'pending'`), so racing workers or a duplicate delivery cannot flip
a state twice; a failed export is reopened (failed -> pending) when its message is
redriven from the dead-letter queue.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Row, Select, func, select, update
from sqlalchemy.orm import QueryableAttribute, Session

from app.core.errors import AuthenticationRequired, NotFound
from app.core.models import (
    Article,
    Comment,
    Export,
    Tag,
    User,
    article_tags,
    favorites,
    follows,
    utcnow,
)
from app.core.shapes import timestamp, to_json

PENDING, DONE, FAILED = "pending", "done", "failed"
# Version of the document's layout; bump when a field changes meaning or goes away.
FORMAT_VERSION = 1
# Rows per keyset batch. An article body may be up to 100,000 characters, so one batch of
# articles holds at most ~10 MB of text; comments and the rest are far smaller.
DEFAULT_BATCH_SIZE = 100
# Items are serialised one by one and handed on in chunks of about this many characters:
# small enough to add little to the batch in memory, large enough to keep writes few.
CHUNK_CHARS = 64 * 1024

_EXPORT_ID = re.compile(r"^[0-9a-f]{32}$")

# Given (export id, object key), the URL the owner downloads a finished export from.
Linker = Callable[[str, str], str]


def new_export_id() -> str:
    return uuid.uuid4().hex


def is_export_id(value: object) -> bool:
    return isinstance(value, str) and _EXPORT_ID.match(value) is not None


def object_key(user_id: int, export_id: str) -> str:
    """Where an export's document is stored. Deterministic, so a second delivery of the
    same message, or a second worker, can only ever address the same one object."""
    return f"exports/{user_id}/{export_id}.json"


# -- the export resource -----------------------------------------------------------------


def _shape(item: Export, link: Linker | None) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "id": item.id,
        "status": item.status,
        "createdAt": timestamp(item.created_at),
        "updatedAt": timestamp(item.updated_at),
    }
    if item.status == DONE and item.object_key is not None and link is not None:
        shape["url"] = link(item.id, item.object_key)
    if item.status == FAILED:
        shape["reason"] = item.failure_reason or "the export failed"
    return shape


def request_export(session: Session, user_id: int) -> dict[str, Any]:
    """Record a pending export. The caller hands its id to the worker only after this
    transaction has committed."""
    if session.get(User, user_id) is None:
        raise AuthenticationRequired("token is invalid")
    item = Export(id=new_export_id(), user_id=user_id, status=PENDING)
    session.add(item)
    session.flush()
    return {"export": _shape(item, None)}


def _owned(session: Session, user_id: int, export_id: str) -> Export:
    """The caller's own export; another user's, an unknown or a malformed id all look alike."""
    item = None
    if is_export_id(export_id):
        item = session.scalar(
            select(Export).where(Export.id == export_id, Export.user_id == user_id)
        )
    if item is None:
        raise NotFound("export not found")
    return item


def get_export(session: Session, user_id: int, export_id: str, *, link: Linker) -> dict[str, Any]:
    return {"export": _shape(_owned(session, user_id, export_id), link)}


def finished_object_key(session: Session, user_id: int, export_id: str) -> str:
    """The stored document of the caller's finished export (local downloads)."""
    item = _owned(session, user_id, export_id)
    if item.status != DONE or item.object_key is None:
        raise NotFound("export is not ready")
    return item.object_key


# -- the worker's side -------------------------------------------------------------------


@dataclass(frozen=True)
class ExportJob:
    export_id: str
    user_id: int
    status: str

    @property
    def object_key(self) -> str:
        return object_key(self.user_id, self.export_id)


def load_job(session: Session, export_id: str) -> ExportJob | None:
    row = session.execute(
        select(Export.id, Export.user_id, Export.status).where(Export.id == export_id)
    ).one_or_none()
    if row is None:
        return None
    return ExportJob(export_id=row.id, user_id=row.user_id, status=row.status)


def _transition(session: Session, export_id: str, source: str, **values: Any) -> bool:
    """Move one export out of `source`; False when it was not (or no longer) in it."""
    result = session.execute(
        update(Export)
        .where(Export.id == export_id, Export.status == source)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def mark_done(session: Session, export_id: str, key: str) -> bool:
    return _transition(
        session, export_id, PENDING, status=DONE, object_key=key, failure_reason=None
    )


def mark_failed(session: Session, export_id: str, reason: str) -> bool:
    return _transition(session, export_id, PENDING, status=FAILED, failure_reason=reason[:1000])


def reopen(session: Session, export_id: str) -> bool:
    """A failed export whose message came back (a redrive from the dead-letter queue)
    is pending again while it is retried."""
    return _transition(session, export_id, FAILED, status=PENDING, failure_reason=None)


# -- the document --------------------------------------------------------------------------


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
