"""Parity cases of `favorite_article` (POST /api/articles/{slug}/favorite):
it answers as the monolith did."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.contract.conftest import World
from tests.contract.test_parity import Case, assert_case

PATH = "/api/articles/{dragon}/favorite"
CASES = [
    Case("favorite_article", "anonymous", 401, PATH),
    Case("favorite_article", "garbage-token", 401, PATH, auth="garbage-token"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_same_answer(
    case: Case, world: World, functions: dict[str, ModuleType], backend: str
) -> None:
    assert_case(case, world, functions, backend)
