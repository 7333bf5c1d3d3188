"""Who serves each route of the Conduit API: the monolith, a pinned function, or new code.

Reads the monolith's routes from Flask's url_map and the deployed routes from
serverless.yml, resolves every monolith route the way API Gateway (HTTP API) would,
prints one line per method + path with its owner, and checks the migration's rules:

- every route the monolith serves still reaches code that serves it (not lost when the
  catch-all is gone, not shadowed by a dedicated function's broader route);
- a function's route matches a monolith route, or is declared in custom.migration
  (`new`: never existed in the monolith; `retired`: its monolith view was removed);
- no two functions claim one route;
- a Flask path converter has an API Gateway equivalent wherever a function took over;
- per stage, the connections the functions may open stay within the proxy's budget.

Exit status 0 when every rule holds, 1 otherwise. Usage:
    python scripts/migration_status.py [--serverless serverless.yml] [--stage prod ...]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MONOLITH_HANDLER = "wsgi_handler.handler"
DEPLOYED_STAGES = ("dev", "staging", "prod")
# Flask converters whose values API Gateway can capture as they are. Anything else
# (int, float, uuid, any, custom) would let values through that Flask rejects.
PLAIN_CONVERTERS = {"default", "string"}
_FLASK_PARAM = re.compile(r"<(?:(?P<converter>[a-zA-Z_][\w]*)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_VARIABLE = re.compile(r"\$\{(param|sls):([\w]+)\}")


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

    @property
    def pinned(self) -> bool:
        return self.handler == MONOLITH_HANDLER


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
                found.append(Claim(name, route, str(function.get("handler", ""))))
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

    peeled = pinned = 0
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
            owner, function = ("pinned" if claim.pinned else "new"), claim.function
            peeled += 1
            pinned += claim.pinned
            for converter in item.converters:
                if converter not in PLAIN_CONVERTERS and not (
                    converter == "path" and claim.route.path.endswith("+}")
                ):
                    report.errors.append(
                        f"{item.route}: Flask converter <{converter}:…> has no API Gateway "
                        f"equivalent in {claim.route} of {claim.function}"
                    )
        report.lines.append(f"{item.route.method:<7} {item.route.path:<44} {owner:<9} {function}")

    for claim in all_claims:
        if claim.route.path == "$default":
            continue
        if (claim.route.method, claim.route.shape) in served:
            continue
        if claim.route in new_routes or claim.route in retired:
            state = "new" if claim.route in new_routes else "retired"
            report.lines.append(
                f"{claim.route.method:<7} {claim.route.path:<44} {state:<9} {claim.function}"
            )
            continue
        report.errors.append(
            f"{claim.route} of {claim.function} matches no monolith route and is not declared "
            "in custom.migration.new or custom.migration.retired"
        )

    total = len(monolith)
    report.lines.append(
        f"{peeled} of {total} monolith routes peeled ({peeled - pinned} new, {pinned} pinned), "
        f"{total - peeled} still on the monolith"
    )
    return report


def _resolve(value: Any, params: Mapping[str, Any], stage: str) -> Any:
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match[str]) -> str:
        kind, name = match.groups()
        if kind == "sls":
            return stage
        if name not in params:
            raise KeyError(f"param {name!r} is not defined for stage {stage}")
        return str(params[name])

    whole = _VARIABLE.fullmatch(value)
    if whole and whole.group(1) == "param":
        return params[whole.group(2)] if whole.group(2) in params else lookup(whole)
    return _VARIABLE.sub(lookup, value)


def stage_params(config: Mapping[str, Any], stage: str) -> dict[str, Any]:
    params = config.get("params") or {}
    return {**(params.get("default") or {}), **(params.get(stage) or {})}


def budget_report(config: Mapping[str, Any], stage: str, connections_each: int) -> Report:
    """Reserved concurrency x connections per environment, x2 for functions whose
    deployment shifts traffic gradually (old and new versions are both warm), plus the
    migrate function, against the proxy's share of the instance's max_connections."""
    report = Report()
    params = stage_params(config, stage)
    without_db = _declared_names(config, "withoutDatabase")
    used = 0
    for name, function in (config.get("functions") or {}).items():
        if name in without_db:
            continue
        reserved = _resolve(function.get("reservedConcurrency"), params, stage)
        if reserved is None:
            report.errors.append(
                f"[{stage}] {name} reaches the database without reservedConcurrency"
            )
            continue
        deployment = _resolve((function.get("deploymentSettings") or {}).get("type"), params, stage)
        versions = 1 if deployment in (None, "AllAtOnce") else 2
        used += int(reserved) * connections_each * versions
    allowed = int(params["dbMaxConnections"]) * int(params["proxyMaxConnectionsPercent"]) // 100
    line = f"[{stage}] connections: {used} of {allowed} the proxy may open"
    report.lines.append(line)
    if used >= allowed:
        report.errors.append(f"{line}: over budget")
    return report


def _declared_names(config: Mapping[str, Any], key: str) -> set[str]:
    return set(((config.get("custom") or {}).get("migration") or {}).get(key) or [])


class _Loader(yaml.SafeLoader):
    """serverless.yml with its CloudFormation tags (!Ref, !GetAtt, !Sub, …) kept as data."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node)}
    return {suffix: loader.construct_mapping(node)}  # type: ignore[arg-type]


_Loader.add_multi_constructor("!", _any_tag)


def load_serverless(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_Loader)  # type: ignore[no-any-return]  # noqa: S506


def run(app: Any, config: Mapping[str, Any], stages: Iterable[str]) -> Report:
    from app.platform.db import SINGLE_CONNECTION_POOL

    per_environment = SINGLE_CONNECTION_POOL["pool_size"] + SINGLE_CONNECTION_POOL["max_overflow"]
    report = route_report(flask_routes(app), config)
    for stage in stages:
        budget = budget_report(config, stage, per_environment)
        report.lines += budget.lines
        report.errors += budget.errors
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serverless", type=Path, default=ROOT / "serverless.yml")
    parser.add_argument("--stage", action="append", dest="stages")
    args = parser.parse_args(argv)

    from legacy import create_app

    app = create_app({"APP_ENV": "test", "DATABASE_URL": "sqlite://"})
    report = run(app, load_serverless(args.serverless), args.stages or DEPLOYED_STAGES)
    print("\n".join(report.lines))
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
