"""Favorites: POST/DELETE /articles/{slug}/favorite, and the counts every viewer sees."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from app.core.models import favorites
from app.platform.db import Database
from tests.support.api import Account, Actions, assert_error, count_rows


@pytest.fixture
def jake(actions: Actions) -> Account:
    jake = actions.register()
    actions.article(jake)
    return jake


SLUG = "how-to-train-your-dragon"


def favorite(client: FlaskClient, user: Account, method: str = "POST") -> dict[str, Any]:
    response = client.open(f"/api/articles/{SLUG}/favorite", method=method, headers=user.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["article"]  # type: ignore[no-any-return]


def seen_by(client: FlaskClient, viewer: Account | None) -> tuple[bool, int]:
    response = client.get(f"/api/articles/{SLUG}", headers=viewer.headers if viewer else {})
    article = response.json["article"]
    return article["favorited"], article["favoritesCount"]


def test_favorite_returns_the_article_favorited(
    client: FlaskClient, actions: Actions, jake: Account
) -> None:
    fan = actions.register("fan")
    article = favorite(client, fan)
    assert article["slug"] == SLUG
    assert article["body"] == "It takes a Jacobian"
    assert (article["favorited"], article["favoritesCount"]) == (True, 1)
    assert article["author"]["username"] == "jake"


def test_favorites_count_and_flag_per_viewer(
    client: FlaskClient, actions: Actions, jake: Account
) -> None:
    fan = actions.register("fan")
    other = actions.register("other")
    bystander = actions.register("bystander")
    favorite(client, fan)
    article = favorite(client, other)
    assert (article["favorited"], article["favoritesCount"]) == (True, 2)

    assert seen_by(client, fan) == (True, 2)
    assert seen_by(client, other) == (True, 2)
    assert seen_by(client, bystander) == (False, 2)
    assert seen_by(client, jake) == (False, 2)
    assert seen_by(client, None) == (False, 2)


def test_favorite_twice_is_idempotent(
    client: FlaskClient, actions: Actions, database: Database, jake: Account
) -> None:
    fan = actions.register("fan")
    favorite(client, fan)
    article = favorite(client, fan)
    assert (article["favorited"], article["favoritesCount"]) == (True, 1)
    assert count_rows(database, favorites) == 1


def test_authors_may_favorite_their_own_article(client: FlaskClient, jake: Account) -> None:
    article = favorite(client, jake)
    assert (article["favorited"], article["favoritesCount"]) == (True, 1)


def test_unfavorite(
    client: FlaskClient, actions: Actions, database: Database, jake: Account
) -> None:
    fan = actions.register("fan")
    other = actions.register("other")
    favorite(client, fan)
    favorite(client, other)

    article = favorite(client, fan, "DELETE")
    assert (article["favorited"], article["favoritesCount"]) == (False, 1)
    assert seen_by(client, fan) == (False, 1)
    assert seen_by(client, other) == (True, 1)
    assert count_rows(database, favorites) == 1


def test_unfavorite_when_not_favorited_is_harmless(
    client: FlaskClient, actions: Actions, jake: Account
) -> None:
    fan = actions.register("fan")
    favorite(client, jake)
    article = favorite(client, fan, "DELETE")
    assert (article["favorited"], article["favoritesCount"]) == (False, 1)


def test_favorites_filter_follows_favorite_and_unfavorite(
    client: FlaskClient, actions: Actions, jake: Account
) -> None:
    fan = actions.register("fan")
    favorite(client, fan)
    listed = client.get("/api/articles?favorited=fan", headers=fan.headers).json
    assert [a["slug"] for a in listed["articles"]] == [SLUG]
    assert listed["articles"][0]["favorited"] is True
    assert listed["articlesCount"] == 1

    favorite(client, fan, "DELETE")
    assert client.get("/api/articles?favorited=fan").json == {"articles": [], "articlesCount": 0}


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_favorite_unknown_article_is_404(
    client: FlaskClient, actions: Actions, database: Database, method: str
) -> None:
    fan = actions.register("fan")
    response = client.open("/api/articles/nope/favorite", method=method, headers=fan.headers)
    assert assert_error(response, 404) == ["article 'nope' not found"]
    assert count_rows(database, favorites) == 0
