"""Write parity of `update_user` (PUT /api/user):
from the same state, the same answer and the same rows inserted, updated and deleted as
the monolith (write_parity.py)."""

from __future__ import annotations

from types import ModuleType

import pytest

import app.core.services.users
from tests.support.parity import World
from tests.support.write_parity import (
    WriteCase,
    assert_nothing_written_when_the_database_goes_away,
    assert_write_case,
    refused_callers,
)

PATH = "/api/user"
CASES = [
    WriteCase(
        "update_user",
        "bio",
        200,
        PATH,
        body={"user": {"bio": "I like to skateboard"}},
        writes={"users": (0, 1, 0)},
    ),
    WriteCase(
        "update_user",
        "image-and-null-bio",
        200,
        PATH,
        body={"user": {"image": "https://i.stack.imgur.com/xHWG8.jpg", "bio": None}},
        writes={"users": (0, 1, 0)},
    ),
    WriteCase(
        "update_user",
        "username-and-email",
        200,
        PATH,
        body={"user": {"username": "jacob", "email": "Jacob@Example.com"}},
        writes={"users": (0, 1, 0)},
    ),
    WriteCase(
        "update_user",
        "password",
        200,
        PATH,
        body={"user": {"password": "a new password"}},
        writes={"users": (0, 1, 0)},
    ),
    WriteCase(
        "update_user",
        "same-values",
        200,
        PATH,
        body={"user": {"username": "jake", "email": "jake@example.com"}},
        # Nothing changes, so nothing is written (not even updated_at).
    ),
    WriteCase("update_user", "username-taken", 422, PATH, body={"user": {"username": "jane"}}),
    WriteCase(
        "update_user", "email-taken", 422, PATH, body={"user": {"email": "JANE@example.com"}}
    ),
    WriteCase("update_user", "nothing-to-change", 422, PATH, body={"user": {}}),
    WriteCase(
        "update_user",
        "every-problem-at-once",
        422,
        PATH,
        body={"user": {"username": "no spaces", "email": "nope", "password": "short", "bio": 1}},
    ),
    WriteCase("update_user", "user-not-object", 422, PATH, body={"user": None}),
    WriteCase("update_user", "malformed-json", 422, PATH, body='{"user": '),
    WriteCase("update_user", "oversized", 413, PATH, body={"user": {"bio": "x" * (1024 * 1024)}}),
    *refused_callers("update_user", PATH, body={"user": {"bio": "x"}}),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_same_answer_and_effect(
    case: WriteCase, world: World, functions: dict[str, ModuleType], backend: str
) -> None:
    assert_write_case(case, world, functions, backend)


def test_nothing_written_when_the_database_goes_away(
    world: World, functions: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_nothing_written_when_the_database_goes_away(
        CASES[0], world, functions, (app.core.services.users, "update_user"), monkeypatch
    )
