"""Peel one route off the monolith: `make peel ROUTE='POST /api/users' NAME=registerUser
[STEP=pin|shadow|switch]`.

- pin (the default) adds the function's entry to serverless.yml with the monolith's handler:
  the route gets its own function, alias and deployment, and behaves exactly as before.
  Its reserved concurrency is taken from the monolith's in each stage (custom.peel), as
  its traffic leaves the monolith; it refuses when the monolith would drop below its floor
  or a stage would go over its connection budget, and says what to lower.
- shadow (a pinned read route only) scaffolds the new handler module, its sample event
  and parity cases as switch does (each only if missing), and gives the entry
  `shadow: app/functions/<module>.handler`: the monolith's code still answers, and a
  sampled share of reads is compared with the new code's answers (app/deploy/shadow.py).
  Writes are never shadowed.
- switch scaffolds the new handler module (app/functions/<name>.py), its sample event
  (tests/support/events/<name>.json) and its parity cases
  (tests/functional/parity/test_parity_<name>.py), and points the entry at the new
  handler (its shadow's, when it has one, and the `shadow:` line goes). The service call
  is written by hand: until it is, `make migration-status` (and so `make test`) fails
  naming the function.

Edits serverless.yml as text, keeping its comments and layout. Running a step twice is
safe: the second run finds it done and changes nothing. Exit status 0 on success or
nothing to do; 1 with one line naming the problem otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.deploy.events import http_event
from app.deploy.registry import (
    DEPLOYED_STAGES,
    FUNCTION_NAME,
    MONOLITH,
    MONOLITH_HANDLER,
    Function,
    Route,
    load_serverless,
    registry_of,
)
from scripts.migration_status import (
    SCAFFOLD_MARKER,
    budget_report,
    flask_routes,
)

ROOT = Path(__file__).resolve().parents[1]

INSERT_MARKER = "  # `make peel` adds new dedicated functions above this line.\n"
# Sample values for path parameters in sample events and parity cases.
SAMPLE_VALUES = {"slug": "how-to-train-your-dragon", "username": "jake", "id": "1"}
PARITY_VALUES = {"slug": "{dragon}", "username": "jake", "id": "1"}


class Refused(Exception):
    """The step cannot be taken; the message says why and what to do."""


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _stages(mapping: Mapping[str, Any]) -> dict[str, int]:
    """A per-stage map ({default, dev, ...}) spelled out for every deployed stage."""
    return {
        stage: int(mapping.get(stage, mapping.get("default", 0)))
        for stage in (*DEPLOYED_STAGES, "default")
        if stage in mapping or "default" in mapping
    }


def flow_map(values: Mapping[str, int]) -> str:
    """{default: 2, dev: 1, prod: 10}, with stages equal to the default left out."""
    default = values.get("default")
    parts = [f"default: {default}"] if default is not None else []
    parts += [
        f"{stage}: {values[stage]}"
        for stage in DEPLOYED_STAGES
        if stage in values and values[stage] != default
    ]
    return "{" + ", ".join(parts) + "}"


def _monolith_routes() -> list[Route]:
    from legacy import create_app

    app = create_app({"APP_ENV": "test", "DATABASE_URL": "sqlite://"})
    return [route.route for route in flask_routes(app)]  # type: ignore[misc]


def _concurrency_line(text: str, name: str) -> re.Match[str]:
    block = re.search(rf"(?m)^  {re.escape(name)}:\n(?:    .*\n|\n)*?", text)
    start = block.start() if block else -1
    match = re.compile(r"(?m)^    concurrency: (\{.*\})$").search(text, start if start >= 0 else 0)
    if block is None or match is None:
        raise Refused(f"{name} has no `concurrency: {{...}}` line in serverless.yml")
    return match


def pin(text: str, route: Route, name: str, monolith_routes: list[Route]) -> str:
    config = _load(text)
    registry = registry_of(config)
    existing = next((f for f in registry.functions if f.name == name), None)
    if existing is not None:
        if route in existing.routes:
            raise NothingToDo(f"{name} already owns {route} ({existing.state.value})")
        raise Refused(f"a function named {name} exists already (it owns {existing.route})")
    for function in registry.http_functions:
        for claimed in function.routes:
            if claimed.method == route.method and claimed.shape == route.shape:
                raise Refused(f"{route} is peeled already: {function.name} owns {claimed}")
    if not any(m.method == route.method and m.shape == route.shape for m in monolith_routes):
        raise Refused(f"the monolith does not serve {route}: nothing to peel")

    peel = (config.get("custom") or {}).get("peel") or {}
    take = _stages(peel.get("concurrency") or {})
    floor = _stages(peel.get("monolithFloor") or {})
    monolith = registry.get(MONOLITH)
    before = _stages(monolith.entry.get("concurrency") or {})
    after = {stage: before[stage] - take.get(stage, 0) for stage in before}
    # `default` too: it is what any other stage (a new one, `local`) reserves.
    for stage in (*DEPLOYED_STAGES, "default"):
        if stage not in after:
            continue
        keeps, least = after[stage], floor.get(stage, 0)
        if keeps < least:
            raise Refused(
                f"{stage}: the monolith would keep {keeps} reserved of its floor {least}: "
                f"lower custom.peel.concurrency.{stage} by {least - keeps}, or raise the "
                f"monolith's concurrency.{stage} (and the budget) first"
            )

    match = _concurrency_line(text, MONOLITH)
    text = text[: match.start(1)] + flow_map(after) + text[match.end(1) :]
    entry = (
        f"  {name}:\n"
        f"    handler: {MONOLITH_HANDLER}\n"
        f"    description: {route} {PINNED_DESCRIPTION}\n"
        f"    events:\n"
        f"      - httpApi: '{route}'\n"
        f"    concurrency: {flow_map(take)}\n"
        f"    # Reads the token signing key: the monolith's code checks tokens (drop it once a\n"
        f"    # new handler never does).\n"
        f"    uses: [signingKey]\n"
        f"\n"
    )
    if INSERT_MARKER not in text:
        raise Refused(f"serverless.yml lost its marker line: {INSERT_MARKER.strip()!r}")
    text = text.replace(INSERT_MARKER, entry + INSERT_MARKER, 1)
    new_config = _load(text)
    for stage in DEPLOYED_STAGES:
        report = budget_report(new_config, stage, connections_each=1)
        if report.errors:
            raise Refused(report.errors[0])
    return text


class NothingToDo(Exception):
    """The step was taken before; nothing changes."""


PINNED_DESCRIPTION = "(pinned - still the monolith's code)"
SHADOW_DESCRIPTION = "(shadow - still the monolith's code, compared with the new)"


def _pinned_function(text: str, route: Route, name: str) -> Function:
    registry = registry_of(_load(text))
    try:
        function = registry.get(name)
    except KeyError:
        raise Refused(f"no function {name}: pin {route} first (STEP=pin)") from None
    if route not in function.routes:
        raise Refused(f"{name} owns {function.route}, not {route}")
    if function.module is not None:
        raise NothingToDo(f"{name} runs new code already ({function.module})")
    return function


def _scaffold(name: str, module: str, route: Route, root: Path) -> list[Path]:
    """The new handler module, its sample event and parity cases: each only if missing."""
    tests = root / "tests"
    files = {
        root / "app" / "functions" / f"{module}.py": handler_module(name, route),
        tests / "support" / "events" / f"{module}.json": sample_event(route),
        tests / "functional" / "parity" / f"test_parity_{module}.py": parity_cases(module, route),
    }
    written = []
    for path, content in files.items():
        if not path.exists():
            path.write_text(content, encoding="utf-8")
            written.append(path)
    return written


def _handler_line(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?m)^(  {re.escape(name)}:\n    handler: ){re.escape(MONOLITH_HANDLER)}\n")


def shadow(text: str, route: Route, name: str, root: Path) -> tuple[str, list[Path]]:
    function = _pinned_function(text, route, name)
    if function.shadow_module is not None:
        raise NothingToDo(f"{name} is in shadow already ({function.shadow_module})")
    if not route.is_read:
        raise Refused(f"{route} is a write: writes are never shadowed; switch it (STEP=switch)")
    pattern = _handler_line(name)
    if not pattern.search(text):
        raise Refused(f"{name}'s entry does not start with `handler: {MONOLITH_HANDLER}`")
    module = snake_case(name)
    written = _scaffold(name, module, route, root)
    text = pattern.sub(
        rf"\g<1>{MONOLITH_HANDLER}\n    shadow: app/functions/{module}.handler\n", text, count=1
    )
    text = text.replace(
        f"    description: {route} {PINNED_DESCRIPTION}\n",
        f"    description: {route} {SHADOW_DESCRIPTION}\n",
        1,
    )
    return text, written


def switch(text: str, route: Route, name: str, root: Path) -> tuple[str, list[Path]]:
    function = _pinned_function(text, route, name)
    shadow_module = function.shadow_module
    module = shadow_module.rpartition(".")[2] if shadow_module else snake_case(name)
    written = _scaffold(name, module, route, root)
    pattern = _handler_line(name)
    if not pattern.search(text):
        raise Refused(f"{name}'s entry does not start with `handler: {MONOLITH_HANDLER}`")
    text = pattern.sub(rf"\g<1>app/functions/{module}.handler\n", text, count=1)
    if shadow_module:
        shadow_line = re.compile(rf"(?m)^(  {re.escape(name)}:\n    handler: .*\n)    shadow: .*\n")
        if not shadow_line.search(text):
            raise Refused(f"{name}'s `shadow:` must follow its `handler:` line")
        text = shadow_line.sub(r"\g<1>", text, count=1)
    for description in (PINNED_DESCRIPTION, SHADOW_DESCRIPTION):
        text = text.replace(
            f"    description: {route} {description}\n", f"    description: {route}\n", 1
        )
    return text, written


def _fill(route: Route, values: Mapping[str, str]) -> str:
    path = route.path
    for parameter in route.parameters:
        path = path.replace("{" + parameter + "}", values.get(parameter, "1"))
    return path


def handler_module(name: str, route: Route) -> str:
    return f'''"""Lambda `{name}`: {route}."""

from __future__ import annotations

from typing import Any

from app import init_finished
from app.platform.lambda_http import Answer, Request, Route, Runtime, serve

ROUTE = Route("{route.key}")
runtime = Runtime.from_env({"reads_only=True" if route.is_read else ""})
init_finished()


def {snake_case(name)}(request: Request) -> Answer:
    # Read request.path / request.args / request.header(), call one service in
    # app.core.services, return Answer(payload, status); then delete this line and the next.
    raise NotImplementedError("{name}: {SCAFFOLD_MARKER}: call the service")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event, context, ROUTE, {snake_case(name)})
'''


def sample_event(route: Route) -> str:
    event = http_event(route.method, _fill(route, SAMPLE_VALUES), route=route.path)
    return json.dumps(event, indent=2) + "\n"


def parity_cases(module: str, route: Route) -> str:
    path = _fill(route, PARITY_VALUES)
    if not route.is_read:
        return write_parity_cases(module, route, path)
    return f'''"""Parity cases of `{module}` ({route}):
