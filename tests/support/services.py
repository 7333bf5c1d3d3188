"""Calling the services directly, with a session, as the tests of what lies behind the API
do: the test password hasher and token issuer, and an account made through the service."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.core.passwords import Passwords
from app.core.services import users
from app.core.tokens import TokenIssuer
from app.core.validation import NewUser
from app.platform.settings import TEST_PASSWORD_HASHING
from tests.support.api import TEST_CONFIG

PASSWORDS = Passwords(
    time_cost=TEST_PASSWORD_HASHING.time_cost,
    memory_cost_kib=TEST_PASSWORD_HASHING.memory_cost_kib,
    parallelism=TEST_PASSWORD_HASHING.parallelism,
)
TOKENS = TokenIssuer(TEST_CONFIG["JWT_SECRET"], ttl_seconds=60)


def register(session: Session, username: str) -> int:
    """A new account's user id."""
    new = NewUser(username=username, email=f"{username}@example.com", password="password123")
    token = users.register(session, PASSWORDS, TOKENS, new)["user"]["token"]
    return TOKENS.verify(token)
