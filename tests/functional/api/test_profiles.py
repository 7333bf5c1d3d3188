"""Profiles and follows: GET /profiles/{username}, POST/DELETE /profiles/{username}/follow."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from app.core.models import follows
from app.platform.db import Database
from tests.support.api import Account, Actions, assert_error, count_rows


def profile_as(client: FlaskClient, username: str, viewer: Account | None) -> dict[str, object]:
    headers = viewer.headers if viewer else {}
    response = client.get(f"/api/profiles/{username}", headers=headers)
    assert response.status_code == 200
    return response.json["profile"]  # type: ignore[no-any-return]


def test_get_profile_anonymously(client: FlaskClient, actions: Actions) -> None:
    actions.register("celeb")
    assert profile_as(client, "celeb", None) == {
        "username": "celeb",
        "bio": "",
        "image": None,
        "following": False,
    }


def test_profile_shows_bio_and_image(client: FlaskClient, actions: Actions) -> None:
    celeb = actions.register("celeb")
    client.put(
        "/api/user", json={"user": {"bio": "Famous", "image": "c.png"}}, headers=celeb.headers
    )
    profile = profile_as(client, "celeb", None)
    assert (profile["bio"], profile["image"]) == ("Famous", "c.png")


@pytest.mark.parametrize("username", ["nobody", "Celeb", "celeb-", "c%C3%A9leb"])
def test_get_unknown_profile_is_404(client: FlaskClient, actions: Actions, username: str) -> None:
    actions.register("celeb")
    messages = assert_error(client.get(f"/api/profiles/{username}"), 404)
    assert messages[0].startswith("profile ")


def test_follow_sets_following_for_the_follower_only(client: FlaskClient, actions: Actions) -> None:
    celeb = actions.register("celeb")
    fan = actions.register("fan")
    other = actions.register("other")

    response = client.post("/api/profiles/celeb/follow", headers=fan.headers)
    assert response.status_code == 200
    assert response.json == {
        "profile": {"username": "celeb", "bio": "", "image": None, "following": True}
    }
    assert profile_as(client, "celeb", fan)["following"] is True
    assert profile_as(client, "celeb", other)["following"] is False
    assert profile_as(client, "celeb", None)["following"] is False
    # Following is one way.
    assert profile_as(client, "fan", celeb)["following"] is False


def test_follow_twice_is_idempotent(
    client: FlaskClient, actions: Actions, database: Database
) -> None:
    actions.register("celeb")
    fan = actions.register("fan")
    for _ in range(2):
        response = client.post("/api/profiles/celeb/follow", headers=fan.headers)
        assert response.status_code == 200
        assert response.json["profile"]["following"] is True
    assert count_rows(database, follows) == 1


def test_unfollow(client: FlaskClient, actions: Actions, database: Database) -> None:
    actions.register("celeb")
    fan = actions.register("fan")
    actions.follow(fan, "celeb")

    response = client.delete("/api/profiles/celeb/follow", headers=fan.headers)
    assert response.status_code == 200
    assert response.json["profile"] == {
        "username": "celeb",
        "bio": "",
        "image": None,
        "following": False,
    }
    assert profile_as(client, "celeb", fan)["following"] is False
    assert count_rows(database, follows) == 0


def test_unfollow_when_not_following_is_harmless(client: FlaskClient, actions: Actions) -> None:
    actions.register("celeb")
    fan = actions.register("fan")
    response = client.delete("/api/profiles/celeb/follow", headers=fan.headers)
    assert response.status_code == 200
    assert response.json["profile"]["following"] is False


def test_unfollow_leaves_other_follows_alone(
    client: FlaskClient, actions: Actions, database: Database
) -> None:
    actions.register("celeb")
    actions.register("star")
    fan = actions.register("fan")
    other = actions.register("other")
    actions.follow(fan, "celeb")
    actions.follow(fan, "star")
    actions.follow(other, "celeb")

    client.delete("/api/profiles/celeb/follow", headers=fan.headers)
    assert profile_as(client, "star", fan)["following"] is True
    assert profile_as(client, "celeb", other)["following"] is True
    assert count_rows(database, follows) == 2


@pytest.mark.parametrize("method", ["post", "delete"])
def test_follow_or_unfollow_unknown_user_is_404(
    client: FlaskClient, actions: Actions, database: Database, method: str
) -> None:
    fan = actions.register("fan")
    response = client.open("/api/profiles/nobody/follow", method=method, headers=fan.headers)
    assert assert_error(response, 404) == ["profile 'nobody' not found"]
    assert count_rows(database, follows) == 0


def test_cannot_follow_yourself(client: FlaskClient, actions: Actions, database: Database) -> None:
    fan = actions.register("fan")
    response = client.post("/api/profiles/fan/follow", headers=fan.headers)
    assert assert_error(response, 422) == ["you cannot follow yourself"]
    assert count_rows(database, follows) == 0
