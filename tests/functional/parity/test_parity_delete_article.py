"""Write parity of `delete_article` (DELETE /api/articles/{slug}):
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

PATH = "/api/articles/{dragon}"
CASES = [
    # Its comments, favorites and tag links go with it (ON DELETE CASCADE).
    WriteCase(
        "delete_article",
        "own",
        204,
        PATH,
        writes={
            "articles": (0, 0, 1),
            "comments": (0, 0, 2),
            "favorites": (0, 0, 1),
            "article_tags": (0, 0, 2),
        },
    ),
    WriteCase(
        "delete_article",
        "own-quiet",
        204,
        "/api/articles/{quiet}",
        auth="jane",
        writes={"articles": (0, 0, 1)},
    ),
    WriteCase("delete_article", "anothers", 403, "/api/articles/{jane}"),
    WriteCase("delete_article", "unknown", 404, "/api/articles/nope"),
    WriteCase("delete_article", "a-body-is-ignored", 403, "/api/articles/{jane}", body="{"),
    *refused_callers("delete_article", PATH),
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
        CASES[0], world, functions, (app.core.services.articles, "delete_article"), monkeypatch
    )
