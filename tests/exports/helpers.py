"""A small world to export, and what jake's export of it must say."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import Account, Actions

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
EXPORT_ID = re.compile(r"^[0-9a-f]{32}$")


def populate(actions: Actions) -> tuple[Account, Account]:
    """jake writes two articles and two comments, favorites one of jane's articles and
    follows jane; jane writes, comments and favorites too (none of it is jake's data)."""
    jake = actions.register("jake")
    jane = actions.register("jane")
    dragons = actions.article(jake, "Dragons", tagList=["training", "dragons"])
    actions.article(jake, "Knights")
    hers = actions.article(jane, "Unicorns")
    actions.comment(jake, hers["slug"], "Lovely unicorns")
    actions.comment(jake, dragons["slug"], "Thanks all")
    actions.comment(jane, dragons["slug"], "Nice dragons")
    actions.favorite(jake, hers["slug"])
    actions.favorite(jane, dragons["slug"])
    actions.follow(jake, "jane")
    actions.follow(jane, "jake")
    return jake, jane


def assert_jakes_export(document: Any) -> None:
    assert set(document) == {
        "formatVersion",
        "generatedAt",
        "profile",
        "articles",
        "comments",
        "favorites",
        "following",
    }
    assert document["formatVersion"] == 1
    assert TIMESTAMP.match(document["generatedAt"])
    profile = document["profile"]
    assert profile["username"] == "jake"
    assert profile["email"] == "jake@example.com"
    assert profile["bio"] == ""
    assert profile["image"] is None
    assert TIMESTAMP.match(profile["createdAt"])
    assert "password_hash" not in profile and "token" not in profile

    articles = document["articles"]
    assert [item["title"] for item in articles] == ["Dragons", "Knights"]
    dragons = articles[0]
    assert set(dragons) == {
        "slug",
        "title",
        "description",
        "body",
        "tagList",
        "createdAt",
        "updatedAt",
        "favoritesCount",
    }
    assert dragons["slug"] == "dragons"
    assert dragons["body"] == "It takes a Jacobian"
    assert dragons["tagList"] == ["dragons", "training"]
    assert dragons["favoritesCount"] == 1
    assert articles[1]["tagList"] == [] and articles[1]["favoritesCount"] == 0

    comments = document["comments"]
    assert [(item["article"], item["body"]) for item in comments] == [
        ("unicorns", "Lovely unicorns"),
        ("dragons", "Thanks all"),
    ]
    assert all(
        isinstance(item["id"], int) and TIMESTAMP.match(item["createdAt"]) for item in comments
    )

    assert document["favorites"] == [{"slug": "unicorns", "title": "Unicorns", "author": "jane"}]
    assert document["following"] == [{"username": "jane", "bio": "", "image": None}]


def without_generated_at(document: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in document.items() if name != "generatedAt"}
