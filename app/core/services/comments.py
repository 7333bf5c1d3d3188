"""Comments on articles.

Reads select columns, in one statement (two for an article without comments); the writes
are Core statements too."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, select

from app.core import shapes
from app.core.errors import NotFound, PermissionDenied
from app.core.services._common import insert_new, inserted_id, new_values, viewer_follows
from app.core.tables import articles, comments, users, utcnow

if TYPE_CHECKING:
    from app.core.services._common import Executor, Writer

_ARTICLE_ID_BY_SLUG = select(articles.c.id).where(articles.c.slug == bindparam("slug"))
# The comments (oldest first) of the article with the bound slug, with their authors. The
# article is found by a subquery: outer-joining it to its comments instead made MySQL
# sort the comments through a temporary table, slower than the two lookups.
_COMMENTS_BY_SLUG = (
    select(
        comments.c.id,
        comments.c.body,
        comments.c.author_id,
        comments.c.created_at,
        comments.c.updated_at,
        users.c.username,
        users.c.bio,
        users.c.image,
        viewer_follows(comments.c.author_id),
    )
    .join(users, users.c.id == comments.c.author_id)
    .where(comments.c.article_id == _ARTICLE_ID_BY_SLUG.scalar_subquery())
    .order_by(comments.c.created_at, comments.c.id)
)
_AUTHOR = select(users.c.username, users.c.bio, users.c.image).where(
    users.c.id == bindparam("user_id")
)
_AUTHOR_OF_COMMENT = select(comments.c.author_id).where(
    comments.c.id == bindparam("comment_id"), comments.c.article_id == bindparam("article_id")
)


def _article_id(executor: Executor, slug: str) -> int:
    article_id = executor.execute(_ARTICLE_ID_BY_SLUG, {"slug": slug}).scalar()
    if article_id is None:
        raise NotFound(f"article {slug!r} not found")
    return int(article_id)


def list_comments(executor: Executor, slug: str, viewer_id: int | None) -> dict[str, Any]:
    rows = executor.execute(_COMMENTS_BY_SLUG, {"slug": slug, "viewer_id": viewer_id}).all()
    if not rows:
        _article_id(executor, slug)  # no comments, or no such article (NotFound)
    return {
        "comments": [
            shapes.comment(row, author=row, following_author=bool(row.following_author))
            for row in rows
        ]
    }


_ADD_COMMENT = insert_new(comments, ("body", "article_id", "author_id", "created_at", "updated_at"))
_DELETE_COMMENT = delete(comments).where(comments.c.id == bindparam("comment_id"))


def add_comment(session: Writer, slug: str, author_id: int, body: str) -> dict[str, Any]:
    article_id = _article_id(session, slug)
    author = session.execute(_AUTHOR, {"user_id": author_id}).first()
    if author is None:
        raise NotFound("author not found")
    now = utcnow()
    values = {"body": body, "article_id": article_id, "author_id": author_id}
    values |= {"created_at": now, "updated_at": now}
    comment_id = inserted_id(session.execute(_ADD_COMMENT, new_values(values)))
    item = SimpleNamespace(id=comment_id, **values)
    return {"comment": shapes.comment(item, author=author, following_author=False)}


# The largest id any backend can bind: a bigger one (SQLite overflows on it) names no comment.
_MAX_ID = 2**63 - 1


def delete_comment(session: Writer, slug: str, comment_id: int, user_id: int) -> None:
    article_id = _article_id(session, slug)
    author_id = None
    if 0 < comment_id <= _MAX_ID:
        author_id = session.execute(
            _AUTHOR_OF_COMMENT, {"comment_id": comment_id, "article_id": article_id}
        ).scalar()
    if author_id is None:
        raise NotFound(f"comment {comment_id} not found")
    if author_id != user_id:
        raise PermissionDenied("only the author may delete this comment")
    session.execute(_DELETE_COMMENT, {"comment_id": comment_id})
