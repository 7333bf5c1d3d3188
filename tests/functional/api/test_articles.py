"""Articles: GET/POST /articles, GET/PUT/DELETE /articles/{slug}."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.core.models import Tag
from app.platform.db import Database
from tests.support.api import (
    JSON_CONTENT_TYPE,
    TIMESTAMP,
    Account,
    Actions,
    article_count,
    assert_error,
    count_rows,
    insert_articles,
)

ARTICLE = {
    "title": "How to train your dragon",
    "description": "Ever wonder how?",
    "body": "You have to believe",
    "tagList": ["reactjs", "angularjs", "dragons"],
}
LIST_FIELDS = {
    "slug",
    "title",
    "description",
    "tagList",
    "createdAt",
    "updatedAt",
    "favorited",
    "favoritesCount",
    "author",
}


def create(client: FlaskClient, author: Account, **fields: Any) -> Any:
    article = {**ARTICLE, **fields}
    article = {name: value for name, value in article.items() if value is not ...}
    # json.dumps escapes non-ASCII, so a lone surrogate reaches the server as `\ud800`.
    return client.post(
        "/api/articles",
        data=json.dumps({"article": article}),
        content_type="application/json",
        headers=author.headers,
    )


def get(client: FlaskClient, slug: str, viewer: Account | None = None) -> dict[str, Any]:
    response = client.get(f"/api/articles/{slug}", headers=viewer.headers if viewer else {})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["article"]  # type: ignore[no-any-return]


def listing(client: FlaskClient, query: str = "", viewer: Account | None = None) -> Any:
    response = client.get(f"/api/articles{query}", headers=viewer.headers if viewer else {})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert set(response.json) == {"articles", "articlesCount"}
    return response.json


def slugs(payload: dict[str, Any]) -> list[str]:
    return [article["slug"] for article in payload["articles"]]


# -- POST /articles -----------------------------------------------------------------------


def test_create_article_answers_201_with_the_article(client: FlaskClient, actions: Actions) -> None:
    jake = actions.register()
    response = create(client, jake)
    assert response.status_code == 201
    assert response.content_type == JSON_CONTENT_TYPE
    article = response.json["article"]
    assert set(article) == LIST_FIELDS | {"body"}
    assert article["slug"] == "how-to-train-your-dragon"
    assert article["title"] == "How to train your dragon"
    assert article["description"] == "Ever wonder how?"
    assert article["body"] == "You have to believe"
    assert article["tagList"] == ["angularjs", "dragons", "reactjs"]
    assert TIMESTAMP.match(article["createdAt"])
    assert article["updatedAt"] == article["createdAt"]
    assert article["favorited"] is False
    assert article["favoritesCount"] == 0
    assert article["author"] == {"username": "jake", "bio": "", "image": None, "following": False}
    assert get(client, article["slug"]) == article


@pytest.mark.parametrize(
    ("tag_list", "expected"),
    [
        (..., []),
        (None, []),
        ([], []),
        (["b", "a", "b"], ["a", "b"]),
        ([" padded ", "padded"], ["padded"]),
        (["Dragons", "dragons"], ["Dragons", "dragons"]),
    ],
)
def test_create_article_tag_list(
    client: FlaskClient, actions: Actions, tag_list: Any, expected: list[str]
) -> None:
    jake = actions.register()
    response = create(client, jake, tagList=tag_list)
    assert response.status_code == 201
    assert response.json["article"]["tagList"] == expected
    assert client.get("/api/tags").json == {"tags": sorted(expected)}


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Hello, World!", "hello-world"),
        ("  Spaces   everywhere  ", "spaces-everywhere"),
        ("Crème brûlée à la carte", "creme-brulee-a-la-carte"),
        ("日本語", "article"),
        ("C++ & Rust: 2 languages", "c-rust-2-languages"),
    ],
)
def test_slug_is_made_from_the_title(
    client: FlaskClient, actions: Actions, title: str, slug: str
) -> None:
    jake = actions.register()
    response = create(client, jake, title=title)
    assert response.status_code == 201
    assert response.json["article"]["slug"] == slug
    assert response.json["article"]["title"] == title.strip()
    assert get(client, slug)["title"] == title.strip()


def test_duplicate_titles_get_distinct_slugs(client: FlaskClient, actions: Actions) -> None:
    jake = actions.register()
    first = create(client, jake).json["article"]
    second = create(client, jake).json["article"]
    third = create(client, jake).json["article"]
    assert first["slug"] == "how-to-train-your-dragon"
    assert re.fullmatch(r"how-to-train-your-dragon-[0-9a-f]{8}", second["slug"])
    assert re.fullmatch(r"how-to-train-your-dragon-[0-9a-f]{8}", third["slug"])
    assert len({first["slug"], second["slug"], third["slug"]}) == 3
    for article in (first, second, third):
        assert get(client, article["slug"])["createdAt"] == article["createdAt"]


@pytest.mark.parametrize("title", ["Feed", "feed", "FEED!"])
def test_an_article_whose_title_is_a_route_name_is_reachable(
    client: FlaskClient, actions: Actions, title: str
) -> None:
    jake = actions.register()
    created = create(client, jake, title=title).json["article"]
    assert get(client, created["slug"])["title"] == title


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": ...}, "title can't be blank"),
        ({"title": ""}, "title can't be blank"),
        ({"title": " \t\n"}, "title can't be blank"),
        ({"title": None}, "title must be a string"),
        ({"title": 1}, "title must be a string"),
        ({"title": "t" * 256}, "title is too long (maximum is 255 characters)"),
        ({"description": ...}, "description can't be blank"),
        ({"description": ""}, "description can't be blank"),
        ({"description": {"a": 1}}, "description must be a string"),
        ({"description": "d" * 1001}, "description is too long (maximum is 1000 characters)"),
        ({"body": ...}, "body can't be blank"),
        ({"body": "  "}, "body can't be blank"),
        ({"body": False}, "body must be a string"),
        ({"body": "b" * 100_001}, "body is too long (maximum is 100000 characters)"),
        ({"tagList": "dragons"}, "tagList must be an array of strings"),
        ({"tagList": {"dragons": True}}, "tagList must be an array of strings"),
        ({"tagList": ["dragons", 1]}, "tagList must be an array of strings"),
        ({"tagList": [None]}, "tagList must be an array of strings"),
        ({"tagList": [["nested"]]}, "tagList must be an array of strings"),
        ({"tagList": ["ok", " "]}, "tagList can't contain blank tags"),
        ({"tagList": ["t" * 65]}, "tags are too long (maximum is 64 characters)"),
        ({"tagList": [f"tag{n}" for n in range(21)]}, "tagList has too many tags (maximum is 20)"),
        ({"title": "\ud800 lone surrogate"}, "title must be valid Unicode text"),
        ({"tagList": ["\udfff"]}, "tagList must be an array of strings"),
    ],
)
def test_create_article_rejects_bad_fields(
    client: FlaskClient,
    actions: Actions,
    database: Database,
    fields: dict[str, Any],
    message: str,
) -> None:
    jake = actions.register()
    assert assert_error(create(client, jake, **fields), 422) == [message]
    assert article_count(database) == 0
    assert count_rows(database, Tag) == 0


def test_create_article_accepts_fields_at_their_limits(
    client: FlaskClient, actions: Actions
) -> None:
    jake = actions.register()
    # Four-byte characters: MySQL must store them in full (utf8mb4, MEDIUMTEXT).
    body = "😀" * 40_000 + "b" * 60_000
    response = create(
        client,
        jake,
        title="😀" * 255,
        description="d" * 1000,
        body=body,
        tagList=["t" * 64] + [f"tag{n}" for n in range(19)],
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    stored = get(client, response.json["article"]["slug"])
    assert stored["title"] == "😀" * 255
    assert stored["body"] == body
    assert len(stored["tagList"]) == 20


def test_create_article_reports_every_problem_at_once(
    client: FlaskClient, actions: Actions
) -> None:
    jake = actions.register()
    response = create(client, jake, title="", description=..., body=3, tagList="x")
    assert assert_error(response, 422) == [
        "title can't be blank",
        "description can't be blank",
        "body must be a string",
        "tagList must be an array of strings",
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "article is required"),
        ({"title": "Flat"}, "article is required"),
        ({"article": None}, "article must be an object"),
        ({"article": ["x"]}, "article must be an object"),
    ],
)
def test_create_article_needs_an_article_object(
    client: FlaskClient, actions: Actions, database: Database, body: Any, message: str
) -> None:
    jake = actions.register()
    response = client.post("/api/articles", json=body, headers=jake.headers)
    assert assert_error(response, 422) == [message]
    assert article_count(database) == 0


def test_create_article_needs_a_token(client: FlaskClient, database: Database) -> None:
    response = client.post("/api/articles", json={"article": ARTICLE})
    assert assert_error(response, 401) == ["authorization is required"]
    assert article_count(database) == 0


# -- GET /articles/{slug} -----------------------------------------------------------------


def test_get_article_anonymously(client: FlaskClient, actions: Actions) -> None:
    jake = actions.register()
    created = actions.article(jake, tagList=["b", "a"])
    article = get(client, created["slug"])
    assert article == created
    assert article["body"] == "It takes a Jacobian"
    assert article["tagList"] == ["a", "b"]


@pytest.mark.parametrize("slug", ["nope", "how-to-train-your-dragon-x", "HOW-TO-TRAIN-YOUR-DRAGON"])
def test_get_unknown_article_is_404(client: FlaskClient, actions: Actions, slug: str) -> None:
    actions.article(actions.register())
    assert assert_error(client.get(f"/api/articles/{slug}"), 404) == [f"article {slug!r} not found"]


def test_author_following_flag_depends_on_the_viewer(client: FlaskClient, actions: Actions) -> None:
    jake = actions.register()
    fan = actions.register("fan")
    slug = actions.article(jake)["slug"]
    actions.follow(fan, "jake")
    assert get(client, slug, fan)["author"]["following"] is True
    assert get(client, slug, jake)["author"]["following"] is False
    assert get(client, slug)["author"]["following"] is False


# -- GET /articles ------------------------------------------------------------------------


def test_list_is_empty_at_first(client: FlaskClient) -> None:
    assert listing(client) == {"articles": [], "articlesCount": 0}


def test_list_is_newest_first_and_without_bodies(client: FlaskClient, actions: Actions) -> None:
    jake = actions.register()
    created = [actions.article(jake, title=f"Article {n}") for n in range(3)]
    payload = listing(client)
    assert slugs(payload) == ["article-2", "article-1", "article-0"]
    assert payload["articlesCount"] == 3
    for article in payload["articles"]:
        assert set(article) == LIST_FIELDS
        assert "body" not in article
        assert TIMESTAMP.match(article["createdAt"])
        assert TIMESTAMP.match(article["updatedAt"])
    newest = dict(created[2])
    del newest["body"]
    assert payload["articles"][0] == newest


@pytest.fixture
def library(actions: Actions) -> dict[str, Account]:
    """jake writes 'dragons' (tags dragons, training) and 'cats' (tag cats);
    jane writes 'dogs' (tag training). jane favorites 'dragons'; fan favorites both of jake's."""
    jake = actions.register()
    jane = actions.register("jane")
    fan = actions.register("fan")
    actions.article(jake, title="Dragons", tagList=["dragons", "training"])
    actions.article(jake, title="Cats", tagList=["cats"])
    actions.article(jane, title="Dogs", tagList=["training"])
    actions.favorite(jane, "dragons")
    actions.favorite(fan, "dragons")
    actions.favorite(fan, "cats")
    return {"jake": jake, "jane": jane, "fan": fan}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["dogs", "cats", "dragons"]),
        ("?tag=training", ["dogs", "dragons"]),
        ("?tag=cats", ["cats"]),
        ("?tag=Cats", []),
        ("?tag=unknown", []),
        ("?author=jake", ["cats", "dragons"]),
        ("?author=jane", ["dogs"]),
        ("?author=fan", []),
        ("?author=nobody", []),
        ("?favorited=jane", ["dragons"]),
        ("?favorited=fan", ["cats", "dragons"]),
        ("?favorited=jake", []),
        ("?favorited=nobody", []),
        ("?tag=training&author=jake", ["dragons"]),
        ("?tag=training&favorited=fan", ["dragons"]),
        ("?author=jane&favorited=fan", []),
        ("?author=jake&favorited=fan&tag=cats", ["cats"]),
    ],
)
def test_list_filters(
    client: FlaskClient, library: dict[str, Account], query: str, expected: list[str]
) -> None:
    payload = listing(client, query)
    assert slugs(payload) == expected
    assert payload["articlesCount"] == len(expected)