it answers as the monolith did."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.support.parity import Case, World, assert_case

PATH = "{path}"
CASES = [
    Case("{module}", "anonymous", 401, PATH),
    Case("{module}", "garbage-token", 401, PATH, auth="garbage-token"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_same_answer(
    case: Case, world: World, functions: dict[str, ModuleType], backend: str
) -> None:
    assert_case(case, world, functions, backend)
'''


def write_parity_cases(module: str, route: Route, path: str) -> str:
    """A write's cases compare the database effect too (tests/support/write_parity.py)."""
    return f'''"""Write parity of `{module}` ({route}):
from the same state, the same answer and the same rows written as the monolith."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.support.parity import World
from tests.support.write_parity import WriteCase, assert_write_case, refused_callers

PATH = "{path}"
CASES = [
    # Add the writes: WriteCase("{module}", label, status, PATH, body=..., writes={{...}}).
    WriteCase("{module}", "anonymous", 401, PATH, auth="anonymous"),
    *refused_callers("{module}", PATH),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_same_answer_and_effect(
    case: WriteCase, world: World, functions: dict[str, ModuleType], backend: str
) -> None:
    assert_write_case(case, world, functions, backend)
'''


def _load(text: str) -> dict[str, Any]:
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as handle:
        handle.write(text)
    path = Path(handle.name)
    try:
        return load_serverless(path)
    finally:
        path.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("route", help="'METHOD /path', as API Gateway spells it")
    parser.add_argument("name", help="the function's name in serverless.yml (lowerCamelCase)")
    parser.add_argument("--step", choices=("pin", "shadow", "switch"), default="pin")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    serverless = args.root / "serverless.yml"
    try:
        if not FUNCTION_NAME.match(args.name or ""):
            raise Refused(
                f"bad name {args.name!r}: lowerCamelCase letters and digits, 2 to 48 characters"
            )
        try:
            route = Route.parse(args.route or "")
        except ValueError as error:
            raise Refused(str(error)) from None
        if route.path == "$default" or route.method == "ANY":
            raise Refused(f"{args.route!r}: peel one method of one path, e.g. 'GET /api/tags'")
        text = serverless.read_text(encoding="utf-8")
        if args.step == "pin":
            new_text = pin(text, route, args.name, _monolith_routes())
            serverless.write_text(new_text, encoding="utf-8")
            print(f"pinned {route} to {args.name} (still the monolith's code)")
        elif args.step == "shadow":
            new_text, written = shadow(text, route, args.name, args.root)
            serverless.write_text(new_text, encoding="utf-8")
            for path in written:
                print(f"wrote {path.relative_to(args.root)}")
            print(
                f"{args.name} now carries its new handler as its shadow: write its service "
                "call; the monolith's code still answers"
            )
        else:
            new_text, written = switch(text, route, args.name, args.root)
            serverless.write_text(new_text, encoding="utf-8")
            for path in written:
                print(f"wrote {path.relative_to(args.root)}")
            print(f"switched {args.name} to its new handler: now write its service call")
    except NothingToDo as done:
        print(f"nothing to do: {done}")
    except Refused as refusal:
        print(f"peel: {refusal}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
