"""GET /api/user/export: the signed-in user's data as one JSON document, streamed."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.exports import document
from tests.support.api import JSON_CONTENT_TYPE, Actions, assert_error, user_id_of
from tests.support.exports import assert_jakes_export, populate, without_generated_at


def test_export_is_the_callers_data_as_one_json_document(
    client: FlaskClient, actions: Actions
) -> None:
    jake, _ = populate(actions)
    response = client.get("/api/user/export", headers=jake.headers)
    assert response.status_code == 200
    assert response.content_type == JSON_CONTENT_TYPE
    assert response.is_streamed
    assert_jakes_export(json.loads(response.get_data()))


def test_export_of_a_user_with_nothing_yet(client: FlaskClient, actions: Actions) -> None:
    newcomer = actions.register("newcomer")
    response = client.get("/api/user/export", headers=newcomer.headers)
    assert response.status_code == 200
    document = json.loads(response.get_data())
    assert document["profile"]["username"] == "newcomer"
    for section in ("articles", "comments", "favorites", "following"):
        assert document[section] == []


def test_export_needs_a_token(client: FlaskClient) -> None:
    assert_error(client.get("/api/user/export"), 401)
    assert_error(client.get("/api/user/export", headers={"Authorization": "Token nope"}), 401)


def test_batches_join_into_valid_json(actions: Actions, session: Session) -> None:
    """Batches of one row: every batch boundary still forms the same valid JSON."""
    jake, _ = populate(actions)
    for _ in range(3):
        actions.article(jake, "More")
    tiny = json.loads("".join(document.export_document(session, user_id_of(jake), batch_size=1)))
    usual = json.loads("".join(document.export_document(session, user_id_of(jake))))
    assert without_generated_at(tiny) == without_generated_at(usual)
    assert [item["title"] for item in tiny["articles"]] == [
        "Dragons",
        "Knights",
        "More",
        "More",
        "More",
    ]
    assert len({item["slug"] for item in tiny["articles"]}) == 5
    assert len(tiny["comments"]) == 2
