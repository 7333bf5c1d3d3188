"""Write parity of `follow_user` (POST /api/profiles/{username}/follow):
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

PATH = "/api/profiles/alice/follow"
CASES = [
    WriteCase("follow_user", "new", 200, PATH, writes={"follows": (1, 0, 0)}),
    WriteCase("follow_user", "already", 200, "/api/profiles/jake/follow", auth="jane"),
    WriteCase(
        "follow_user",
        "encoded-name",
        200,
        "/api/profiles/%61lice/follow",
        writes={"follows": (1, 0, 0)},
    ),
    WriteCase("follow_user", "self", 422, "/api/profiles/jake/follow"),
    WriteCase("follow_user", "unknown", 404, "/api/profiles/nobody/follow"),
    WriteCase("follow_user", "deleted", 404, "/api/profiles/ghost/follow"),
    WriteCase("follow_user", "case-differs", 404, "/api/profiles/Alice/follow"),
    *refused_callers("follow_user", PATH),
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
        CASES[0], world, functions, (app.core.services.profiles, "follow"), monkeypatch
    )
