"""`make peel` (scripts/peel.py) and the wiring rules of `make migration-status`: each rule
is fired on purpose by a configuration broken the way a hand edit would break it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.deploy.registry import load_registry, load_serverless, registry_of
from scripts.migration_status import budget_report, wiring_report
from tests.support.servers import REPO

# A route that stays on the monolith (the tests peel it in a copy of serverless.yml).
ROUTE = "POST /api/users/login"
NAME = "logIn"
MODULE = "log_in"


def peel(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.peel", *args, "--root", str(root)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of what peel edits: serverless.yml, and the folders the switch writes to."""
    shutil.copy(REPO / "serverless.yml", tmp_path / "serverless.yml")
    for folder in ("app/functions", "tests/support/events", "tests/functional/parity"):
        (tmp_path / folder).mkdir(parents=True)
    return tmp_path


def monolith_concurrency_line(text: str) -> re.Match[str]:
    found = re.search(r"(?m)^  monolith:\n(?:    .*\n)*?(    concurrency: \{.*\})$", text)
    assert found is not None
    return found


def added_lines(before: str, after: str) -> int:
    """Lines of `after` that `before` does not have (a changed line counts as added)."""
    import difflib

    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))


def test_pin_adds_one_short_entry_and_takes_concurrency_from_the_monolith(checkout: Path) -> None:
    before = (checkout / "serverless.yml").read_text()
    old = load_registry(checkout / "serverless.yml")

    result = peel(checkout, ROUTE, NAME)

    assert result.returncode == 0, result.stderr
    after = (checkout / "serverless.yml").read_text()
    assert added_lines(before, after) <= 15
    registry = load_registry(checkout / "serverless.yml")
    function = registry.get(NAME)
    assert function.state.value == "pinned"
    assert [str(r) for r in function.routes] == [ROUTE]
    for stage in ("dev", "staging", "prod"):
        params = registry.params(stage)
        taken = function.reserved_concurrency(stage, params)
        assert taken
        monolith_before = old.get("monolith").reserved_concurrency(stage, params)
        assert registry.get("monolith").reserved_concurrency(stage, params) == (
            monolith_before - taken  # type: ignore[operator]
        )
        assert budget_report(registry.config, stage, connections_each=1).errors == []
    # Comments and layout stay: only the monolith's concurrency line changed.
    assert [line for line in before.splitlines() if line not in after.splitlines()] == [
        monolith_concurrency_line(before).group(1)
    ]


def test_pin_twice_changes_nothing(checkout: Path) -> None:
    assert peel(checkout, ROUTE, NAME).returncode == 0
    once = (checkout / "serverless.yml").read_text()
    again = peel(checkout, ROUTE, NAME)
    assert again.returncode == 0
    assert "nothing to do" in again.stdout
    assert (checkout / "serverless.yml").read_text() == once


@pytest.mark.parametrize(
    ("route", "name", "problem"),
    [
        ("GET /api/nothing", "getNothing", "the monolith does not serve GET /api/nothing"),
        ("GET /api/tags", "tagsAgain", "GET /api/tags is peeled already: listTags owns"),
        ("GET /api/articles/{id}", "articleById", "is peeled already: getArticle owns"),
        (ROUTE, "Favorite_article", "bad name 'Favorite_article'"),
        (ROUTE, "f", "bad name 'f'"),
        (ROUTE, "listTags", "a function named listTags exists already"),
        ("login", NAME, "not a route"),
        ("* /api/tags", "anyTags", "peel one method of one path"),
    ],
)
def test_pin_refuses_with_one_line(checkout: Path, route: str, name: str, problem: str) -> None:
    before = (checkout / "serverless.yml").read_text()
    result = peel(checkout, route, name)
    assert result.returncode == 1
    assert problem in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert (checkout / "serverless.yml").read_text() == before


