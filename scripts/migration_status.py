"""Who serves each route of the Conduit API: the monolith, a pinned function (in shadow
state when it carries the new handler as its shadow), or new code.

Reads the monolith's routes from Flask's url_map and the deployed routes from
serverless.yml, resolves every monolith route the way API Gateway (HTTP API) would,
prints one line per method + path with its owner, and checks the migration's rules:

- every route the monolith serves still reaches code that serves it (not lost when the
  catch-all is gone, not shadowed by a dedicated function's broader route);
- a function's route matches a monolith route, or is declared in custom.migration
  (`new`: never existed in the monolith; `retired`: its monolith view was removed, and a
  route listed as retired is one the monolith no longer serves);
- no two functions claim one route;
- a Flask path converter has an API Gateway equivalent wherever a function took over;
- every dedicated function is wired for deployment: it has smoke checks, the CodeDeploy
  hooks may invoke it, its handler module exists and never imports Flask, Werkzeug or
  the monolith; once switched to new code it has parity cases and a sample event, and
  its handler calls a service (not the scaffold `make peel ... STEP=switch` wrote); a
  retired route's function needs no parity cases (no monolith code is left to compare);
- a function in shadow state is pinned (its handler is still the monolith's), owns one
  read route, and its shadow module exists, never imports the monolith's stack, has
  parity cases and a sample event;
- per stage, the connections the functions may open stay within the proxy's budget,
  each shadow's comparator included (an overrun names the reservations to lower).

Exit status 0 when every rule holds, 1 otherwise. Usage:
    python scripts/migration_status.py [--serverless serverless.yml] [--stage prod ...]
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.deploy.registry import (
    DEPLOYED_STAGES,
    MONOLITH,
    MONOLITH_HANDLER,
    Registry,
    State,
    load_serverless,
    registry_of,
    resolve,
)
from app.deploy.smoke import function_checks

ROOT = Path(__file__).resolve().parents[1]

# What `make peel ... STEP=switch` writes where the service call goes.
SCAFFOLD_MARKER = "written by make peel"
# What a dedicated function may never import (directly or through app modules).
FORBIDDEN_IMPORTS = ("flask", "werkzeug", "legacy", "serverless_wsgi")
# Flask converters whose values API Gateway can capture as they are. Anything else
# (int, float, uuid, any, custom) would let values through that Flask rejects.
PLAIN_CONVERTERS = {"default", "string"}
_FLASK_PARAM = re.compile(r"<(?:(?P<converter>[a-zA-Z_][\w]*)(?:\([^)]*\))?:)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    method: str  # "GET", ... or "ANY"
    path: str  # API Gateway syntax: /api/articles/{slug}, /{proxy+}

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def shape(self) -> tuple[str, ...]:
        """The path with parameter names erased: two routes with one shape collide."""
        return tuple(
            "{+}" if seg.endswith("+}") else "{}" if seg.startswith("{") else seg
            for seg in self.path.strip("/").split("/")
        )


@dataclass(frozen=True)
class MonolithRoute:
    route: Route
    converters: tuple[str, ...]  # Flask converter of each path parameter


@dataclass(frozen=True)
class Claim:
    function: str
    route: Route
    handler: str
    shadow: bool = False

    @property
    def pinned(self) -> bool:
        return self.handler == MONOLITH_HANDLER

    @property
    def state(self) -> str:
        if not self.pinned:
            return "new"
        return "shadow" if self.shadow else "pinned"


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def flask_routes(app: Any) -> list[MonolithRoute]:
    """Method + path of every view the monolith serves, in API Gateway syntax."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        converters = tuple(
            match.group("converter") or "default" for match in _FLASK_PARAM.finditer(rule.rule)
        )
        path = _FLASK_PARAM.sub(
            lambda m: "{" + m.group("name") + ("+}" if m.group("converter") == "path" else "}"),
            rule.rule,
        )
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append(MonolithRoute(Route(method, path), converters))
    return sorted(routes, key=lambda r: (r.route.path, r.route.method))


