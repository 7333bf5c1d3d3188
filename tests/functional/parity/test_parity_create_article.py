"""Write parity of `create_article` (POST /api/articles):
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

PATH = "/api/articles"
ARTICLE = {
    "article": {
        "title": "How to tame your dragon",
        "description": "Ever wonder how?",
        "body": "You have to believe",
        "tagList": ["dragons", "reactjs", "angularjs"],
    }
}
NEW_TAGS = {"tags": (2, 0, 0), "article_tags": (3, 0, 0)}
CASES = [
    WriteCase(
        "create_article", "new", 201, PATH, body=ARTICLE, writes={"articles": (1, 0, 0), **NEW_TAGS}
    ),
    WriteCase(
        "create_article",
        "no-tags",
        201,
        PATH,
        body={"article": {"title": "Plain", "description": "d", "body": "b"}},
        writes={"articles": (1, 0, 0)},
    ),
    WriteCase(
        "create_article",
        "tags-trimmed-and-deduplicated",
        201,
        PATH,
        body={
            "article": {
                "title": "T",
                "description": "d",
                "body": "b",
                "tagList": [" dragons ", "dragons", "new"],
            }
        },
        writes={"articles": (1, 0, 0), "tags": (1, 0, 0), "article_tags": (2, 0, 0)},
    ),
    # A title whose slug is taken (or reserved) gets a random suffix: compared by shape.
    WriteCase(
        "create_article",
        "slug-taken",
        201,
        PATH,
        body={"article": {"title": "How to train your dragon", "description": "d", "body": "b"}},
        writes={"articles": (1, 0, 0)},
    ),
    WriteCase(
        "create_article",
        "slug-reserved",
        201,
        PATH,
        body={"article": {"title": "Feed", "description": "d", "body": "b"}},
        writes={"articles": (1, 0, 0)},
    ),
    WriteCase(
        "create_article",
        "unicode-title",
        201,
        PATH,
        body={"article": {"title": "Café 🐉 crème", "description": "d", "body": "b"}},
        writes={"articles": (1, 0, 0)},
    ),
    WriteCase("create_article", "empty-article", 422, PATH, body={"article": {}}),
    WriteCase(
        "create_article",
        "every-problem-at-once",
        422,
        PATH,
        body={"article": {"title": 1, "description": "", "body": None, "tagList": "dragons"}},
    ),
    WriteCase(
        "create_article",
        "blank-tag",
        422,
        PATH,
        body={"article": {**ARTICLE["article"], "tagList": ["ok", " "]}},
    ),
    WriteCase(
        "create_article",
        "too-many-tags",
        422,
        PATH,
        body={"article": {**ARTICLE["article"], "tagList": [f"t{n}" for n in range(21)]}},
    ),
    WriteCase(
        "create_article",
        "title-too-long",
        422,
        PATH,
        body={"article": {**ARTICLE["article"], "title": "x" * 256}},
    ),
    WriteCase("create_article", "malformed-json", 422, PATH, body="{'article': {}}"),
    WriteCase("create_article", "not-an-object", 422, PATH, body='"article"'),
    WriteCase("create_article", "article-is-a-list", 422, PATH, body={"article": []}),
    WriteCase(
        "create_article",
        "oversized",
        413,
        PATH,
        body={"article": {**ARTICLE["article"], "body": "x" * (1024 * 1024)}},
    ),
    *refused_callers("create_article", PATH, body=ARTICLE),
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
        CASES[0], world, functions, (app.core.services.articles, "create_article"), monkeypatch
    )
