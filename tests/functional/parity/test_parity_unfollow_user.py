"""Write parity of `unfollow_user` (DELETE /api/profiles/{username}/follow):
from the same state, the same answer and the same rows inserted, updated and deleted as
the monolith (write_parity.py)."""

from __future__ import annotations

from types import ModuleType

import pytest

import app.core.services.profiles
from tests.support.parity import World
from tests.support.write_parity import (
    WriteCase,
    assert_nothing_written_when_the_database_goes_away,
    assert_write_case,
    refused_callers,
)

PATH = "/api/profiles/jake/follow"
CASES = [
    WriteCase("unfollow_user", "following", 200, PATH, auth="jane", writes={"follows": (0, 0, 1)}),
    WriteCase("unfollow_user", "not-following", 200, "/api/profiles/alice/follow"),
    WriteCase("unfollow_user", "self", 200, PATH),
    WriteCase("unfollow_user", "unknown", 404, "/api/profiles/nobody/follow"),
    *refused_callers("unfollow_user", PATH),
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
        CASES[0], world, functions, (app.core.services.profiles, "unfollow"), monkeypatch
    )
