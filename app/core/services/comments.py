"""Comments on articles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from app.core import shapes
from app.core.errors import NotFound, PermissionDenied
from app.core.models import Article, Comment, User
from app.core.services._common import followed_among


def _article_id(session: Session, slug: str) -> int:
    article_id = session.scalar(select(Article.id).where(Article.slug == slug))
    if article_id is None:
        raise NotFound(f"article {slug!r} not found")
    return article_id


def list_comments(session: Session, slug: str, viewer_id: int | None) -> dict[str, Any]:
    article_id = _article_id(session, slug)
    items = session.scalars(
        select(Comment)
        .options(joinedload(Comment.author))
        .where(Comment.article_id == article_id)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    following = followed_among(session, viewer_id, {item.author_id for item in items})
    return {
        "comments": [
            shapes.comment(item, following_author=item.author_id in following) for item in items
        ]
    }


def add_comment(session: Session, slug: str, author_id: int, body: str) -> dict[str, Any]:
    article_id = _article_id(session, slug)
    author = session.get(User, author_id)
    if author is None:
        raise NotFound("author not found")
    item = Comment(body=body, article_id=article_id, author=author)
    session.add(item)
    session.flush()
    return {"comment": shapes.comment(item, following_author=False)}


# The largest id any backend can bind: a bigger one (SQLite overflows on it) names no comment.
_MAX_ID = 2**63 - 1


def delete_comment(session: Session, slug: str, comment_id: int, user_id: int) -> None:
    article_id = _article_id(session, slug)
    item = None
    if 0 < comment_id <= _MAX_ID:
        item = session.scalar(
            select(Comment).where(Comment.id == comment_id, Comment.article_id == article_id)
        )
    if item is None:
        raise NotFound(f"comment {comment_id} not found")
    if item.author_id != user_id:
        raise PermissionDenied("only the author may delete this comment")
    session.execute(delete(Comment).where(Comment.id == item.id))
