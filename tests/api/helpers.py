"""Checks and shortcuts shared by the API tests."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import delete, func, select
from werkzeug.test import TestResponse

from app.core.models import Article, User
from app.platform.db import Database
from tests.conftest import TEST_CONFIG, Account

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TEST_SECRET = TEST_CONFIG["JWT_SECRET"]


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