def _http_route(event: Any) -> Route | None:
    spec = event.get("httpApi") if isinstance(event, dict) else None
    if spec is None:
        return None
    if spec == "*" or (isinstance(spec, dict) and spec.get("path") == "*"):
        return Route("ANY", "$default")
    if isinstance(spec, str):
        method, _, path = spec.partition(" ")
    else:
        method, path = str(spec.get("method", "ANY")), str(spec["path"])
    method = method.upper()
    return Route("ANY" if method == "*" else method, path)


def claims(config: Mapping[str, Any]) -> list[Claim]:
    found = []
    for name, function in (config.get("functions") or {}).items():
        for event in function.get("events") or []:
            route = _http_route(event)
            if route is not None:
                found.append(
                    Claim(
                        name, route, str(function.get("handler", "")), bool(function.get("shadow"))
                    )
                )
    return found


def _matches(route: Route, request: Route) -> bool:
    """Would API Gateway hand `request` (a concrete monolith route) to `route`?"""
    if route.path == "$default":
        return True
    if route.method not in ("ANY", request.method):
        return False
    pattern, actual = route.path.strip("/").split("/"), request.path.strip("/").split("/")
    for index, segment in enumerate(pattern):
        if segment.endswith("+}"):
            return len(actual) > index
        if index >= len(actual):
            return False
        if not segment.startswith("{") and segment != actual[index]:
            return False
    return len(pattern) == len(actual)


def _specificity(route: Route) -> tuple[int, int, int, int]:
    """API Gateway's preference: full literal matches over parameters, parameters over
    greedy paths, an exact method over ANY, and $default last."""
    if route.path == "$default":
        return (0, 0, 0, 0)
    segments = route.path.strip("/").split("/")
    greedy = int(any(s.endswith("+}") for s in segments))
    literals = sum(1 for s in segments if not s.startswith("{"))
    return (1, 1 - greedy, literals, int(route.method != "ANY"))


def receiver(all_claims: list[Claim], request: Route) -> Claim | None:
    candidates = [c for c in all_claims if _matches(c.route, request)]
    return max(candidates, key=lambda c: _specificity(c.route), default=None)


def _declared(config: Mapping[str, Any], key: str) -> set[Route]:
    entries = ((config.get("custom") or {}).get("migration") or {}).get(key) or []
    return {Route(*str(entry).split(" ", 1)) for entry in entries}


