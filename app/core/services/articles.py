"""Articles, the feed and favorites.

Reads select columns and shape rows (no ORM objects); every statement they run is built
once, here, with bound parameters. A read is one statement: each article row carries its
author, tags, favorites count, and whether the viewer favorited it and follows its author;
a list's rows carry the list's count too (a page past the end asks for it apart). The
writes are Core statements too, so no function loads the ORM (the monolith runs them in
its ORM session); what a write answers is read back through the same read path.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Label,
    Select,
    bindparam,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from app.core import shapes
from app.core.errors import NotFound, PermissionDenied
from app.core.services._common import (
    MANY_ROWS,
    Association,
    flagged_values,
    flags,
    insert_new,
    inserted_id,
    json_array_agg,
    json_strings,
    new_values,
    viewer_follows,
)
from app.core.tables import article_tags, articles, favorites, follows, tags, users, utcnow

if TYPE_CHECKING:
    from app.core.services._common import AnyRow, Executor, Writer
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


# --- reads ------------------------------------------------------------------------------

_ARTICLE_COLUMNS = (
    articles.c.id,
    articles.c.slug,
    articles.c.title,
    articles.c.description,
    articles.c.author_id,
    articles.c.created_at,
    articles.c.updated_at,
)


def _favorites(article_id: ColumnElement[int]) -> tuple[Label[int], Label[bool]]:
    """Two columns: the favorites count of the article `article_id` names, and whether the
    viewer (the bound `viewer_id`; NULL for anyone anonymous) favorited it. Index lookups
    made by the database for the rows it returns, not statements of their own."""
    count = (
        select(func.count())
        .where(favorites.c.article_id == article_id)
        .correlate_except(favorites)
        .scalar_subquery()
        .label("favorites_count")
    )
    viewer = (
        exists()
        .where(favorites.c.article_id == article_id, favorites.c.user_id == bindparam("viewer_id"))
        .correlate_except(favorites)
        .label("viewer_favorited")
    )
    return count, viewer


_AUTHOR_COLUMNS = (users.c.username, users.c.bio, users.c.image)


def _tag_names(article_id: ColumnElement[int]) -> Label[str]:
    """A column: the names of the tags of the article `article_id` names, as JSON."""
    return (
        select(json_array_agg(tags.c.name))
        .select_from(article_tags.join(tags, tags.c.id == article_tags.c.tag_id))
        .where(article_tags.c.article_id == article_id)
        .correlate_except(article_tags, tags)
        .scalar_subquery()
        .label("tag_names")
    )


def _details(article_id: ColumnElement[int], author_id: ColumnElement[int]) -> tuple[Any, ...]:
    """What an article row carries beyond the article's own columns: its author's, its
    tags, and whether the viewer follows its author."""
    return (*_AUTHOR_COLUMNS, _tag_names(article_id), viewer_follows(author_id))


_WITH_AUTHOR = articles.join(users, users.c.id == articles.c.author_id)
_ARTICLE_BY = select(
    *_ARTICLE_COLUMNS,
    *_favorites(articles.c.id),
    articles.c.body,
    *_details(articles.c.id, articles.c.author_id),
).select_from(_WITH_AUTHOR)
_ARTICLE_BY_SLUG = _ARTICLE_BY.where(articles.c.slug == bindparam("slug"))
_ARTICLE_BY_ID = _ARTICLE_BY.where(articles.c.id == bindparam("article_id"))
_ARTICLE_ID_BY_SLUG = select(articles.c.id).where(articles.c.slug == bindparam("slug"))

# The filters of a list, each with one bound parameter of its own name. Subqueries name
# users through aliases of their own: the list joins `users` for the author, and a
# subquery on the same table would be correlated to it.
_by_author = users.alias("by_author")
_by_favoriter = users.alias("by_favoriter")
_tag_filter = tags.alias("tag_filter")
_FILTERS: dict[str, ColumnElement[bool]] = {
    "tag": articles.c.id.in_(
        select(article_tags.c.article_id)
        .join(_tag_filter, _tag_filter.c.id == article_tags.c.tag_id)
        .where(_tag_filter.c.name == bindparam("tag"))
    ),
    "author": articles.c.author_id.in_(
        select(_by_author.c.id).where(_by_author.c.username == bindparam("author"))
    ),
    "favorited": articles.c.id.in_(
        select(favorites.c.article_id)
        .join(_by_favoriter, _by_favoriter.c.id == favorites.c.user_id)
        .where(_by_favoriter.c.username == bindparam("favorited"))
    ),
    # Articles by the authors the user with this id follows.
    "feed": articles.c.author_id.in_(
        select(follows.c.followed_id).where(follows.c.follower_id == bindparam("feed"))
    ),
}


class _ListStatements:
    """The count and the page of a list with a given set of filters, built on first use
    (there are few such sets) and then reused. Each row of the page carries the count as
    `total`: the database runs that subquery once, in the same round trip."""

    def __init__(self) -> None:
        self._built: dict[tuple[str, ...], tuple[Select[int], Select[*tuple[Any, ...]]]] = {}

    def __call__(self, filters: tuple[str, ...]) -> tuple[Select[int], Select[*tuple[Any, ...]]]:
        statements = self._built.get(filters)
        if statements is None:
            conditions = [_FILTERS[name] for name in filters]
            count = select(func.count()).select_from(articles).where(*conditions)
            # The page is cut from the articles alone, off their (created_at, id) index,
            # and only its rows are joined to their authors. Joining first, MySQL would
            # sort the whole join, TEXT columns included, in a temporary table.
            cut = (
                select(*_ARTICLE_COLUMNS)
                .where(*conditions)
                .order_by(articles.c.created_at.desc(), articles.c.id.desc())
                .limit(bindparam("limit", type_=Integer))
                .offset(bindparam("offset", type_=Integer))
                .subquery("page")
            )
            # The favorites, tags and follows are looked up for the page's rows alone (in
            # the cut, MariaDB would look them up for every row it sorts: all of a feed's).
            total = count.correlate(None).scalar_subquery().label("total")
            page = (
                select(*cut.c, *_favorites(cut.c.id), *_details(cut.c.id, cut.c.author_id), total)
                .join_from(cut, users, users.c.id == cut.c.author_id)
                .order_by(cut.c.created_at.desc(), cut.c.id.desc())
            )
            statements = self._built[filters] = (count, page)
        return statements


_list_statements = _ListStatements()
# The unfiltered list and the feed, built at import: SnapStart priming compiles the
# services' module-level statements (app.platform.snapshot), so a restored copy's first
# list or feed finds them compiled.
_LIST_COUNT, _LIST_PAGE = _list_statements(())
_FEED_COUNT, _FEED_PAGE = _list_statements(("feed",))


def _shape(row: AnyRow, *, with_body: bool) -> dict[str, Any]:
    """An article row (read with `viewer_id` bound) as the API shows it."""
    return shapes.article(
        row,
        author=row,
        tags=json_strings(row.tag_names),
        favorited=bool(row.viewer_favorited),
        favorites_count=row.favorites_count,
        following_author=bool(row.following_author),
        with_body=with_body,
    )


def _single(row: AnyRow) -> dict[str, Any]:
    return {"article": _shape(row, with_body=True)}


def _page(
    executor: Executor,
    filters: dict[str, Any],
    page: Page,
    viewer_id: int | None,
) -> dict[str, Any]:
    count, listing = _list_statements(tuple(filters))
    window = {"limit": page.limit, "offset": page.offset, "viewer_id": viewer_id}
    rows = executor.execute(listing, filters | window).all()
    if rows:
        total = rows[0].total
    elif page.offset == 0:
        total = 0  # nothing on the first page: nothing at all
    else:
        total = executor.execute(count, filters).scalar() or 0
    return {
        "articles": [_shape(row, with_body=False) for row in rows],
        "articlesCount": total,
    }


def list_articles(
    executor: Executor,
    page: Page,
    viewer_id: int | None,
    *,
    tag: str | None = None,
    author: str | None = None,
    favorited: str | None = None,
) -> dict[str, Any]:
    filters = {
        name: value
        for name, value in (("tag", tag), ("author", author), ("favorited", favorited))
        if value is not None
    }
    return _page(executor, filters, page, viewer_id)


def feed(executor: Executor, page: Page, viewer_id: int) -> dict[str, Any]:
    return _page(executor, {"feed": viewer_id}, page, viewer_id)


def _row_by_slug(executor: Executor, slug: str, viewer_id: int | None) -> AnyRow:
    row = executor.execute(_ARTICLE_BY_SLUG, {"slug": slug, "viewer_id": viewer_id}).first()
    if row is None:
        raise NotFound(f"article {slug!r} not found")
    return row


def get_article(executor: Executor, slug: str, viewer_id: int | None) -> dict[str, Any]:
    return _single(_row_by_slug(executor, slug, viewer_id))


def _answer_for(session: Writer, article_id: int, viewer_id: int) -> dict[str, Any]:
    """What a write answers: the article as it now is, read as the reads read it."""
    row = session.execute(_ARTICLE_BY_ID, {"article_id": article_id, "viewer_id": viewer_id}).one()
    return _single(row)


# --- writes -----------------------------------------------------------------------------

_OWNED_BY_SLUG = select(articles.c.id, articles.c.author_id, articles.c.slug).where(
    articles.c.slug == bindparam("slug")
)
_TAG_IDS_NAMED = select(tags.c.name, tags.c.id).where(
    tags.c.name.in_(bindparam("names", expanding=True))
)
_TAG_ID_NAMED = select(tags.c.id).where(tags.c.name == bindparam("name"))
_TAG_IDS_OF = select(article_tags.c.tag_id).where(article_tags.c.article_id == bindparam("id"))
_AUTHOR = select(*_AUTHOR_COLUMNS).where(users.c.id == bindparam("user_id"))
# Every statement of creating or changing an article is built here, once, like every
# other write's, so SnapStart priming compiles them all.
_ADD_TAG = insert_new(tags, ("name",))
_TAG_LINKS = Association(article_tags, "article_id", "tag_id")
# An article's new tag links, inserted together.
_LINK_TAGS = _TAG_LINKS.add.execution_options(**{MANY_ROWS: True})
_UNLINK_TAGS = delete(article_tags).where(
    article_tags.c.article_id == bindparam("article_id"),
    article_tags.c.tag_id.in_(bindparam("tag_ids", expanding=True)),
)
_SLUG_TAKEN = select(articles.c.id).where(articles.c.slug == bindparam("slug"))
_SLUG_TAKEN_BY_ANOTHER = _SLUG_TAKEN.where(articles.c.id != bindparam("article_id"))
_NEW_ARTICLE_COLUMNS = (
    "slug", "author_id", "title", "description", "body", "created_at", "updated_at"
)  # fmt: skip
_ADD_ARTICLE = insert_new(articles, _NEW_ARTICLE_COLUMNS)
# One UPDATE for any set of changes (see flagged_values); updated_at is always set.
_CHANGEABLE = ("title", "description", "body")
_UPDATE_ARTICLE = (
    update(articles)
    .where(articles.c.id == bindparam("article_id"))
    .values(flagged_values(articles, _CHANGEABLE) | {"updated_at": bindparam("new_updated_at")})
)
_SET_SLUG = (
    update(articles)
    .where(articles.c.id == bindparam("article_id"))
    .values(slug=bindparam("new_slug"))
)


def _article_id_by_slug(session: Writer, slug: str) -> int:
    article_id = session.execute(_ARTICLE_ID_BY_SLUG, {"slug": slug}).scalar()
    if article_id is None:
        raise NotFound(f"article {slug!r} not found")
    return int(article_id)


def _owned_article(session: Writer, slug: str, user_id: int) -> AnyRow:
    """The row (id, author_id, slug) of the caller's own article `slug`."""
    item = session.execute(_OWNED_BY_SLUG, {"slug": slug}).first()
    if item is None:
        raise NotFound(f"article {slug!r} not found")
    if item.author_id != user_id:
        raise PermissionDenied("only the author may change this article")
    return item


