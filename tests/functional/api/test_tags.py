from __future__ import annotations

from flask.testing import FlaskClient

from tests.support.api import Actions


def test_tags_empty(client: FlaskClient) -> None:
    response = client.get("/api/tags")
    assert response.status_code == 200
    assert response.json == {"tags": []}


def test_tags_lists_tags_in_use_sorted(client: FlaskClient, actions: Actions) -> None:
    jake = actions.register()
    actions.article(jake, tagList=["dragons", "angular"])
    actions.article(jake, title="Second", tagList=["dragons"])
    assert client.get("/api/tags").json == {"tags": ["angular", "dragons"]}