def test_list_flags_depend_on_the_viewer(
    client: FlaskClient, actions: Actions, library: dict[str, Account]
) -> None:
    actions.follow(library["fan"], "jane")

    def flags(viewer: Account | None) -> dict[str, tuple[bool, int, bool]]:
        return {
            article["slug"]: (
                article["favorited"],
                article["favoritesCount"],
                article["author"]["following"],
            )
            for article in listing(client, viewer=viewer)["articles"]
        }

    assert flags(None) == {
        "dogs": (False, 0, False),
        "cats": (False, 1, False),
        "dragons": (False, 2, False),
    }
    assert flags(library["fan"]) == {
        "dogs": (False, 0, True),
        "cats": (True, 1, False),
        "dragons": (True, 2, False),
    }
    assert flags(library["jane"]) == {
        "dogs": (False, 0, False),
        "cats": (False, 1, False),
        "dragons": (True, 2, False),
    }


def test_list_pages_default_to_20_and_count_everything(
    client: FlaskClient, actions: Actions, database: Database
) -> None:
    actions.register()
    newest_first = insert_articles(database, "jake", 25)

    first = listing(client)
    assert slugs(first) == newest_first[:20]
    assert first["articlesCount"] == 25

    rest = listing(client, "?offset=20")
    assert slugs(rest) == newest_first[20:]
    assert rest["articlesCount"] == 25