def _tag_ids(session: Writer, names: Sequence[str]) -> list[int]:
    """The ids of the tags named `names`, in order, creating the missing ones."""
    if not names:
        return []
    found: dict[str, int] = dict(session.execute(_TAG_IDS_NAMED, {"names": list(names)}).all())
    for name in names:
        if name in found:
            continue
        try:
            with session.begin_nested():
                found[name] = inserted_id(session.execute(_ADD_TAG, new_values({"name": name})))
        except IntegrityError:
            # Created concurrently by another request: use that one.
            found[name] = session.execute(_TAG_ID_NAMED, {"name": name}).scalar_one()
    return [found[name] for name in names]


def _links(article_id: int, tag_ids: Iterable[int]) -> list[dict[str, int]]:
    """The parameters of _LINK_TAGS, one link per tag (run as an executemany)."""
    return [_TAG_LINKS.row(article_id=article_id, tag_id=tag_id) for tag_id in tag_ids]


def _set_tags(session: Writer, article_id: int, names: Sequence[str]) -> None:
    """The article's tags become `names`: links no longer wanted go, new ones come."""
    wanted = dict.fromkeys(_tag_ids(session, names))
    current = set(session.execute(_TAG_IDS_OF, {"id": article_id}).scalars())
    gone = current.difference(wanted)
    if gone:
        session.execute(_UNLINK_TAGS, {"article_id": article_id, "tag_ids": sorted(gone)})
    added = [tag_id for tag_id in wanted if tag_id not in current]
    if added:
        session.execute(_LINK_TAGS, _links(article_id, added))