def route_report(monolith: list[MonolithRoute], config: Mapping[str, Any]) -> Report:
    report = Report()
    all_claims = claims(config)
    new_routes, retired = _declared(config, "new"), _declared(config, "retired")
    served = {(r.route.method, r.route.shape) for r in monolith}

    seen: dict[tuple[str, tuple[str, ...]], Claim] = {}
    for claim in all_claims:
        key = (claim.route.method, claim.route.shape)
        if claim.route.path != "$default" and key in seen and seen[key].function != claim.function:
            report.errors.append(
                f"{claim.route} is claimed by both {seen[key].function} and {claim.function}"
            )
        seen.setdefault(key, claim)

    peeled = pinned = shadow = writes = 0
    for item in monolith:
        claim = receiver(all_claims, item.route)
        if claim is None:
            owner, function = "LOST", "-"
            report.errors.append(f"{item.route} is served by the monolith but no route reaches it")
        elif claim.route.path == "$default":
            owner, function = "monolith", claim.function
            if not claim.pinned:
                report.errors.append(f"{item.route} falls to $default, owned by {claim.function}")
        elif claim.route.shape != item.route.shape or claim.route.method != item.route.method:
            owner, function = "SHADOWED", claim.function
            report.errors.append(
                f"{item.route} is shadowed by {claim.route} of {claim.function}, "
                "which was not written for it"
            )
        else:
            owner, function = claim.state, claim.function
            peeled += 1
            pinned += claim.state == "pinned"
            shadow += claim.state == "shadow"
            writes += claim.state == "new" and item.route.method not in ("GET", "HEAD")
            for converter in item.converters:
                if converter not in PLAIN_CONVERTERS and not (
                    converter == "path" and claim.route.path.endswith("+}")
                ):
                    report.errors.append(
                        f"{item.route}: Flask converter <{converter}:…> has no API Gateway "
                        f"equivalent in {claim.route} of {claim.function}"
                    )
        report.lines.append(f"{item.route.method:<7} {item.route.path:<44} {owner:<9} {function}")

    gone = 0
    for claim in all_claims:
        if claim.route.path == "$default":
            continue
        if (claim.route.method, claim.route.shape) in served:
            if claim.route in retired:
                report.errors.append(
                    f"{claim.route} is listed as retired but the monolith still serves it: "
                    "delete its view, or take it off custom.migration.retired"
                )
            continue
        if claim.route in new_routes or claim.route in retired:
            state = "new" if claim.route in new_routes else "retired"
            gone += state == "retired"
            report.lines.append(
                f"{claim.route.method:<7} {claim.route.path:<44} {state:<9} {claim.function}"
            )
            continue
        report.errors.append(
            f"{claim.route} of {claim.function} matches no monolith route and is not declared "
            "in custom.migration.new or custom.migration.retired"
        )

    # The API's routes: the monolith's, and those whose monolith view was retired.
    total = len(monolith) + gone
    counts = f"{peeled - pinned - shadow} new, {pinned} pinned" + (
        f", {shadow} shadow" if shadow else ""
    )
    report.lines.append(
        f"{peeled + gone} of {total} routes owned by dedicated functions ({counts}, {gone} "
        f"retired from the monolith), {len(monolith) - peeled} still on the monolith; "
        f"{writes} writes switched to new code"
    )
    return report


def stage_params(config: Mapping[str, Any], stage: str) -> dict[str, Any]:
    params = config.get("params") or {}
    return {**(params.get("default") or {}), **(params.get(stage) or {})}


def _deployment_type(config: Mapping[str, Any], name: str, function: Mapping[str, Any]) -> Any:
    """The deployment type osls packages: the entry's, or the one the plugin derives for a
    dedicated function (custom.dedicatedFunctions.deploymentSettings)."""
    explicit = (function.get("deploymentSettings") or {}).get("type")
    if explicit is not None:
        return explicit
    registry = registry_of({"functions": {name: function}})
    if registry.http_functions:
        derived = ((config.get("custom") or {}).get("dedicatedFunctions") or {}).get(
            "deploymentSettings"
        ) or {}
        return derived.get("type")
    return None