@pytest.mark.parametrize(
    ("query", "window"),
    [
        ("?limit=5", slice(0, 5)),
        ("?limit=5&offset=3", slice(3, 8)),
        ("?offset=24", slice(24, 25)),
        ("?offset=25", slice(25, 25)),
        ("?offset=1000", slice(0, 0)),
        ("?offset=1000000000000", slice(0, 0)),
        (f"?offset={2**63 - 1}", slice(0, 0)),
        ("?limit=1&offset=0", slice(0, 1)),
        ("?limit=&offset=", slice(0, 20)),
        ("?limit=%205%20", slice(0, 5)),
        ("?limit=100&offset=10", slice(10, 25)),
    ],
)
def test_list_limit_and_offset(
    client: FlaskClient, actions: Actions, database: Database, query: str, window: slice
) -> None:
    actions.register()
    newest_first = insert_articles(database, "jake", 25)
    payload = listing(client, query)
    assert slugs(payload) == newest_first[window]
    assert payload["articlesCount"] == 25


@pytest.mark.parametrize("limit", ["101", "1000", "999999999999", "1234567890123", "9" * 40])
def test_list_limit_is_clamped_to_the_max_page_size(
    client: FlaskClient, actions: Actions, database: Database, limit: str
) -> None:
    actions.register()
    newest_first = insert_articles(database, "jake", 101)
    payload = listing(client, f"?limit={limit}")
    assert slugs(payload) == newest_first[:100]
    assert payload["articlesCount"] == 101


