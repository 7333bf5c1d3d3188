"""Argon2id password hashing."""

from __future__ import annotations

import pytest

from app.core.passwords import Passwords
from app.platform.settings import TEST_PASSWORD_HASHING

passwords = Passwords(
    time_cost=TEST_PASSWORD_HASHING.time_cost,
    memory_cost_kib=TEST_PASSWORD_HASHING.memory_cost_kib,
    parallelism=TEST_PASSWORD_HASHING.parallelism,
)


@pytest.mark.parametrize("password", ["password123", " spaces ", "ünïcødé-🔑", "x" * 256])
def test_hash_then_verify(password: str) -> None:
    hashed = passwords.hash(password)
    assert hashed.startswith("$argon2id$")
    assert password not in hashed
    assert passwords.verify(hashed, password) is True


def test_hashes_are_salted() -> None:
    assert passwords.hash("password123") != passwords.hash("password123")


@pytest.mark.parametrize("attempt", ["password124", "PASSWORD123", "password123 ", ""])
def test_wrong_password(attempt: str) -> None:
    assert passwords.verify(passwords.hash("password123"), attempt) is False


@pytest.mark.parametrize("stored", ["", "plain-text", "$argon2id$v=19$garbage", "$2b$12$bcrypt"])
def test_unusable_hash_never_verifies(stored: str) -> None:
    assert passwords.verify(stored, "plain-text") is False


def test_needs_rehash_when_the_cost_changes() -> None:
    hashed = passwords.hash("password123")
    assert passwords.needs_rehash(hashed) is False
    stronger = Passwords(time_cost=2, memory_cost_kib=16, parallelism=1)
    assert stronger.needs_rehash(hashed) is True
    # Still verifies under the new parameters: login can rehash it.
    assert stronger.verify(hashed, "password123") is True