def test_pin_refuses_to_starve_the_monolith_at_its_floor(tmp_path: Path) -> None:
    """The monolith down to its floor in dev (2): one more pin would leave it 1."""
    text = (REPO / "serverless.yml").read_text()
    found = monolith_concurrency_line(text)
    (tmp_path / "serverless.yml").write_text(
        text[: found.start(1)] + "    concurrency: {default: 10, dev: 2, staging: 5, prod: 50}"
        + text[found.end(1) :]
    )  # fmt: skip
    before = (tmp_path / "serverless.yml").read_text()
    result = peel(tmp_path, ROUTE, NAME)
    assert result.returncode == 1
    assert "dev: the monolith would keep 1 reserved of its floor 2" in result.stderr
    assert "raise the monolith's concurrency.dev" in result.stderr
    assert (tmp_path / "serverless.yml").read_text() == before


def test_pin_refuses_to_starve_the_monolith_and_says_by_how_much(checkout: Path) -> None:
    """Taking 5 more than the monolith can spare in prod: refused, saying by how much."""
    path = checkout / "serverless.yml"
    registry = load_registry(path)
    params = registry.params("prod")
    monolith = registry.get("monolith").reserved_concurrency("prod", params)
    floor = int(registry.config["custom"]["peel"]["monolithFloor"]["prod"])
    assert monolith is not None
    take = monolith - floor + 5
    peel_line = "    concurrency: {default: 2, dev: 1, staging: 1, prod: 10}\n    # What the"
    text = path.read_text()
    assert peel_line in text
    path.write_text(text.replace(peel_line, peel_line.replace("prod: 10", f"prod: {take}")))
    result = peel(checkout, ROUTE, NAME)
    assert result.returncode == 1
    assert (
        f"prod: the monolith would keep {floor - 5} reserved of its floor {floor}" in result.stderr
    )
    assert "lower custom.peel.concurrency.prod by 5" in result.stderr


def test_switch_scaffolds_the_handler_and_fails_migration_status_until_written(
    checkout: Path,
) -> None:
    assert peel(checkout, ROUTE, NAME).returncode == 0
    result = peel(checkout, ROUTE, NAME, "--step", "switch")
    assert result.returncode == 0, result.stderr
    module = checkout / "app" / "functions" / f"{MODULE}.py"
    # A write: its runtime can open units of work that write (a read's is reads-only).
    assert "\nruntime = Runtime.from_env()\n" in module.read_text()
    compile(module.read_text(), str(module), "exec")
    assert (checkout / "tests" / "support" / "events" / f"{MODULE}.json").is_file()
    cases = (checkout / "tests" / "functional" / "parity" / f"test_parity_{MODULE}.py").read_text()
    # A write's parity cases compare what it writes, not only what it answers.
    assert "from tests.support.write_parity import" in cases
    assert f'WriteCase("{MODULE}", "anonymous", 401, PATH' in cases
    compile(cases, "scaffold", "exec")
    registry = load_registry(checkout / "serverless.yml")
    function = registry.get(NAME)
    assert function.state.value == "new"
    assert function.module == f"app.functions.{MODULE}"

    errors = wiring_report(registry, checkout).errors
    assert any(f"{NAME}: app/functions/{MODULE}.py still has the scaffold" in e for e in errors), (
        errors
    )
    assert peel(checkout, ROUTE, NAME, "--step", "switch").returncode == 0


def test_switch_needs_a_pin_first(checkout: Path) -> None:
    result = peel(checkout, ROUTE, NAME, "--step", "switch")
    assert result.returncode == 1
    assert f"no function {NAME}: pin" in result.stderr


READ_ROUTE = "GET /api/user/exports/{export_id}"


