"""Write parity of `favorite_article` (POST /api/articles/{slug}/favorite):
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
    WriteCase("favorite_article", "new", 200, PATH, writes={"favorites": (1, 0, 0)}),
    WriteCase("favorite_article", "already", 200, PATH, auth="alice"),
    WriteCase(
        "favorite_article",
        "anothers-article",
        200,
        "/api/articles/{jane}/favorite",
        writes={"favorites": (1, 0, 0)},
    ),
    WriteCase(
        "favorite_article", "bearer", 200, PATH, auth="jane-bearer", writes={"favorites": (1, 0, 0)}
    ),
    WriteCase(
        "favorite_article",
        "a-body-is-ignored",
        200,
        PATH,
        body="{not json",
        writes={"favorites": (1, 0, 0)},
    ),
    WriteCase("favorite_article", "unknown-article", 404, "/api/articles/nope/favorite"),
    WriteCase(
        "favorite_article",
        "upper-case-slug",
        404,
        "/api/articles/HOW-TO-TRAIN-YOUR-DRAGON/favorite",
    ),
    WriteCase(
        "favorite_article",
        "unknown-and-anonymous",
        401,
        "/api/articles/nope/favorite",
        auth="anonymous",
    ),
    *refused_callers("favorite_article", PATH),
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
        CASES[0], world, functions, (app.core.services.articles, "favorite"), monkeypatch
    )