@pytest.mark.parametrize(
    ("query", "messages"),
    [
        ("?limit=abc", ["limit must be a whole number greater than 0"]),
        ("?limit=0", ["limit must be a whole number greater than 0"]),
        ("?limit=-1", ["limit must be a whole number greater than 0"]),
        ("?limit=1.5", ["limit must be a whole number greater than 0"]),
        ("?limit=1e3", ["limit must be a whole number greater than 0"]),
        ("?limit=--5", ["limit must be a whole number greater than 0"]),
        ("?limit=%2B5", ["limit must be a whole number greater than 0"]),
        ("?limit=%D9%A3", ["limit must be a whole number greater than 0"]),
        ("?limit=-1234567890123", ["limit must be a whole number greater than 0"]),
        ("?offset=abc", ["offset must be a whole number of 0 or more"]),
        ("?offset=-1", ["offset must be a whole number of 0 or more"]),
        ("?offset=--1", ["offset must be a whole number of 0 or more"]),
        (f"?offset={2**63}", [f"offset is too large (maximum is {2**63 - 1})"]),
        ("?offset=" + "9" * 30, [f"offset is too large (maximum is {2**63 - 1})"]),
        (
            "?limit=0&offset=-1",
            [
                "limit must be a whole number greater than 0",
                "offset must be a whole number of 0 or more",
            ],
        ),
    ],
)
@pytest.mark.parametrize("path", ["/api/articles", "/api/articles/feed"])
def test_list_rejects_bad_limit_and_offset(
    client: FlaskClient, actions: Actions, path: str, query: str, messages: list[str]
) -> None:
    jake = actions.register()
    assert assert_error(client.get(path + query, headers=jake.headers), 422) == messages


