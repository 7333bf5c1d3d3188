"""Write parity of `unfavorite_article` (DELETE /api/articles/{slug}/favorite):
from the same state, the same answer and the same rows inserted, updated and deleted as
the monolith (write_parity.py)."""

from __future__ import annotations

from types import ModuleType

import pytest

import app.core.services.articles
from tests.support.parity import World
from tests.support.write_parity import (
    WriteCase,
    assert_nothing_written_when_the_database_goes_away,
    assert_write_case,
    refused_callers,
)

PATH = "/api/articles/{dragon}/favorite"
CASES = [
    WriteCase(
        "unfavorite_article", "favorited", 200, PATH, auth="alice", writes={"favorites": (0, 0, 1)}
    ),
    WriteCase("unfavorite_article", "not-favorited", 200, PATH),
    WriteCase(
        "unfavorite_article",
        "others-favorites-stay",
        200,
        "/api/articles/{second}/favorite",
        auth="alice",
    ),
    WriteCase("unfavorite_article", "unknown-article", 404, "/api/articles/nope/favorite"),
    *refused_callers("unfavorite_article", PATH),
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
        CASES[0], world, functions, (app.core.services.articles, "unfavorite"), monkeypatch
    )
