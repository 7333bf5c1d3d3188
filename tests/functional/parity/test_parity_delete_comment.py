"""Write parity of `delete_comment` (DELETE /api/articles/{slug}/comments/{comment_id}):
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

PATH = "/api/articles/{dragon}/comments/{jane_comment}"
BASE = "/api/articles/{dragon}/comments/"
CASES = [
    WriteCase("delete_comment", "own", 204, PATH, auth="jane", writes={"comments": (0, 0, 1)}),
    WriteCase(
        "delete_comment",
        "leading-zeros",
        204,
        BASE + "0{jane_comment}",
        auth="jane",
        writes={"comments": (0, 0, 1)},
    ),
    WriteCase("delete_comment", "anothers", 403, PATH, auth="jake"),
    WriteCase(
        "delete_comment",
        "other-article",
        404,
        "/api/articles/{second}/comments/{jane_comment}",
        auth="jane",
    ),
    WriteCase(
        "delete_comment",
        "unknown-article",
        404,
        "/api/articles/nope/comments/{jane_comment}",
        auth="jane",
    ),
    WriteCase("delete_comment", "unknown-id", 404, BASE + "99999999", auth="jane"),
    WriteCase("delete_comment", "zero", 404, BASE + "0", auth="jane"),
    WriteCase("delete_comment", "huge", 404, BASE + "9" * 30, auth="jane"),
    WriteCase("delete_comment", "too-many-digits", 404, BASE + "9" * 5000, auth="jane"),
    # Not a whole number: a 404 before credentials are read, whoever sends it.
    *[
        WriteCase("delete_comment", f"id-{label}-{auth}", 404, BASE + segment, auth=auth)
        for label, segment in [
            ("word", "abc"),
            ("negative", "-1"),
            ("plus", "+1"),
            ("decimal", "1.5"),
            ("exponent", "1e3"),
            ("space", "1%20"),
            ("encoded-space-first", "%201"),
            ("underscore", "1_0"),
            ("superscript-two", "%C2%B2"),
        ]
        for auth in ("jane", "anonymous")
    ],
    # Werkzeug's `int` read any Unicode decimal digit: still a number, so credentials count.
    *[
        WriteCase("delete_comment", f"id-{label}-{auth}", status, BASE + segment, auth=auth)
        for label, segment in [
            ("arabic-indic-digits", "%D9%A9" * 9),
            ("fullwidth-digits", "%EF%BC%99" * 9),
        ]
        for auth, status in (("jane", 404), ("anonymous", 401))
    ],
    *refused_callers("delete_comment", PATH),
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
        CASES[0], world, functions, (app.core.services.comments, "delete_comment"), monkeypatch
    )
