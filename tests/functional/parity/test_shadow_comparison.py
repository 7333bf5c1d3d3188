"""The comparator on real code: each shadowed route's new handler against the monolith (as
serverless-wsgi runs it), on the seeded world, through app/deploy/comparator.compare."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from app.deploy.comparator import compare
from app.deploy.registry import load_registry
from tests.support.lambdas import LambdaContext, invoke
from tests.support.parity import AUTHS, HAPPY_PATHS, Case, World

SHADOWED = [str(function.module_name) for function in load_registry().shadowed]


def _monolith(world: World) -> Any:
    return lambda event, context: invoke(world.monolith, event, context)


@pytest.mark.parametrize("auth", sorted(AUTHS))
@pytest.mark.parametrize("module", SHADOWED)
def test_the_new_code_agrees_with_the_monolith_at_once(
    module: str, auth: str, world: World, functions: dict[str, ModuleType]
) -> None:
    event = Case(module, auth, 200, HAPPY_PATHS[module], auth=auth).event(world)
    monolith = _monolith(world)
    answer = monolith(event, LambdaContext())
    verdict = compare(
        event["routeKey"],
        event,
        answer,
        candidate=functions[module].handler,
        monolith=monolith,
        context=LambdaContext(),
    )
    assert (verdict.mismatched, verdict.settled, verdict.paths) == (False, False, [])


@pytest.mark.parametrize("module", SHADOWED)
def test_new_code_that_answers_otherwise_is_a_mismatch(
    module: str, world: World, functions: dict[str, ModuleType]
) -> None:
    def wrong(event: Any, context: Any) -> Any:
        result = dict(functions[module].handler(event, context))
        body = json.loads(result["body"])
        result["body"] = json.dumps({**body, "unexpected": True})
        return result

    event = Case(module, "jake", 200, HAPPY_PATHS[module], auth="jake").event(world)
    monolith = _monolith(world)
    verdict = compare(
        event["routeKey"],
        event,
        monolith(event, LambdaContext()),
        candidate=wrong,
        monolith=monolith,
        context=LambdaContext(),
    )
    assert verdict.mismatched
    assert verdict.paths == ["$.unexpected"]
