"""Comments: GET/POST /articles/{slug}/comments, DELETE /articles/{slug}/comments/{id}."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.core.models import Comment
from app.platform.db import Database
from tests.support.api import (
    JSON_CONTENT_TYPE,
    TIMESTAMP,
    Account,
    Actions,
    assert_error,
    count_rows,
)

SLUG = "how-to-train-your-dragon"


@pytest.fixture
def jake(actions: Actions) -> Account:
    """The author of the article every test comments on."""
    jake = actions.register()
    actions.article(jake)
    return jake


def comments(client: FlaskClient, viewer: Account | None = None, slug: str = SLUG) -> Any:
    response = client.get(
        f"/api/articles/{slug}/comments", headers=viewer.headers if viewer else {}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["comments"]


def post_comment(client: FlaskClient, author: Account, body: Any, slug: str = SLUG) -> Any:
    # json.dumps escapes non-ASCII, so a lone surrogate reaches the server as `\ud800`.
    return client.post(
        f"/api/articles/{slug}/comments",
        data=json.dumps(body),
        content_type="application/json",
        headers=author.headers,
    )


def test_add_comment_answers_200_with_the_comment(
    client: FlaskClient, actions: Actions, jake: Account
) -> None:
    reader = actions.register("reader")
    response = post_comment(client, reader, {"comment": {"body": "  His name was my name too. "}})
    # The spec answers 200 here, not 201.
    assert response.status_code == 200
    assert response.content_type == JSON_CONTENT_TYPE
    comment = response.json["comment"]
    assert set(comment) == {"id", "createdAt", "updatedAt", "body", "author"}
    assert isinstance(comment["id"], int)
    assert comment["body"] == "His name was my name too."
    assert TIMESTAMP.match(comment["createdAt"])
    assert comment["updatedAt"] == comment["createdAt"]
    assert comment["author"] == {
        "username": "reader",
        "bio": "",
        "image": None,
        "following": False,
    }
    assert comments(client) == [comment]


def test_comments_are_listed_oldest_first_for_anyone(
    client: FlaskClient, actions: Actions, jake: Account
) -> None:
    reader = actions.register("reader")
    first = actions.comment(reader, SLUG, "First!")
    second = actions.comment(jake, SLUG, "Thanks")
    third = actions.comment(reader, SLUG, "Again")
    assert comments(client) == [first, second, third]
    assert comments(client, reader) == [first, second, third]


def test_comment_lists_are_per_article(
    client: FlaskClient, actions: Actions, jake: Account
) -> None:
    actions.article(jake, title="Other")
    mine = actions.comment(jake, SLUG, "Here")
    elsewhere = actions.comment(jake, "other", "There")
    assert comments(client) == [mine]
    assert comments(client, slug="other") == [elsewhere]


def test_comment_author_following_depends_on_the_viewer(
    client: FlaskClient, actions: Actions, jake: Account
) -> None:
    reader = actions.register("reader")
    fan = actions.register("fan")
    actions.comment(reader, SLUG)
    actions.follow(fan, "reader")
    assert comments(client, fan)[0]["author"]["following"] is True
    assert comments(client, jake)[0]["author"]["following"] is False
    assert comments(client)[0]["author"]["following"] is False


def test_no_comments_is_an_empty_list(client: FlaskClient, jake: Account) -> None:
    assert comments(client) == []


def test_comments_of_unknown_article_are_404(client: FlaskClient) -> None:
    assert assert_error(client.get("/api/articles/nope/comments"), 404) == [
        "article 'nope' not found"
    ]


def test_comment_on_unknown_article_is_404(
    client: FlaskClient, actions: Actions, database: Database
) -> None:
    reader = actions.register("reader")
    response = post_comment(client, reader, {"comment": {"body": "Hello?"}}, slug="nope")
    assert assert_error(response, 404) == ["article 'nope' not found"]
    assert count_rows(database, Comment) == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"comment": {}}, "body can't be blank"),
        ({"comment": {"body": ""}}, "body can't be blank"),
        ({"comment": {"body": " \n "}}, "body can't be blank"),
        ({"comment": {"body": None}}, "body must be a string"),
        ({"comment": {"body": 42}}, "body must be a string"),
        ({"comment": {"body": ["x"]}}, "body must be a string"),
        ({"comment": {"body": "c" * 10_001}}, "body is too long (maximum is 10000 characters)"),
        ({"comment": {"body": "bad \ud800"}}, "body must be valid Unicode text"),
        ({"body": "Flat"}, "comment is required"),
        ({"comment": "Nice!"}, "comment must be an object"),
        ([{"comment": {"body": "x"}}], "request body must be a JSON object"),
    ],
)
def test_add_comment_rejects_bad_input(
    client: FlaskClient, database: Database, jake: Account, body: Any, message: str
) -> None:
    assert assert_error(post_comment(client, jake, body), 422) == [message]
    assert count_rows(database, Comment) == 0


def test_comment_at_the_length_limit_is_kept_whole(client: FlaskClient, jake: Account) -> None:
    body = "😀" * 10_000
    response = post_comment(client, jake, {"comment": {"body": body}})
    assert response.status_code == 200
    assert comments(client)[0]["body"] == body


def test_delete_own_comment_answers_204(
    client: FlaskClient, actions: Actions, database: Database, jake: Account
) -> None:
    reader = actions.register("reader")
    doomed = actions.comment(reader, SLUG, "Oops")
    kept = actions.comment(reader, SLUG, "Keep")

    response = client.delete(
        f"/api/articles/{SLUG}/comments/{doomed['id']}", headers=reader.headers
    )
    assert response.status_code == 204
    assert response.get_data() == b""
    assert comments(client) == [kept]
    assert count_rows(database, Comment) == 1

    again = client.delete(f"/api/articles/{SLUG}/comments/{doomed['id']}", headers=reader.headers)
    assert assert_error(again, 404) == [f"comment {doomed['id']} not found"]


@pytest.mark.parametrize("deleter", ["jake", "other"])
def test_delete_someone_elses_comment_is_403(
    client: FlaskClient, actions: Actions, jake: Account, deleter: str
) -> None:
    """Only the comment's author may delete it, not even the article's author."""
    reader = actions.register("reader")
    comment = actions.comment(reader, SLUG)
    caller = jake if deleter == "jake" else actions.register("other")
    response = client.delete(
        f"/api/articles/{SLUG}/comments/{comment['id']}", headers=caller.headers
    )
    assert assert_error(response, 403) == ["only the author may delete this comment"]
    assert comments(client) == [comment]


@pytest.mark.parametrize("comment_id", ["999999", "0", "99999999999999999999"])
def test_delete_unknown_comment_is_404(
    client: FlaskClient, actions: Actions, jake: Account, comment_id: str
) -> None:
    actions.comment(jake, SLUG)
    response = client.delete(f"/api/articles/{SLUG}/comments/{comment_id}", headers=jake.headers)
    assert assert_error(response, 404) == [f"comment {comment_id} not found"]
    assert len(comments(client)) == 1


@pytest.mark.parametrize("comment_id", ["abc", "-1", "1.0"])
def test_delete_comment_with_a_non_numeric_id_is_404(
    client: FlaskClient, jake: Account, comment_id: str
) -> None:
    response = client.delete(f"/api/articles/{SLUG}/comments/{comment_id}", headers=jake.headers)
    assert assert_error(response, 404) == ["resource not found"]


def test_delete_comment_through_another_article_is_404(
    client: FlaskClient, actions: Actions, jake: Account
) -> None:
    actions.article(jake, title="Other")
    comment = actions.comment(jake, SLUG)
    response = client.delete(f"/api/articles/other/comments/{comment['id']}", headers=jake.headers)
    assert assert_error(response, 404) == [f"comment {comment['id']} not found"]
    assert comments(client) == [comment]


def test_delete_comment_of_unknown_article_is_404(client: FlaskClient, jake: Account) -> None:
    comment = client.post(
        f"/api/articles/{SLUG}/comments", json={"comment": {"body": "x"}}, headers=jake.headers
    ).json["comment"]
    response = client.delete(f"/api/articles/nope/comments/{comment['id']}", headers=jake.headers)
    assert assert_error(response, 404) == ["article 'nope' not found"]


def test_deleting_the_article_deletes_its_comments(
    client: FlaskClient, actions: Actions, database: Database, jake: Account
) -> None:
    actions.comment(jake, SLUG)
    client.delete(f"/api/articles/{SLUG}", headers=jake.headers)
    assert client.get(f"/api/articles/{SLUG}/comments").status_code == 404
    assert count_rows(database, Comment) == 0
