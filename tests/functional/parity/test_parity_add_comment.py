"""Write parity of `add_comment` (POST /api/articles/{slug}/comments):
from the same state, the same answer and the same rows inserted, updated and deleted as
the monolith (write_parity.py)."""

from __future__ import annotations

from types import ModuleType

import pytest

import app.core.services.comments
from tests.support.parity import World
from tests.support.write_parity import (
    WriteCase,
    assert_nothing_written_when_the_database_goes_away,
    assert_write_case,
    refused_callers,
)

PATH = "/api/articles/{dragon}/comments"
COMMENT = {"comment": {"body": "Thank you so much!"}}
CASES = [
    WriteCase("add_comment", "new", 200, PATH, body=COMMENT, writes={"comments": (1, 0, 0)}),
    WriteCase(
        "add_comment",
        "unicode",
        200,
        PATH,
        body={"comment": {"body": "  Ça marche 🐉  "}},
        writes={"comments": (1, 0, 0)},
    ),
    WriteCase(
        "add_comment",
        "extra-fields-ignored",
        200,
        PATH,
        body={"comment": {"body": "Hi", "id": 7, "author": "jane"}, "more": 1},
        writes={"comments": (1, 0, 0)},
    ),
    WriteCase(
        "add_comment",
        "utf-16-json",
        200,
        PATH,
        body='{"comment": {"body": "Hi"}}'.encode("utf-16"),
        writes={"comments": (1, 0, 0)},
    ),
    WriteCase(
        "add_comment",
        "no-content-type",
        200,
        PATH,
        body=COMMENT,
        content_type=None,
        writes={"comments": (1, 0, 0)},
    ),
    WriteCase("add_comment", "unknown-article", 404, "/api/articles/nope/comments", body=COMMENT),
    WriteCase("add_comment", "no-body", 422, PATH),
    WriteCase("add_comment", "empty-body", 422, PATH, body=""),
    WriteCase("add_comment", "malformed-json", 422, PATH, body='{"comment": {"body": "x"'),
    WriteCase("add_comment", "not-utf8", 422, PATH, body=b"\xff\xfe\xfa"),
    WriteCase("add_comment", "array", 422, PATH, body=[COMMENT]),
    WriteCase("add_comment", "json-null", 422, PATH, body="null"),
    WriteCase("add_comment", "no-comment", 422, PATH, body={"body": "x"}),
    WriteCase("add_comment", "comment-not-object", 422, PATH, body={"comment": "x"}),
    WriteCase("add_comment", "body-number", 422, PATH, body={"comment": {"body": 5}}),
    WriteCase("add_comment", "body-blank", 422, PATH, body={"comment": {"body": "   "}}),
    WriteCase("add_comment", "body-too-long", 422, PATH, body={"comment": {"body": "x" * 10_001}}),
    WriteCase("add_comment", "lone-surrogate", 422, PATH, body='{"comment": {"body": "\\ud800"}}'),
    WriteCase("add_comment", "deep-nesting", 422, PATH, body="[" * 100_000),
    WriteCase(
        "add_comment", "oversized", 413, PATH, body={"comment": {"body": "x" * (1024 * 1024)}}
    ),
    WriteCase(
        "add_comment", "unknown-article-and-bad-body", 422, "/api/articles/nope/comments", body="{"
    ),
    *refused_callers("add_comment", PATH, body=COMMENT),
    WriteCase("add_comment", "anonymous-and-bad-body", 401, PATH, auth="anonymous", body="{"),
    WriteCase(
        "add_comment",
        "anonymous-and-oversized",
        401,
        PATH,
        auth="anonymous",
        body="x" * (1024 * 1024 + 1),
    ),
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
        CASES[0], world, functions, (app.core.services.comments, "add_comment"), monkeypatch
    )