def test_shadow_carries_the_new_handler_while_the_monolith_answers(checkout: Path) -> None:
    assert peel(checkout, READ_ROUTE, "getExport").returncode == 0
    result = peel(checkout, READ_ROUTE, "getExport", "--step", "shadow")
    assert result.returncode == 0, result.stderr
    registry = load_registry(checkout / "serverless.yml")
    function = registry.get("getExport")
    assert function.state.value == "shadow"
    assert function.handler == "wsgi_handler.handler"
    assert function.shadow_module == "app.functions.get_export"
    assert function.entry["description"].endswith("compared with the new)")
    for path in (
        "app/functions/get_export.py",
        "tests/support/events/get_export.json",
        "tests/functional/parity/test_parity_get_export.py",
    ):
        assert (checkout / path).is_file(), path
    module = (checkout / "app" / "functions" / "get_export.py").read_text()
    assert "\nruntime = Runtime.from_env(reads_only=True)\n" in module
    errors = wiring_report(registry, checkout).errors
    assert any("getExport: app/functions/get_export.py still has the scaffold" in e for e in errors)

    again = peel(checkout, READ_ROUTE, "getExport", "--step", "shadow")
    assert again.returncode == 0 and "nothing to do" in again.stdout


def test_switch_after_shadow_takes_the_shadow_as_handler(checkout: Path) -> None:
    assert peel(checkout, READ_ROUTE, "getExport").returncode == 0
    assert peel(checkout, READ_ROUTE, "getExport", "--step", "shadow").returncode == 0
    handler = checkout / "app" / "functions" / "get_export.py"
    handler.write_text("# written by hand\n", encoding="utf-8")
    result = peel(checkout, READ_ROUTE, "getExport", "--step", "switch")
    assert result.returncode == 0, result.stderr
    function = load_registry(checkout / "serverless.yml").get("getExport")
    assert function.state.value == "new"
    assert function.handler == "app/functions/get_export.handler"
    assert "shadow" not in function.entry
    assert function.entry["description"] == READ_ROUTE
    assert handler.read_text(encoding="utf-8") == "# written by hand\n"


def test_writes_are_never_shadowed(checkout: Path) -> None:
    assert peel(checkout, ROUTE, NAME).returncode == 0
    result = peel(checkout, ROUTE, NAME, "--step", "shadow")
    assert result.returncode == 1
    assert "writes are never shadowed" in result.stderr
    assert "shadow" not in load_registry(checkout / "serverless.yml").get(NAME).entry


def test_shadow_needs_a_pin_first(checkout: Path) -> None:
    result = peel(checkout, READ_ROUTE, "getExport", "--step", "shadow")
    assert result.returncode == 1
    assert "no function getExport: pin" in result.stderr


# --- the wiring rules ---------------------------------------------------------------------


def _config(**entry: Any) -> dict[str, Any]:
    """The real serverless.yml with one more dedicated function, `broken`."""
    config = load_serverless(REPO / "serverless.yml")
    config["functions"]["broken"] = {
        "handler": "app/functions/list_tags.handler",
        "events": [{"httpApi": "GET /api/tags/{tag}"}],
        "concurrency": {"default": 1},
        **entry,
    }
    config["custom"]["migration"]["new"] = ["GET /api/tags/{tag}"]
    return config


def _errors(config: dict[str, Any], root: Path = REPO) -> list[str]:
    return [e for e in wiring_report(registry_of(config), root).errors if e.startswith("broken:")]


def test_the_real_configuration_is_wired() -> None:
    assert wiring_report(load_registry()).errors == []


def test_a_function_with_no_smoke_checks_fails() -> None:
    errors = _errors(_config())
    assert any("broken: no smoke checks" in e and "add `smoke:`" in e for e in errors), errors
    declared = _config(smoke=[{"path": "/api/tags/x", "status": 200, "shape": "tags"}])
    assert not any("no smoke checks" in e for e in _errors(declared))


def test_a_function_the_hooks_may_not_invoke_fails() -> None:
    untested = _config(deploymentSettings={"type": "AllAtOnce", "alias": "Live"})
    assert any("name no preTrafficHook" in e for e in _errors(untested))
    config = _config(smoke=[{"path": "/api/tags/x", "status": 200}])
    role = config["resources"]["Resources"]["PreTrafficHookRole"]
    for statement in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]:
        statement.pop("Sid", None)
    assert any("the preTrafficHook preTrafficHook may not invoke it" in e for e in _errors(config))