def _slug_taken(session: Writer, slug: str, exclude_id: int | None) -> bool:
    if slug in RESERVED_SLUGS:
        return True
    if exclude_id is None:
        return session.execute(_SLUG_TAKEN, {"slug": slug}).first() is not None
    found = session.execute(_SLUG_TAKEN_BY_ANOTHER, {"slug": slug, "article_id": exclude_id})
    return found.first() is not None


def _with_unique_slug(
    session: Writer, title: str, write: Callable[[str], None], exclude_id: int | None
) -> None:
    """`write(slug)` with a slug from `title` that no other article has; a clash gets a
    random suffix. Each attempt runs in a savepoint, so a clash with a concurrent request
    (the unique index refuses it) rolls back to it instead of failing the transaction."""
    base = slugify(title)
    candidate = base
    for _ in range(_SLUG_ATTEMPTS):
        if not _slug_taken(session, candidate, exclude_id):
            try:
                with session.begin_nested():
                    write(candidate)
                return
            except IntegrityError:
                pass  # taken by a concurrent request since the check
        candidate = f"{base}-{secrets.token_hex(4)}"
    raise RuntimeError("could not find a free slug")  # pragma: no cover - 2**32 odds per try


def create_article(session: Writer, author_id: int, new: NewArticle) -> dict[str, Any]:
    """The new article, answered from what was written (not read back): nobody has
    favorited it yet, and its author cannot follow themself."""
    author = session.execute(_AUTHOR, {"user_id": author_id}).first()
    if author is None:
        raise NotFound("author not found")
    tag_ids = _tag_ids(session, new.tags)
    now = utcnow()
    item = SimpleNamespace(title=new.title, description=new.description, body=new.body,
                           created_at=now, updated_at=now)  # fmt: skip
    created: list[int] = []

    def insert_article(slug: str) -> None:
        row = vars(item) | {"slug": slug, "author_id": author_id}
        values = new_values({name: row[name] for name in _NEW_ARTICLE_COLUMNS})
        created.append(inserted_id(session.execute(_ADD_ARTICLE, values)))
        item.slug = slug

    _with_unique_slug(session, new.title, insert_article, None)
    [article_id] = created
    if tag_ids:
        session.execute(_LINK_TAGS, _links(article_id, dict.fromkeys(tag_ids)))
    article = shapes.article(item, author=author, tags=new.tags, favorited=False,
                             favorites_count=0, following_author=False)  # fmt: skip
    return {"article": article}