def budget_report(config: Mapping[str, Any], stage: str, connections_each: int) -> Report:
    """Reserved concurrency x connections per environment, x2 for functions whose
    deployment shifts traffic gradually (old and new versions are both warm), plus the
    migrate function, against the proxy's share of the instance's max_connections."""
    report = Report()
    params = stage_params(config, stage)
    without_db = _declared_names(config, "withoutDatabase")
    registry = registry_of(config)
    used = 0
    shares: list[tuple[int, str]] = []
    dedicated = {f.name for f in registry.http_functions}
    by_kind = {"monolith": 0, "dedicated": 0, "other": 0}
    for function in registry.functions:
        name = function.name
        if name in without_db:
            continue
        try:
            reserved = function.reserved_concurrency(stage, params)
        except ValueError as error:
            report.errors.append(f"[{stage}] {name}: {error}")
            continue
        if reserved is None:
            report.errors.append(
                f"[{stage}] {name} reaches the database without reserved concurrency "
                f"(give its entry `concurrency: {{default: N, {stage}: N}}`)"
            )
            continue
        deployment = resolve(_deployment_type(config, name, function.entry), params, stage)
        versions = 1 if deployment in (None, "AllAtOnce") else 2
        share = reserved * connections_each * versions
        used += share
        kind = "monolith" if name == MONOLITH else "dedicated" if name in dedicated else "other"
        by_kind[kind] += share
        shares.append(
            (share, f"{name} ({reserved} reserved{' x2 versions' if versions == 2 else ''})")
        )
    comparator = registry.shadow_settings.get("comparator") or {}
    for function in registry.shadowed:
        name = f"{function.name}'s comparator"
        concurrency = comparator.get("concurrency") or {}
        reserved = concurrency.get(stage, concurrency.get("default"))
        if reserved is None:
            report.errors.append(
                f"[{stage}] {name} has no reserved concurrency: give "
                "custom.dedicatedFunctions.shadow.comparator a `concurrency`"
            )
            continue
        each = int(comparator.get("connections", 1)) * connections_each
        share = int(resolve(reserved, params, stage)) * each
        used += share
        by_kind["comparators"] = by_kind.get("comparators", 0) + share
        shares.append((share, f"{name} ({reserved} reserved x{each} connections)"))
    allowed = int(params["dbMaxConnections"]) * int(params["proxyMaxConnectionsPercent"]) // 100
    line = f"[{stage}] connections: {used} of {allowed} the proxy may open"
    report.lines.append(
        f"{line} (monolith {by_kind['monolith']}, {len(dedicated)} dedicated functions "
        f"{by_kind['dedicated']}, shadow comparators {by_kind.get('comparators', 0)}, "
        f"other functions {by_kind['other']})"
    )
    if used >= allowed:
        over = used - allowed + 1
        largest = ", ".join(label for _, label in sorted(shares, reverse=True)[:3])
        report.errors.append(
            f"{line}: over budget; free {over} connection(s) in {stage}: lower the "
            f"reservations (largest: {largest}) or raise dbMaxConnections / "
            "proxyMaxConnectionsPercent"
        )
    return report


def _declared_names(config: Mapping[str, Any], key: str) -> set[str]:
    return set(((config.get("custom") or {}).get("migration") or {}).get(key) or [])


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def forbidden_import(module: str, root: Path) -> str | None:
    """The chain by which `module` imports Flask, Werkzeug or the monolith, following the
    project's own modules (any import, even one inside a function); None when it never
    does."""
    seen: set[str] = set()
    stack: list[tuple[str, tuple[str, ...]]] = [(module, (module,))]
    while stack:
        current, chain = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        base = root / current.replace(".", "/")
        path = (
            base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
        )
        if not path.is_file():
            continue
        for imported in sorted(_imports(path)):
            top = imported.split(".")[0]
            if top in FORBIDDEN_IMPORTS:
                return " -> ".join((*chain, imported))
            if top == "app":
                stack.append((imported, (*chain, imported)))
    return None


def parity_covered(root: Path) -> set[str]:
    """Handler modules that have parity cases in tests/functional/parity/ (or the read
    functions' happy paths in tests/support/parity.py): the first argument of every
    `Case("<module>", ...)` and the keys of HAPPY_PATHS."""
    covered: set[str] = set()
    paths = sorted((root / "tests" / "functional" / "parity").glob("*.py"))
    shared = root / "tests" / "support" / "parity.py"
    for path in [*paths, shared] if shared.is_file() else paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("Case", "WriteCase")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                covered.add(str(node.args[0].value))
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Dict)
                and any(isinstance(t, ast.Name) and t.id == "HAPPY_PATHS" for t in node.targets)
            ):
                covered.update(str(k.value) for k in node.value.keys if isinstance(k, ast.Constant))
    return covered


def _hook_statement_sids(config: Mapping[str, Any], hook: str) -> set[str]:
    entry = (config.get("functions") or {}).get(hook) or {}
    role = ((config.get("resources") or {}).get("Resources") or {}).get(entry.get("role"), {})
    sids = set()
    for policy in (role.get("Properties") or {}).get("Policies") or []:
        for statement in (policy.get("PolicyDocument") or {}).get("Statement") or []:
            if isinstance(statement, dict) and "Sid" in statement:
                sids.add(statement["Sid"])
    return sids