# -- PUT /articles/{slug} -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"description": "New description"}, {"description": "New description"}),
        ({"body": "New body"}, {"body": "New body"}),
        ({"tagList": ["new", "alpha"]}, {"tagList": ["alpha", "new"]}),
        ({"tagList": []}, {"tagList": []}),
        (
            {"description": "D", "body": "B", "tagList": ["dragons"]},
            {"description": "D", "body": "B", "tagList": ["dragons"]},
        ),
    ],
)
def test_update_article_changes_only_the_given_fields(
    client: FlaskClient, actions: Actions, changes: dict[str, Any], expected: dict[str, Any]
) -> None:
    jake = actions.register()
    before = actions.article(jake, tagList=["dragons", "training"])
    time.sleep(0.005)
    response = client.put(
        f"/api/articles/{before['slug']}", json={"article": changes}, headers=jake.headers
    )
    assert response.status_code == 200
    after = response.json["article"]
    assert after["updatedAt"] > before["updatedAt"]
    assert TIMESTAMP.match(after["updatedAt"])
    assert after == before | expected | {"updatedAt": after["updatedAt"]}
    assert get(client, before["slug"]) == after


def test_update_title_regenerates_the_slug(client: FlaskClient, actions: Actions) -> None:
    jake = actions.register()
    before = actions.article(jake)
    response = client.put(
        f"/api/articles/{before['slug']}",
        json={"article": {"title": "Did you train your dragon?"}},
        headers=jake.headers,
    )
    assert response.status_code == 200
    after = response.json["article"]
    assert after["slug"] == "did-you-train-your-dragon"
    assert after["title"] == "Did you train your dragon?"
    assert after["createdAt"] == before["createdAt"]
    assert get(client, "did-you-train-your-dragon") == after
    assert client.get(f"/api/articles/{before['slug']}").status_code == 404


@pytest.mark.parametrize("title", ["How to train your dragon", "HOW to train your dragon!"])
def test_update_to_an_equivalent_title_keeps_the_slug(
    client: FlaskClient, actions: Actions, title: str
) -> None:
    jake = actions.register()
    before = actions.article(jake)
    response = client.put(
        f"/api/articles/{before['slug']}", json={"article": {"title": title}}, headers=jake.headers
    )
    assert response.json["article"]["slug"] == before["slug"]
    assert response.json["article"]["title"] == title


