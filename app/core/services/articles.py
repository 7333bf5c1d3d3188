"""Articles, the feed and favorites."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from app.core import shapes
from app.core.errors import NotFound, PermissionDenied
from app.core.models import Article, Tag, User, favorites, follows, utcnow
from app.core.services._common import followed_among, insert_if_absent
from app.core.validation import NewArticle, Page

SLUG_BASE_MAX = 200
_SLUG_ATTEMPTS = 5
# Paths under /articles/ that are routes of their own: an article with such a slug
# could never be fetched, so these count as taken and get a suffix.
RESERVED_SLUGS = frozenset({"feed"})


def slugify(title: str) -> str:
    """ASCII, lower case, words joined by '-'; 'article' when nothing is left."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:SLUG_BASE_MAX].rstrip("-") or "article"


def _with_relations(query: Select[Article]) -> Select[Article]:
    return query.options(joinedload(Article.author), selectinload(Article.tags))


def _article_by_slug(session: Session, slug: str) -> Article:
    item = session.scalar(_with_relations(select(Article).where(Article.slug == slug)))
    if item is None:
        raise NotFound(f"article {slug!r} not found")
    return item


def _owned_article(session: Session, slug: str, user_id: int) -> Article:
    item = _article_by_slug(session, slug)
    if item.author_id != user_id:
        raise PermissionDenied("only the author may change this article")
    return item


def _present(
    session: Session, items: Sequence[Article], viewer_id: int | None, *, with_body: bool
) -> list[dict[str, Any]]:
    """Shape articles, fetching counts and the viewer's relations in bulk."""
    ids = [item.id for item in items]
    counts: dict[int, int] = {}
    favorited: set[int] = set()
    if ids:
        rows = session.execute(
            select(favorites.c.article_id, func.count())
            .where(favorites.c.article_id.in_(ids))
            .group_by(favorites.c.article_id)
        )
        counts = {article_id: count for article_id, count in rows}
        if viewer_id is not None:
            favorited = set(
                session.scalars(
                    select(favorites.c.article_id).where(
                        favorites.c.user_id == viewer_id, favorites.c.article_id.in_(ids)
                    )
                )
            )
    following = followed_among(session, viewer_id, {item.author_id for item in items})
    return [
        shapes.article(
            item,
            favorited=item.id in favorited,
            favorites_count=counts.get(item.id, 0),
            following_author=item.author_id in following,
            with_body=with_body,
        )
        for item in items
    ]


def _single(session: Session, item: Article, viewer_id: int | None) -> dict[str, Any]:
    return {"article": _present(session, [item], viewer_id, with_body=True)[0]}


def _page(
    session: Session, query: Select[Article], page: Page, viewer_id: int | None
) -> dict[str, Any]:
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        _with_relations(query)
        .order_by(Article.created_at.desc(), Article.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    ).all()
    return {
        "articles": _present(session, items, viewer_id, with_body=False),
        "articlesCount": total,
    }


def list_articles(
    session: Session,
    page: Page,
    viewer_id: int | None,
    *,
    tag: str | None = None,
    author: str | None = None,
    favorited: str | None = None,
) -> dict[str, Any]:
    query = select(Article)
    if tag is not None:
        query = query.where(Article.tags.any(Tag.name == tag))
    if author is not None:
        query = query.where(
            Article.author_id.in_(select(User.id).where(User.username == author).scalar_subquery())
        )
    if favorited is not None:
        query = query.where(
            Article.id.in_(
                select(favorites.c.article_id)
                .join(User, User.id == favorites.c.user_id)
                .where(User.username == favorited)
            )
        )
    return _page(session, query, page, viewer_id)


def feed(session: Session, page: Page, viewer_id: int) -> dict[str, Any]:
    followed = select(follows.c.followed_id).where(follows.c.follower_id == viewer_id)
    return _page(session, select(Article).where(Article.author_id.in_(followed)), page, viewer_id)


def get_article(session: Session, slug: str, viewer_id: int | None) -> dict[str, Any]:
    return _single(session, _article_by_slug(session, slug), viewer_id)


