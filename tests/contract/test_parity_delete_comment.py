"""Parity cases of `delete_comment` (DELETE /api/articles/{slug}/comments/{comment_id}):
it answers as the monolith did."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.contract.conftest import World
from tests.contract.test_parity import Case, assert_case

PATH = "/api/articles/{dragon}/comments/1"
CASES = [
    Case("delete_comment", "anonymous", 401, PATH),
    Case("delete_comment", "garbage-token", 401, PATH, auth="garbage-token"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_same_answer(
    case: Case, world: World, functions: dict[str, ModuleType], backend: str
) -> None:
    assert_case(case, world, functions, backend)
