"""The reads answer in one statement (plus the account check of a token), on each backend:
the tags come back through the database's JSON aggregate, the list's count and the
viewer's follows as columns of the rows read. What that must not change: any tag name
reads back exactly as written, an article without tags has none, a page past the end
still counts the list, an article without comments has none."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core.errors import NotFound
from app.core.services import articles, comments, profiles
from app.core.validation import NewArticle, Page
from tests.support.services import register

# Names a JSON aggregate must escape, and characters beyond ASCII and the BMP.
AWKWARD_TAGS = [
    'say "hi"', "back\\slash", "comma,semi;colon", "tab\there", "new\nline", "\x01bell",
    "nul\x00byte", "ünïcödé", "🎉 party", "line\u2028separator", "[not, json]", "null", "x" * 64,
]  # fmt: skip


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs."""
    sent: list[str] = []
    connection = session.connection()

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(connection, "before_cursor_execute", record)


def new_article(session: Session, author_id: int, title: str, tags: list[str]) -> str:
    new = NewArticle(title=title, description="D", body="B", tags=sorted(tags))
    return str(articles.create_article(session, author_id, new)["article"]["slug"])


def test_any_tag_name_reads_back_as_written(session: Session) -> None:
    author = register(session, "author")
    reader = register(session, "reader")
    profiles.follow(session, "author", reader)
    slug = new_article(session, author, "Awkward", AWKWARD_TAGS)
    bare = new_article(session, author, "Bare", [])
    page = Page(limit=10, offset=0)

    listed = articles.list_articles(session, page, reader)["articles"]
    fed = articles.feed(session, page, reader)["articles"]
    for found in (listed, fed):
        assert {a["slug"]: a["tagList"] for a in found} == {slug: sorted(AWKWARD_TAGS), bare: []}
    assert articles.get_article(session, slug, None)["article"]["tagList"] == sorted(AWKWARD_TAGS)
    assert articles.get_article(session, bare, None)["article"]["tagList"] == []
    tagged = articles.list_articles(session, page, None, tag='say "hi"')["articles"]
    assert [a["tagList"] for a in tagged] == [sorted(AWKWARD_TAGS)]


def test_the_viewers_follows_and_favorites_are_per_row(session: Session) -> None:
    followed, other = register(session, "followed"), register(session, "other")
    viewer = register(session, "viewer")
    profiles.follow(session, "followed", viewer)
    mine, theirs = new_article(session, followed, "Mine", []), new_article(session, other, "T", [])
    articles.favorite(session, theirs, viewer)
    page = Page(limit=10, offset=0)

    seen = {
        a["slug"]: (a["author"]["following"], a["favorited"], a["favoritesCount"])
        for a in articles.list_articles(session, page, viewer)["articles"]
    }
    assert seen == {mine: (True, False, 0), theirs: (False, True, 1)}
    anonymous = articles.list_articles(session, page, None)["articles"]
    assert {(a["author"]["following"], a["favorited"]) for a in anonymous} == {(False, False)}
    assert profiles.get_profile(session, "followed", viewer)["profile"]["following"] is True
    assert profiles.get_profile(session, "other", viewer)["profile"]["following"] is False
    assert profiles.get_profile(session, "followed", None)["profile"]["following"] is False


def test_a_page_past_the_end_still_counts_the_list(session: Session) -> None:
    author = register(session, "author")
    for title in ("One", "Two", "Three"):
        new_article(session, author, title, ["t"])

    past = articles.list_articles(session, Page(limit=2, offset=5), None, tag="t")
    assert past == {"articles": [], "articlesCount": 3}
    last = articles.list_articles(session, Page(limit=2, offset=2), None, tag="t")
    assert (len(last["articles"]), last["articlesCount"]) == (1, 3)
    none = articles.list_articles(session, Page(limit=2, offset=0), None, tag="nothing")
    assert none == {"articles": [], "articlesCount": 0}


def test_comments_of_an_article_without_any_and_of_no_article(session: Session) -> None:
    author, fan = register(session, "author"), register(session, "fan")
    slug = new_article(session, author, "Quiet", [])
    assert comments.list_comments(session, slug, None) == {"comments": []}
    with pytest.raises(NotFound):
        comments.list_comments(session, "no-such-article", None)
    comments.add_comment(session, slug, author, "first")
    comments.add_comment(session, slug, fan, "second")
    profiles.follow(session, "author", fan)
    listed = comments.list_comments(session, slug, fan)["comments"]
    assert [(c["body"], c["author"]["following"]) for c in listed] == [
        ("first", True),
        ("second", False),
    ]


def test_each_read_is_one_statement(session: Session) -> None:
    author, viewer = register(session, "author"), register(session, "viewer")
    profiles.follow(session, "author", viewer)
    slug = new_article(session, author, "Counted", ["a", "b"])
    comments.add_comment(session, slug, author, "hello")
    page = Page(limit=20, offset=0)
    reads = {
        "list": lambda: articles.list_articles(session, page, viewer),
        "feed": lambda: articles.feed(session, page, viewer),
        "article": lambda: articles.get_article(session, slug, viewer),
        "comments": lambda: comments.list_comments(session, slug, viewer),
        "profile": lambda: profiles.get_profile(session, "author", viewer),
    }
    for name, read in reads.items():
        with statements(session) as sent:
            read()
        assert len(sent) == 1, (name, sent)