def _tags_named(session: Session, names: Sequence[str]) -> list[Tag]:
    """The Tag rows for `names`, creating the missing ones."""
    if not names:
        return []
    found = {tag.name: tag for tag in session.scalars(select(Tag).where(Tag.name.in_(names)))}
    for name in names:
        if name in found:
            continue
        try:
            with session.begin_nested():
                tag = Tag(name=name)
                session.add(tag)
            found[name] = tag
        except IntegrityError:
            # Created concurrently by another request: use that one.
            found[name] = session.scalars(select(Tag).where(Tag.name == name)).one()
    return [found[name] for name in names]


def _slug_taken(session: Session, slug: str, exclude_id: int | None) -> bool:
    if slug in RESERVED_SLUGS:
        return True
    query = select(Article.id).where(Article.slug == slug)
    if exclude_id is not None:
        query = query.where(Article.id != exclude_id)
    # The article being saved may be pending without a slug yet: don't flush it here.
    with session.no_autoflush:
        return session.scalar(query) is not None


def _assign_unique_slug(session: Session, item: Article, title: str) -> None:
    """Give `item` a slug from `title`, add it and flush it; a clash gets a random suffix."""
    base = slugify(title)
    candidate = base
    for _ in range(_SLUG_ATTEMPTS):
        if not _slug_taken(session, candidate, item.id):
            try:
                # begin_nested() first flushes what is already pending, outside the
                # savepoint: the slug is set and the item added inside it, so a clash
                # rolls back to the savepoint instead of failing the whole transaction.
                with session.begin_nested():
                    item.slug = candidate
                    session.add(item)
                    session.flush()
                return
            except IntegrityError:
                pass  # taken by a concurrent request since the check
        candidate = f"{base}-{secrets.token_hex(4)}"
    raise RuntimeError("could not find a free slug")  # pragma: no cover - 2**32 odds per try


def create_article(session: Session, author_id: int, new: NewArticle) -> dict[str, Any]:
    author = session.get(User, author_id)
    if author is None:
        raise NotFound("author not found")
    item = Article(
        title=new.title,
        description=new.description,
        body=new.body,
        author=author,
        tags=_tags_named(session, new.tags),
    )
    _assign_unique_slug(session, item, new.title)
    return _single(session, item, author_id)


def update_article(
    session: Session, slug: str, user_id: int, changes: dict[str, Any]
) -> dict[str, Any]:
    item = _owned_article(session, slug, user_id)
    for name in ("description", "body"):
        if name in changes:
            setattr(item, name, changes[name])
    if "tags" in changes:
        item.tags = _tags_named(session, changes["tags"])
    item.updated_at = utcnow()
    if "title" in changes:
        item.title = changes["title"]
        if slugify(changes["title"]) != slugify_base(item.slug):
            _assign_unique_slug(session, item, changes["title"])
            # A clash rolled back to a savepoint expires the item: load it again whole.
            item = _article_by_slug(session, item.slug)
    session.flush()
    return _single(session, item, user_id)


def slugify_base(slug: str) -> str:
    """The slug without the random suffix a clash may have added."""
    return re.sub(r"-[0-9a-f]{8}$", "", slug)


def delete_article(session: Session, slug: str, user_id: int) -> None:
    item = _owned_article(session, slug, user_id)
    # Comments, favorites and tag links go with it through ON DELETE CASCADE.
    session.execute(delete(Article).where(Article.id == item.id))


def favorite(session: Session, slug: str, user_id: int) -> dict[str, Any]:
    item = _article_by_slug(session, slug)
    insert_if_absent(session, favorites, user_id=user_id, article_id=item.id)
    return _single(session, item, user_id)


def unfavorite(session: Session, slug: str, user_id: int) -> dict[str, Any]:
    item = _article_by_slug(session, slug)
    session.execute(
        delete(favorites).where(favorites.c.user_id == user_id, favorites.c.article_id == item.id)
    )
    return _single(session, item, user_id)
