"""The feed: GET /articles/feed, articles by the authors the caller follows."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from app.platform.db import Database
from tests.support.api import TIMESTAMP, Account, Actions, assert_error, insert_articles


def feed(client: FlaskClient, reader: Account, query: str = "") -> dict[str, Any]:
    response = client.get(f"/api/articles/feed{query}", headers=reader.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert set(response.json) == {"articles", "articlesCount"}
    return response.json  # type: ignore[no-any-return]


def slugs(payload: dict[str, Any]) -> list[str]:
    return [article["slug"] for article in payload["articles"]]


@pytest.fixture
def reader(actions: Actions) -> Account:
    """reader follows jake and jane, not joe; each has written articles."""
    jake = actions.register("jake")
    jane = actions.register("jane")
    joe = actions.register("joe")
    reader = actions.register("reader")
    actions.article(jake, title="Jake one")
    actions.article(joe, title="Joe one")
    actions.article(jane, title="Jane one")
    actions.article(reader, title="Reader one")
    actions.article(jake, title="Jake two")
    actions.follow(reader, "jake")
    actions.follow(reader, "jane")
    return reader


def test_feed_needs_a_token(client: FlaskClient) -> None:
    assert assert_error(client.get("/api/articles/feed"), 401) == ["authorization is required"]


def test_feed_is_empty_when_following_nobody(client: FlaskClient, actions: Actions) -> None:
    jake = actions.register()
    actions.article(jake)
    loner = actions.register("loner")
    assert feed(client, loner) == {"articles": [], "articlesCount": 0}


def test_feed_has_followed_authors_only_newest_first(client: FlaskClient, reader: Account) -> None:
    payload = feed(client, reader)
    assert slugs(payload) == ["jake-two", "jane-one", "jake-one"]
    assert payload["articlesCount"] == 3
    for article in payload["articles"]:
        assert "body" not in article
        assert article["author"]["following"] is True
        assert article["author"]["username"] in {"jake", "jane"}
        assert TIMESTAMP.match(article["createdAt"])


def test_feed_is_per_reader(client: FlaskClient, actions: Actions, reader: Account) -> None:
    joe_fan = actions.register("joefan")
    actions.follow(joe_fan, "joe")
    assert slugs(feed(client, joe_fan)) == ["joe-one"]


def test_unfollowing_removes_an_author_from_the_feed(client: FlaskClient, reader: Account) -> None:
    client.delete("/api/profiles/jake/follow", headers=reader.headers)
    assert slugs(feed(client, reader)) == ["jane-one"]


def test_feed_shows_the_readers_favorites(
    client: FlaskClient, actions: Actions, reader: Account
) -> None:
    actions.favorite(reader, "jane-one")
    other = actions.register("other")
    actions.favorite(other, "jane-one")
    actions.favorite(other, "jake-one")
    flags = {
        article["slug"]: (article["favorited"], article["favoritesCount"])
        for article in feed(client, reader)["articles"]
    }
    assert flags == {"jake-two": (False, 0), "jane-one": (True, 2), "jake-one": (False, 1)}


def test_deleted_articles_leave_the_feed(
    client: FlaskClient, actions: Actions, reader: Account
) -> None:
    jane = actions.register("jane2")
    actions.follow(reader, "jane2")
    actions.article(jane, title="Gone soon")
    assert "gone-soon" in slugs(feed(client, reader))
    client.delete("/api/articles/gone-soon", headers=jane.headers)
    assert "gone-soon" not in slugs(feed(client, reader))


@pytest.mark.parametrize(
    ("query", "window"),
    [
        ("", slice(0, 20)),
        ("?limit=3", slice(0, 3)),
        ("?limit=3&offset=21", slice(21, 24)),
        ("?offset=20", slice(20, 25)),
        ("?limit=500", slice(0, 25)),
        ("?offset=25", slice(25, 25)),
    ],
)
def test_feed_pages(
    client: FlaskClient, actions: Actions, database: Database, query: str, window: slice
) -> None:
    actions.register("prolific")
    reader = actions.register("reader")
    actions.follow(reader, "prolific")
    newest_first = insert_articles(database, "prolific", 25)
    payload = feed(client, reader, query)
    assert slugs(payload) == newest_first[window]
    assert payload["articlesCount"] == 25
