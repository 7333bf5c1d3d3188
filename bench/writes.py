"""What the bench sends to a write route: one valid request per invocation.

A write changes the data, so a process that serves a write route is sent a request of its
own for every invocation, each one that succeeds (2xx) on whichever side serves it: a
title never used before, an article of the writer's to delete, a favorite to remove. What
each needs (an article, a comment, a favorite, an account to follow) is put in place
before the process starts, outside anything timed, and everything the writer did is
undone after it, so the reads measured next see the seeded data again.

Every write is the writer's, a seeded account of its own that owns none of the data the
reads are measured on. Comments go to `article-1` (the reads list `article-0`'s), and
favorites to articles far below the first page of the list.
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from app.core import tables

WRITER = "writer"
# Where the comments go, and the first of the articles favorited: none of them is read.
COMMENTED_SLUG = "article-1"
FAVORITED_FROM = 500
FOLLOWED_PREFIX = "followed"

_serial = itertools.count(1)

# (path, JSON body or None) of one invocation.
Request = tuple[str, dict[str, Any] | None]


def seed_writer(connection: Connection) -> None:
    now = tables.utcnow()
    connection.execute(insert(tables.users), [
        {"username": WRITER, "email": f"{WRITER}@example.com", "password_hash": "x", "bio": "",
         "image": None, "created_at": now, "updated_at": now}
    ])  # fmt: skip


def writer_id(connection: Connection) -> int:
    return int(connection.execute(select(tables.users.c.id).where(
        tables.users.c.username == WRITER)).scalar_one())  # fmt: skip


def _writer_articles(connection: Connection, count: int) -> list[str]:
    """`count` new articles by the writer, with no tags, comments or favorites."""
    serial, now, author = next(_serial), tables.utcnow(), writer_id(connection)
    slugs = [f"writer-{serial}-{k}" for k in range(count)]
    connection.execute(insert(tables.articles), [
        {"slug": slug, "title": slug, "description": "d", "body": "b", "author_id": author,
         "created_at": now, "updated_at": now}
        for slug in slugs
    ])  # fmt: skip
    return slugs


def _followed_accounts(connection: Connection, count: int) -> list[str]:
    """`count` accounts the writer may follow, made once and reused."""
    names = [f"{FOLLOWED_PREFIX}{k}" for k in range(count)]
    existing = set(connection.execute(select(tables.users.c.username).where(
        tables.users.c.username.in_(names))).scalars())  # fmt: skip
    now = tables.utcnow()
    missing = [name for name in names if name not in existing]
    if missing:
        connection.execute(insert(tables.users), [
            {"username": name, "email": f"{name}@example.com", "password_hash": "x", "bio": "",
             "image": None, "created_at": now, "updated_at": now}
            for name in missing
        ])  # fmt: skip
    return names


def _ids(connection: Connection, column: Any, names: list[str]) -> list[int]:
    table = column.table
    found = dict(connection.execute(select(column, table.c.id).where(column.in_(names))).all())
    return [found[name] for name in names]


# The writer's links to other rows, by route path: the table, the writer's column, the
# target's column, and the column that names a target in the path.
_LINKS = {
    "/api/articles/{slug}/favorite": (
        tables.favorites,
        "user_id",
        "article_id",
        tables.articles.c.slug,
    ),
    "/api/profiles/{username}/follow": (
        tables.follows,
        "follower_id",
        "followed_id",
        tables.users.c.username,
    ),
}


def prepare(connection: Connection, route: str, count: int) -> list[Request]:
    """`count` requests to `route` that each succeed when sent in order by the writer."""
    me = writer_id(connection)
    if route == "POST /api/articles":
        serial = next(_serial)
        return [("/api/articles", {"article": {
            "title": f"Bench {serial} {k}", "description": "About it", "body": "Lorem ipsum",
            "tagList": ["tag1", "tag2"]}}) for k in range(count)]  # fmt: skip
    if route == "PUT /api/articles/{slug}":
        [slug] = _writer_articles(connection, 1)
        return [(f"/api/articles/{slug}", {"article": {"body": f"Body {k}"}}) for k in range(count)]
    if route == "DELETE /api/articles/{slug}":
        return [(f"/api/articles/{slug}", None) for slug in _writer_articles(connection, count)]
    method, _, path = route.partition(" ")
    if path in _LINKS:
        # Favorite or follow one target per request; removing needs the link in place.
        table, mine, theirs, key = _LINKS[path]
        if key is tables.users.c.username:
            names = _followed_accounts(connection, count)
        else:
            names = [f"article-{FAVORITED_FROM + k}" for k in range(count)]
        if method == "DELETE":
            connection.execute(insert(table), [
                {mine: me, theirs: target} for target in _ids(connection, key, names)
            ])  # fmt: skip
        [parameter] = (part.strip("{}") for part in path.split("/") if part.startswith("{"))
        return [(path.format(**{parameter: name}), None) for name in names]
    if route == "POST /api/articles/{slug}/comments":
        return [(f"/api/articles/{COMMENTED_SLUG}/comments", {"comment": {"body": f"Comment {k}"}})
                for k in range(count)]  # fmt: skip
    if route == "DELETE /api/articles/{slug}/comments/{comment_id}":
        [article_id] = _ids(connection, tables.articles.c.slug, [COMMENTED_SLUG])
        now = tables.utcnow()
        ids = [connection.execute(insert(tables.comments).values(
            body=f"Comment {k}", article_id=article_id, author_id=me, created_at=now,
            updated_at=now)).inserted_primary_key[0] for k in range(count)]  # fmt: skip
        return [(f"/api/articles/{COMMENTED_SLUG}/comments/{i}", None) for i in ids]
    if route == "PUT /api/user":
        return [("/api/user", {"user": {"bio": f"Bio {k}"}}) for k in range(count)]
    raise SystemExit(f"bench: no requests for the write route {route} (add them in {__name__})")


def undo(connection: Connection) -> None:
    """Everything the writer did, undone (without relying on ON DELETE CASCADE, which
    SQLite applies only where foreign keys are turned on)."""
    me = writer_id(connection)
    own = select(tables.articles.c.id).where(tables.articles.c.author_id == me)
    for table, column in ((tables.article_tags, "article_id"), (tables.favorites, "article_id"),
                          (tables.comments, "article_id")):  # fmt: skip
        connection.execute(delete(table).where(table.c[column].in_(own)))
    connection.execute(delete(tables.articles).where(tables.articles.c.author_id == me))
    connection.execute(delete(tables.comments).where(tables.comments.c.author_id == me))
    connection.execute(delete(tables.favorites).where(tables.favorites.c.user_id == me))
    connection.execute(delete(tables.follows).where(tables.follows.c.follower_id == me))
    connection.execute(update(tables.users).where(tables.users.c.id == me).values(bio=""))
