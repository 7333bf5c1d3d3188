"""Services called directly with a session, on each backend: the behaviour behind the API
that a client cannot easily provoke (races, cascades, rows left behind)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.errors import ValidationFailed
from app.core.models import Article, Comment, Tag, article_tags, favorites, follows
from app.core.services import _common, articles, comments, profiles, tags, users
from app.core.validation import NewArticle, NewUser
from tests.support.services import PASSWORDS, TOKENS, register


def write(session: Session, author_id: int, title: str, tag_names: list[str]) -> str:
    new = NewArticle(title=title, description="D", body="B", tags=sorted(tag_names))
    return str(articles.create_article(session, author_id, new)["article"]["slug"])


def count(session: Session, table: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(table).where(*where)) or 0


def pretend_absent(monkeypatch: pytest.MonkeyPatch, session: Session) -> None:
    """Make the existence check miss, as when another request inserts the same row
    between our check and our insert."""
    real_scalar = session.scalar

    def scalar(statement: Any, *args: Any, **kwargs: Any) -> Any:
        if "SELECT 1" in str(statement):
            return None
        return real_scalar(statement, *args, **kwargs)

    monkeypatch.setattr(session, "scalar", scalar)


# -- insert_if_absent ---------------------------------------------------------------------

FOLLOW = _common.Association(follows, "follower_id", "followed_id")


def test_insert_if_absent_inserts_once(session: Session) -> None:
    fan, celeb = register(session, "fan"), register(session, "celeb")
    for _ in range(3):
        FOLLOW.insert_if_absent(session, follower_id=fan, followed_id=celeb)
    assert count(session, follows) == 1


def test_insert_if_absent_tolerates_a_concurrent_duplicate(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    fan, celeb = register(session, "fan"), register(session, "celeb")
    FOLLOW.insert_if_absent(session, follower_id=fan, followed_id=celeb)

    pretend_absent(monkeypatch, session)
    FOLLOW.insert_if_absent(session, follower_id=fan, followed_id=celeb)

    # The duplicate was absorbed by its savepoint; the transaction goes on.
    assert count(session, follows) == 1
    monkeypatch.undo()
    profiles.follow(session, "fan", celeb)
    assert count(session, follows) == 2


def test_favorite_through_a_race_is_still_one_favorite(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    jake = register(session, "jake")
    fan = register(session, "fan")
    slug = write(session, jake, "Racy", [])
    articles.favorite(session, slug, fan)
    pretend_absent(monkeypatch, session)
    article = articles.favorite(session, slug, fan)["article"]
    assert (article["favorited"], article["favoritesCount"]) == (True, 1)


# -- articles ------------------------------------------------------------------------------


def test_tags_are_created_once_and_reused(session: Session) -> None:
    jake = register(session, "jake")
    write(session, jake, "One", ["dragons", "training"])
    write(session, jake, "Two", ["dragons"])
    write(session, jake, "Three", ["training", "cats"])
    assert sorted(session.scalars(select(Tag.name))) == ["cats", "dragons", "training"]
    assert count(session, article_tags) == 5
    dragons = session.scalars(select(Tag.id).where(Tag.name == "dragons")).one()
    assert count(session, article_tags, article_tags.c.tag_id == dragons) == 2


def test_updating_tags_reuses_existing_rows(session: Session) -> None:
    jake = register(session, "jake")
    write(session, jake, "One", ["dragons"])
    slug = write(session, jake, "Two", ["cats"])
    articles.update_article(session, slug, jake, {"tags": ["cats", "dragons"]})
    assert count(session, Tag) == 2
    assert count(session, article_tags) == 3


def test_a_concurrent_slug_clash_gets_a_suffix(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    jake = register(session, "jake")
    first = write(session, jake, "Same title", ["t"])
    # The check says the slug is free; the unique index says otherwise.
    monkeypatch.setattr(articles, "_slug_taken", lambda *args: False)
    second = write(session, jake, "Same title", ["t"])
    assert first == "same-title"
    assert re.fullmatch(r"same-title-[0-9a-f]{8}", second)
    assert articles.get_article(session, second, None)["article"]["tagList"] == ["t"]
    assert count(session, Article) == 2


def test_a_concurrent_slug_clash_on_update_gets_a_suffix(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    jake = register(session, "jake")
    write(session, jake, "Taken", [])
    slug = write(session, jake, "Mine", ["t"])
    monkeypatch.setattr(articles, "_slug_taken", lambda *args: False)
    updated = articles.update_article(session, slug, jake, {"title": "Taken", "body": "New"})
    article = updated["article"]
    assert re.fullmatch(r"taken-[0-9a-f]{8}", article["slug"])
    assert (article["title"], article["body"], article["tagList"]) == ("Taken", "New", ["t"])
    stored = articles.get_article(session, article["slug"], None)["article"]
    assert stored == article


def test_delete_article_cascades(session: Session) -> None:
    jake = register(session, "jake")
    fan = register(session, "fan")
    doomed = write(session, jake, "Doomed", ["dragons", "cats"])
    kept = write(session, jake, "Kept", ["dragons"])
    for slug in (doomed, kept):
        comments.add_comment(session, slug, fan, "Nice")
        articles.favorite(session, slug, fan)
    doomed_id = session.scalars(select(Article.id).where(Article.slug == doomed)).one()

    articles.delete_article(session, doomed, jake)

    assert count(session, Article, Article.id == doomed_id) == 0
    assert count(session, Comment, Comment.article_id == doomed_id) == 0
    assert count(session, favorites, favorites.c.article_id == doomed_id) == 0
    assert count(session, article_tags, article_tags.c.article_id == doomed_id) == 0
    # The other article keeps all of its own.
    assert count(session, Comment) == 1
    assert count(session, favorites) == 1
    assert count(session, article_tags) == 1


def test_list_tags_hides_tags_of_deleted_articles(session: Session) -> None:
    jake = register(session, "jake")
    doomed = write(session, jake, "Doomed", ["orphan", "shared"])
    write(session, jake, "Kept", ["shared"])
    assert tags.list_tags(session) == {"tags": ["orphan", "shared"]}

    articles.delete_article(session, doomed, jake)

    assert tags.list_tags(session) == {"tags": ["shared"]}
    # The row is still there, only hidden; a new article picks it up again.
    assert count(session, Tag, Tag.name == "orphan") == 1
    write(session, jake, "Revival", ["orphan"])
    assert tags.list_tags(session) == {"tags": ["orphan", "shared"]}


def test_list_tags_lists_each_tag_once(session: Session) -> None:
    jake = register(session, "jake")
    for title in ("A", "B", "C"):
        write(session, jake, title, ["same"])
    assert tags.list_tags(session) == {"tags": ["same"]}


# -- users ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["username", "email"])
def test_a_concurrent_duplicate_registration_is_a_422(
    session: Session, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    register(session, "jake")
    # The availability check passes; the unique index catches the duplicate.
    monkeypatch.setattr(users, "_ensure_available", lambda *args, **kwargs: None)
    duplicate = {
        "username": NewUser("jake", "other@example.com", "password123"),
        "email": NewUser("other", "jake@example.com", "password123"),
    }[field]
    with pytest.raises(ValidationFailed) as caught:
        users.register(session, PASSWORDS, TOKENS, duplicate)
    assert caught.value.messages == ["username or email has already been taken"]
    session.rollback()