def test_a_missing_handler_module_fails() -> None:
    errors = _errors(_config(handler="app/functions/no_such_module.handler"))
    assert any("its handler module app.functions.no_such_module does not exist" in e
               for e in errors)  # fmt: skip


def test_a_handler_that_imports_flask_fails(tmp_path: Path) -> None:
    (tmp_path / "app" / "functions").mkdir(parents=True)
    (tmp_path / "app" / "functions" / "helper.py").write_text("def f():\n    import werkzeug\n")
    (tmp_path / "app" / "functions" / "leaky.py").write_text("from app.functions import helper\n")
    errors = _errors(_config(handler="app/functions/leaky.handler"), tmp_path)
    assert any(
        "imports the monolith's stack: app.functions.leaky -> app.functions.helper -> werkzeug" in e
        for e in errors
    ), errors


def test_a_switched_function_without_parity_cases_or_sample_event_fails(tmp_path: Path) -> None:
    (tmp_path / "app" / "functions").mkdir(parents=True)
    (tmp_path / "app" / "functions" / "tag_page.py").write_text("import json\n")
    (tmp_path / "tests" / "functional" / "parity").mkdir(parents=True)
    errors = _errors(_config(handler="app/functions/tag_page.handler"), tmp_path)
    assert any(
        "has no parity cases in tests/functional/parity/ (Case('tag_page'" in e for e in errors
    )
    assert any("has no sample event tests/support/events/tag_page.json" in e for e in errors)

    (tmp_path / "tests" / "functional" / "parity" / "test_x.py").write_text(
        'CASES = [Case("tag_page", "a")]\n'
    )
    (tmp_path / "tests" / "support" / "events").mkdir(parents=True)
    (tmp_path / "tests" / "support" / "events" / "tag_page.json").write_text("{}")
    errors = _errors(_config(handler="app/functions/tag_page.handler"), tmp_path)
    assert not any("parity" in e or "sample event" in e for e in errors), errors


def test_over_budget_names_the_reservations_to_lower() -> None:
    config = _config(concurrency={"default": 1, "prod": 400})
    report = budget_report(config, "prod", connections_each=1)
    [error] = report.errors
    assert "over budget; free" in error
    assert "broken (400 reserved x2 versions)" in error


def test_a_missing_stage_value_names_the_function_and_the_stage() -> None:
    config = _config(concurrency={"dev": 1})
    [error] = budget_report(config, "prod", connections_each=1).errors
    assert "broken reaches the database without reserved concurrency" in error
    assert "prod" in error


def test_a_shadow_on_new_code_or_a_write_fails() -> None:
    on_new_code = _config(shadow="app/functions/list_tags.handler")
    assert any("a shadow belongs to a pinned function" in e for e in _errors(on_new_code))
    on_a_write = _config(
        handler="wsgi_handler.handler",
        shadow="app/functions/list_tags.handler",
        events=[{"httpApi": "POST /api/tags/{tag}"}],
    )
    on_a_write["custom"]["migration"]["new"] = ["POST /api/tags/{tag}"]
    assert any("writes are never shadowed" in e for e in _errors(on_a_write))


def test_each_comparator_counts_its_two_connections_in_the_budget() -> None:
    config = load_serverless(REPO / "serverless.yml")
    with_shadow = budget_report(config, "prod", connections_each=1).lines[0]
    config["functions"]["getCurrentUser"].pop("shadow")
    without = budget_report(config, "prod", connections_each=1).lines[0]
    comparator = config["custom"]["dedicatedFunctions"]["shadow"]["comparator"]
    expected = comparator["concurrency"]["prod"] * comparator["connections"]
    used = [int(line.split("connections: ")[1].split(" ")[0]) for line in (with_shadow, without)]
    assert used[0] - used[1] == expected == 6