def test_update_to_another_articles_title_keeps_slugs_unique(
    client: FlaskClient, actions: Actions
) -> None:
    jake = actions.register()
    actions.article(jake, title="Taken title")
    mine = actions.article(jake, title="Mine")
    response = client.put(
        "/api/articles/mine", json={"article": {"title": "Taken title"}}, headers=jake.headers
    )
    assert response.status_code == 200
    slug = response.json["article"]["slug"]
    assert re.fullmatch(r"taken-title-[0-9a-f]{8}", slug)
    assert get(client, slug)["createdAt"] == mine["createdAt"]
    assert get(client, "taken-title")["createdAt"] != mine["createdAt"]
    assert client.get("/api/articles/mine").status_code == 404
    assert listing(client)["articlesCount"] == 2


@pytest.mark.parametrize(
    ("changes", "messages"),
    [
        ({}, ["article must contain at least one of: title, description, body, tagList"]),
        (
            {"tagList": None},
            ["article must contain at least one of: title, description, body, tagList"],
        ),
        ({"title": ""}, ["title can't be blank"]),
        ({"title": None}, ["title must be a string"]),
        ({"title": "t" * 256}, ["title is too long (maximum is 255 characters)"]),
        ({"description": 1}, ["description must be a string"]),
        ({"body": "  "}, ["body can't be blank"]),
        ({"tagList": "x"}, ["tagList must be an array of strings"]),
        ({"tagList": ["x"] * 3 + [""]}, ["tagList can't contain blank tags"]),
        ({"title": "Good new title", "body": ""}, ["body can't be blank"]),
    ],
)
def test_update_article_rejects_bad_fields_and_changes_nothing(
    client: FlaskClient, actions: Actions, changes: dict[str, Any], messages: list[str]
) -> None:
    jake = actions.register()
    before = actions.article(jake, tagList=["dragons"])
    response = client.put(
        f"/api/articles/{before['slug']}", json={"article": changes}, headers=jake.headers
    )
    assert assert_error(response, 422) == messages
    assert get(client, before["slug"]) == before


def test_update_article_of_another_author_is_403(client: FlaskClient, actions: Actions) -> None:
    jake = actions.register()
    jane = actions.register("jane")
    before = actions.article(jake)
    response = client.put(
        f"/api/articles/{before['slug']}",
        json={"article": {"title": "Hijacked", "body": "Mine now"}},
        headers=jane.headers,
    )
    assert assert_error(response, 403) == ["only the author may change this article"]
    assert get(client, before["slug"]) == before


def test_update_unknown_article_is_404(client: FlaskClient, actions: Actions) -> None:
    jake = actions.register()
    response = client.put(
        "/api/articles/nope", json={"article": {"body": "x"}}, headers=jake.headers
    )
    assert assert_error(response, 404) == ["article 'nope' not found"]


# -- DELETE /articles/{slug} --------------------------------------------------------------


def test_delete_article_answers_204_and_removes_it(
    client: FlaskClient, actions: Actions, database: Database
) -> None:
    jake = actions.register()
    doomed = actions.article(jake, tagList=["doomed"])
    kept = actions.article(jake, title="Kept")

    response = client.delete(f"/api/articles/{doomed['slug']}", headers=jake.headers)
    assert response.status_code == 204
    assert response.get_data() == b""

    assert client.get(f"/api/articles/{doomed['slug']}").status_code == 404
    assert slugs(listing(client)) == [kept["slug"]]
    assert client.get("/api/tags").json == {"tags": []}
    assert article_count(database) == 1
    again = client.delete(f"/api/articles/{doomed['slug']}", headers=jake.headers)
    assert assert_error(again, 404) == [f"article {doomed['slug']!r} not found"]


def test_delete_article_of_another_author_is_403(client: FlaskClient, actions: Actions) -> None:
    jake = actions.register()
    jane = actions.register("jane")
    before = actions.article(jake)
    response = client.delete(f"/api/articles/{before['slug']}", headers=jane.headers)
    assert assert_error(response, 403) == ["only the author may change this article"]
    assert get(client, before["slug"]) == before


def test_delete_unknown_article_is_404(client: FlaskClient, actions: Actions) -> None:
    jake = actions.register()
    response = client.delete("/api/articles/nope", headers=jake.headers)
    assert assert_error(response, 404) == ["article 'nope' not found"]