def wiring_report(registry: Registry, root: Path = ROOT) -> Report:
    """What would fail a dedicated function's deployment, found before it is deployed."""
    report = Report()
    config = registry.config
    derived = ((config.get("custom") or {}).get("dedicatedFunctions") or {}).get(
        "deploymentSettings"
    ) or {}
    manifest = registry.manifest()
    covered = parity_covered(root)
    for function in registry.http_functions:
        name = function.name
        try:
            checks = function_checks(manifest[name])
        except (KeyError, ValueError) as error:
            report.errors.append(f"{name}: its smoke checks cannot be built: {error}")
            checks = ()
        if not checks:
            report.errors.append(
                f"{name}: no smoke checks: nothing can be derived from {function.route} "
                "(a path parameter with no never-existing value); add `smoke:` to its entry"
            )
        deployment = function.entry.get("deploymentSettings") or derived
        for hook, sid in (("preTrafficHook", "InvokeTestedVersions"),
                          ("postTrafficHook", "InvokeTestedAliases")):  # fmt: skip
            hook_name = deployment.get(hook)
            if not hook_name:
                report.errors.append(
                    f"{name}: its deploymentSettings name no {hook}: CodeDeploy would shift "
                    "traffic to it untested"
                )
            elif sid not in _hook_statement_sids(config, str(hook_name)):
                report.errors.append(
                    f"{name}: the {hook} {hook_name} may not invoke it: its role has no "
                    f"statement with Sid {sid} for the plugin to extend"
                )
        for module in filter(None, (function.module, function.shadow_module)):
            path = root / (module.replace(".", "/") + ".py")
            if not path.is_file():
                report.errors.append(f"{name}: its handler module {module} does not exist")
                continue
            chain = forbidden_import(module, root)
            if chain:
                report.errors.append(f"{name}: its handler imports the monolith's stack: {chain}")
            if SCAFFOLD_MARKER in path.read_text(encoding="utf-8"):
                report.errors.append(
                    f"{name}: {path.relative_to(root)} still has the scaffold's placeholder: "
                    "write the service call"
                )
        if function.entry.get("shadow"):
            if function.handler != MONOLITH_HANDLER or len(function.routes) != 1:
                report.errors.append(
                    f"{name}: a shadow belongs to a pinned function with one route "
                    f"(handler {MONOLITH_HANDLER})"
                )
            elif not function.route.is_read:
                report.errors.append(
                    f"{name}: {function.route} is a write: writes are never shadowed"
                )
        if function.state is not State.PINNED and function.module_name:
            step = "switched to new code" if function.state is State.NEW else "in shadow"
            # A retired route has no monolith code left to compare with.
            if function.module_name not in covered and not set(function.routes) <= set(
                registry.declared("retired")
            ):
                report.errors.append(
                    f"{name}: {step} but has no parity cases in tests/functional/parity/ "
                    f"(Case({function.module_name!r}, ...))"
                )
            event = root / "tests" / "support" / "events" / f"{function.module_name}.json"
            if not event.is_file():
                report.errors.append(
                    f"{name}: {step} but has no sample event {event.relative_to(root)}"
                )
    return report


def run(app: Any, config: Mapping[str, Any], stages: Iterable[str], root: Path = ROOT) -> Report:
    from app.platform.db import SINGLE_CONNECTION_POOL

    per_environment = SINGLE_CONNECTION_POOL["pool_size"] + SINGLE_CONNECTION_POOL["max_overflow"]
    report = route_report(flask_routes(app), config)
    wiring = wiring_report(registry_of(config), root)
    report.errors += wiring.errors
    for stage in stages:
        budget = budget_report(config, stage, per_environment)
        report.lines += budget.lines
        report.errors += budget.errors
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serverless", type=Path, default=ROOT / "serverless.yml")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout the entries name")
    parser.add_argument("--stage", action="append", dest="stages")
    args = parser.parse_args(argv)

    from legacy import create_app

    app = create_app({"APP_ENV": "test", "DATABASE_URL": "sqlite://"})
    report = run(app, load_serverless(args.serverless), args.stages or DEPLOYED_STAGES, args.root)
    print("\n".join(report.lines))
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
