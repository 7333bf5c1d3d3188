"""Write parity of `update_article` (PUT /api/articles/{slug}):
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
    WriteCase(
        "update_article",
        "body",
        200,
        PATH,
        body={"article": {"body": "With two hands"}},
        writes={"articles": (0, 1, 0)},
    ),
    WriteCase(
        "update_article",
        "title-gives-a-new-slug",
        200,
        PATH,
        body={"article": {"title": "Did you train your dragon?"}},
        writes={"articles": (0, 1, 0)},
    ),
    WriteCase(
        "update_article",
        "title-to-a-taken-slug",
        200,
        PATH,
        body={"article": {"title": "Second dragon"}},
        writes={"articles": (0, 1, 0)},
    ),
    WriteCase(
        "update_article",
        "same-title-keeps-the-slug",
        200,
        PATH,
        body={"article": {"title": "How to train your dragon", "description": "New"}},
        writes={"articles": (0, 1, 0)},
    ),
    WriteCase(
        "update_article",
        "tags-replaced",
        200,
        PATH,
        body={"article": {"tagList": ["training", "fire"]}},
        writes={"articles": (0, 1, 0), "tags": (1, 0, 0), "article_tags": (1, 0, 1)},
    ),
    WriteCase(
        "update_article",
        "tags-cleared",
        200,
        PATH,
        body={"article": {"tagList": []}},
        writes={"articles": (0, 1, 0), "article_tags": (0, 0, 2)},
    ),
    WriteCase(
        "update_article",
        "anothers-article",
        403,
        "/api/articles/{jane}",
        body={"article": {"body": "mine now"}},
    ),
    WriteCase(
        "update_article",
        "unknown-article",
        404,
        "/api/articles/nope",
        body={"article": {"body": "x"}},
    ),
    WriteCase("update_article", "nothing-to-change", 422, PATH, body={"article": {}}),
    WriteCase(
        "update_article",
        "every-problem-at-once",
        422,
        PATH,
        body={"article": {"title": "", "description": 3, "body": [], "tagList": [1]}},
    ),
    WriteCase("update_article", "malformed-json", 422, PATH, body="{"),
    WriteCase("update_article", "no-body", 422, PATH),
    WriteCase(
        "update_article", "unknown-article-and-bad-body", 422, "/api/articles/nope", body="{"
    ),
    WriteCase("update_article", "oversized", 413, PATH, body="x" * (1024 * 1024 + 1)),
    *refused_callers("update_article", PATH, body={"article": {"body": "x"}}),
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
        CASES[0], world, functions, (app.core.services.articles, "update_article"), monkeypatch
    )
