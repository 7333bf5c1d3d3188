"""The test world as a client builds it, and checks on the API's answers: the test
configuration, accounts registered through the public API (`Actions`), tokens and error
shapes. Shared by every kind of test."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select
from werkzeug.test import TestResponse

from app.core.models import Article, User
from app.platform.db import Database
from tests.support.routing import RoutedClient

# The backends the database-backed tests run on (`make test`: both).
BACKENDS = [
    name.strip()
    for name in os.environ.get("CONDUIT_TEST_DATABASES", "sqlite").split(",")
    if name.strip()
]
MYSQL_SERVER_URL = os.environ.get("CONDUIT_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306")
TEST_CONFIG = {"APP_ENV": "test", "JWT_SECRET": "test-secret-" + "x" * 32}
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TEST_SECRET = TEST_CONFIG["JWT_SECRET"]


@dataclass
class Account:
    username: str
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


class Actions:
    """Builds the world through the public API, the way a client would."""

    def __init__(self, client: FlaskClient | RoutedClient) -> None:
        self.client = client

    def register(self, username: str = "jake", password: str = "password123") -> Account:
        email = f"{username}@example.com"
        response = self.client.post(
            "/api/users",
            json={"user": {"username": username, "email": email, "password": password}},
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        return Account(username, email, password, response.json["user"]["token"])

    def article(
        self, author: Account, title: str = "How to train your dragon", **fields: Any
    ) -> dict[str, Any]:
        body = {"title": title, "description": "Ever wonder how?", "body": "It takes a Jacobian"}
        body |= fields
        response = self.client.post("/api/articles", json={"article": body}, headers=author.headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json["article"]  # type: ignore[no-any-return]

    def comment(self, author: Account, slug: str, body: str = "Nice!") -> dict[str, Any]:
        response = self.client.post(
            f"/api/articles/{slug}/comments",
            json={"comment": {"body": body}},
            headers=author.headers,
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json["comment"]  # type: ignore[no-any-return]

    def follow(self, follower: Account, username: str) -> None:
        response = self.client.post(f"/api/profiles/{username}/follow", headers=follower.headers)
        assert response.status_code == 200, response.get_data(as_text=True)

    def favorite(self, user: Account, slug: str) -> None:
        response = self.client.post(f"/api/articles/{slug}/favorite", headers=user.headers)
        assert response.status_code == 200, response.get_data(as_text=True)


def assert_error(response: TestResponse, status: int) -> list[str]:
    """The response is `status` with exactly {"errors": {"body": [messages]}}; the messages."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == JSON_CONTENT_TYPE
    payload = response.json
    assert isinstance(payload, dict) and list(payload) == ["errors"]
    assert isinstance(payload["errors"], dict) and list(payload["errors"]) == ["body"]
    messages = payload["errors"]["body"]
    assert isinstance(messages, list) and messages
    assert all(isinstance(message, str) and message for message in messages)
    return messages


def make_token(
    subject: Any, *, secret: str = TEST_SECRET, expires_in: int | None = 3600, **claims: Any
) -> str:
    """A JWT like the app's own, with any claim overridden (`expires_in=None`: no exp)."""
    now = int(time.time())
    payload: dict[str, Any] = {"sub": subject, "iat": now}
    if expires_in is not None:
        payload["exp"] = now + expires_in
    payload |= claims
    return jwt.encode(payload, secret, algorithm="HS256")


def user_id_of(account: Account) -> int:
    return int(jwt.decode(account.token, options={"verify_signature": False})["sub"])


def bearer(token: str, scheme: str = "Token") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


def delete_user(database: Database, username: str) -> None:
    """Remove an account behind the API's back (there is no endpoint for it)."""
    with database.transaction() as session:
        session.execute(delete(User).where(User.username == username))


def count_rows(database: Database, model: Any) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def insert_articles(database: Database, author: str, count: int) -> list[str]:
    """`count` articles by `author`, written straight to the database a minute apart
    (all older than any created through the API); their slugs, newest first."""
    start = datetime(2024, 1, 1)
    with database.transaction() as session:
        author_id = session.scalars(select(User.id).where(User.username == author)).one()
        for number in range(count):
            moment = start + timedelta(minutes=number)
            session.add(
                Article(
                    slug=f"bulk-{number:03d}",
                    title=f"Bulk {number}",
                    description="Made in bulk",
                    body="Body",
                    author_id=author_id,
                    tags=[],
                    created_at=moment,
                    updated_at=moment,
                )
            )
    return [f"bulk-{number:03d}" for number in reversed(range(count))]


def article_count(database: Database) -> int:
    return count_rows(database, Article)