def update_article(
    session: Writer, slug: str, user_id: int, changes: dict[str, Any]
) -> dict[str, Any]:
    item = _owned_article(session, slug, user_id)
    values = {name: changes[name] for name in _CHANGEABLE if name in changes}
    changed = flags(_CHANGEABLE, values) | {"new_updated_at": utcnow()}
    session.execute(_UPDATE_ARTICLE, {"article_id": item.id, **changed})
    if "tags" in changes:
        _set_tags(session, item.id, changes["tags"])
    if "title" in changes and slugify(changes["title"]) != slugify_base(item.slug):

        def set_slug(candidate: str) -> None:
            session.execute(_SET_SLUG, {"article_id": item.id, "new_slug": candidate})

        _with_unique_slug(session, changes["title"], set_slug, item.id)
    return _answer_for(session, item.id, user_id)


def slugify_base(slug: str) -> str:
    """The slug without the random suffix a clash may have added."""
    return re.sub(r"-[0-9a-f]{8}$", "", slug)


_DELETE_ARTICLE = delete(articles).where(articles.c.id == bindparam("article_id"))


def delete_article(session: Writer, slug: str, user_id: int) -> None:
    item = _owned_article(session, slug, user_id)
    # Comments, favorites and tag links go with it through ON DELETE CASCADE.
    session.execute(_DELETE_ARTICLE, {"article_id": item.id})


_FAVORITES = Association(favorites, "user_id", "article_id")


def favorite(session: Writer, slug: str, user_id: int) -> dict[str, Any]:
    article_id = _article_id_by_slug(session, slug)
    _FAVORITES.insert_if_absent(session, user_id=user_id, article_id=article_id)
    return _answer_for(session, article_id, user_id)


def unfavorite(session: Writer, slug: str, user_id: int) -> dict[str, Any]:
    article_id = _article_id_by_slug(session, slug)
    _FAVORITES.delete(session, user_id=user_id, article_id=article_id)
    return _answer_for(session, article_id, user_id)
