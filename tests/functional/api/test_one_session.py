"""The monolith finds the caller inside the request's own session: an authenticated
request opens one unit of work (one connection checkout), whether it reads or writes."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.api import Actions, bearer, delete_user

SLUG = "how-to-train-your-dragon"

AUTHENTICATED = [
    ("GET", "/api/user", None, 200),
    ("PUT", "/api/user", {"user": {"bio": "new"}}, 200),
    ("GET", "/api/articles", None, 200),
    ("GET", "/api/articles/feed", None, 200),
    ("GET", f"/api/articles/{SLUG}", None, 200),
    ("GET", f"/api/articles/{SLUG}/comments", None, 200),
    ("GET", "/api/profiles/celeb", None, 200),
    ("POST", "/api/profiles/celeb/follow", None, 200),
    ("POST", f"/api/articles/{SLUG}/favorite", None, 200),
    ("POST", f"/api/articles/{SLUG}/comments", {"comment": {"body": "Hi"}}, 200),
    (
        "POST",
        "/api/articles",
        {"article": {"title": "Other", "description": "D", "body": "B"}},
        201,
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), AUTHENTICATED)
def test_an_authenticated_request_opens_one_session(
    app: Flask,
    monolith_client: FlaskClient,
    actions: Actions,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    path: str,
    body: Any,
    status: int,
) -> None:
    celeb = actions.register("celeb")
    fan = actions.register("fan")
    actions.article(celeb)
    database = app.extensions["conduit"].database
    opened: list[str] = []
    factory, connect, core = database.sessions, database.connect, database.core_transaction

    def session() -> Any:
        opened.append("session")
        return factory()

    def connection() -> Any:
        opened.append("connection")
        return connect()

    def core_transaction() -> Any:
        opened.append("core transaction")
        return core()

    # Every unit of work goes through the session factory, connect() or core_transaction().
    monkeypatch.setattr(database, "_sessions", session)
    monkeypatch.setattr(database, "connect", connection)
    monkeypatch.setattr(database, "core_transaction", core_transaction)
    response = monolith_client.open(path, method=method, json=body, headers=bearer(fan.token))
    assert response.status_code == status, response.get_data(as_text=True)
    assert len(opened) == 1, opened


def test_an_account_gone_since_its_token_was_issued_is_still_refused(
    app: Flask, monolith_client: FlaskClient, actions: Actions
) -> None:
    """The account check still runs: it moved into the request's session, not away."""
    ghost = actions.register("ghost")
    delete_user(app.extensions["conduit"].database, "ghost")
    response = monolith_client.get("/api/articles", headers=bearer(ghost.token))
    assert response.status_code == 401
