"""The dedicated functions, read from their entries in serverless.yml: the one list of them.

A dedicated function is an entry under `functions:` with an HTTP API route of its own
(anything but the catch-all `*`). Its state in the cutover (README, "Cutting a route over"):

- pinned: its handler is still the monolith's (`wsgi_handler.handler`);
- shadow: pinned, and it also carries the new handler as its `shadow`;
- new: its handler is a module of its own under app/functions/.

The smoke checks, the tests, the bench and `make migration-status` find functions here;
nothing else keeps a list of them. The osls plugin scripts/serverless-dedicated-functions.js
reads the same entries to derive each function's role, logs, alarms and deployment.

PyYAML is imported on first use: the deployed hooks read their manifest from the
environment (app.deploy.smoke) and never load serverless.yml.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SERVERLESS_YML = ROOT / "serverless.yml"
MONOLITH_HANDLER = "wsgi_handler.handler"
MONOLITH = "monolith"
DEPLOYED_STAGES = ("dev", "staging", "prod")
# A function's logical name in serverless.yml: lowerCamelCase, as osls names resources.
FUNCTION_NAME = re.compile(r"^[a-z][a-zA-Z0-9]{1,47}$")
_VARIABLE = re.compile(r"\$\{(param|sls):([\w]+)\}")


class State(StrEnum):
    PINNED = "pinned"
    SHADOW = "shadow"
    NEW = "new"


@dataclass(frozen=True, order=True)
class Route:
    method: str  # "GET", ... or "ANY"
    path: str  # API Gateway syntax: /api/articles/{slug}; "$default" for the catch-all

    @classmethod
    def parse(cls, key: str) -> Route:
        """ "GET /api/tags" -> Route("GET", "/api/tags"); "*" -> the catch-all."""
        key = key.strip()
        if key in ("*", "$default"):
            return cls("ANY", "$default")
        method, _, path = key.partition(" ")
        method = method.upper()
        if not path.startswith("/"):
            raise ValueError(f"not a route: {key!r} (expected 'METHOD /path')")
        return cls("ANY" if method == "*" else method, path.strip())

    @property
    def key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    def __str__(self) -> str:
        return self.key

    @property
    def shape(self) -> tuple[str, ...]:
        """The path with parameter names erased: two routes with one shape collide."""
        return tuple(
            "{+}" if seg.endswith("+}") else "{}" if seg.startswith("{") else seg
            for seg in self.path.strip("/").split("/")
        )

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(
            seg.strip("{}+") for seg in self.path.strip("/").split("/") if seg.startswith("{")
        )

    @property
    def is_read(self) -> bool:
        return self.method in ("GET", "HEAD")


def _http_route(event: Any) -> Route | None:
    spec = event.get("httpApi") if isinstance(event, dict) else None
    if spec is None:
        return None
    if isinstance(spec, str):
        return Route.parse(spec)
    if isinstance(spec, dict):
        if spec.get("path") == "*":
            return Route("ANY", "$default")
        return Route.parse(f"{spec.get('method', 'ANY')} {spec['path']}")
    return None


def module_of(handler: str) -> str | None:
    """`app/functions/list_tags.handler` -> `app.functions.list_tags`; None for the monolith."""
    if not handler or handler == MONOLITH_HANDLER:
        return None
    module, _, _attribute = handler.rpartition(".")
    return module.replace("/", ".")


@dataclass(frozen=True)
class Function:
    """One entry under `functions:` in serverless.yml, as the migration sees it."""

    name: str
    handler: str
    routes: tuple[Route, ...]
    entry: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def module(self) -> str | None:
        """The dotted module of the new handler (None while pinned)."""
        return module_of(self.handler)

    @property
    def shadow_module(self) -> str | None:
        shadow = self.entry.get("shadow")
        return module_of(str(shadow)) if shadow else None

    @property
    def module_name(self) -> str | None:
        """The handler module's own name (`list_tags`): its sample event and parity cases
        are named after it. For a pinned function, its shadow's, if any."""
        module = self.module or self.shadow_module
        return module.rpartition(".")[2] if module else None

    @property
    def state(self) -> State:
        if self.module is not None:
            return State.NEW
        return State.SHADOW if self.shadow_module else State.PINNED

    @property
    def route(self) -> Route:
        return self.routes[0]

    @property
    def reads_only(self) -> bool:
        """Every route it serves is a read: its runtime is made reads-only
        (Runtime.from_env(reads_only=True))."""
        return all(route.is_read for route in self.routes)

    @property
    def uses(self) -> tuple[str, ...]:
        return tuple(self.entry.get("uses") or ())

    @property
    def smoke(self) -> tuple[Mapping[str, Any], ...]:
        """Checks this function adds to the ones derived from its routes."""
        return tuple(self.entry.get("smoke") or ())

    def reserved_concurrency(self, stage: str, params: Mapping[str, Any]) -> int | None:
        """What the plugin sets as reservedConcurrency in `stage`: `concurrency[stage]`,
        else `concurrency.default`; a plain `reservedConcurrency` otherwise."""
        concurrency = self.entry.get("concurrency")
        if isinstance(concurrency, Mapping):
            value = concurrency.get(stage, concurrency.get("default"))
            return None if value is None else int(resolve(value, params, stage))
        reserved = self.entry.get("reservedConcurrency")
        return None if reserved is None else int(resolve(reserved, params, stage))


@dataclass(frozen=True)
class Registry:
    config: Mapping[str, Any] = field(repr=False)
    functions: tuple[Function, ...]

    @cached_property
    def http_functions(self) -> tuple[Function, ...]:
        """The dedicated functions: every function with a route other than the catch-all."""
        return tuple(
            f for f in self.functions if f.routes and all(r.path != "$default" for r in f.routes)
        )

    def get(self, name: str) -> Function:
        for function in self.functions:
            if function.name == name:
                return function
        raise KeyError(f"no function {name!r} in serverless.yml")

    def by_module(self, module_name: str) -> Function:
        for function in self.http_functions:
            if function.module_name == module_name:
                return function
        raise KeyError(f"no dedicated function has the handler module {module_name!r}")

    @property
    def shadowed(self) -> tuple[Function, ...]:
        return tuple(f for f in self.http_functions if f.state is State.SHADOW)

    @property
    def shadow_settings(self) -> Mapping[str, Any]:
        """custom.dedicatedFunctions.shadow: what the plugin derives for a shadow."""
        dedicated = (self.config.get("custom") or {}).get("dedicatedFunctions") or {}
        return dedicated.get("shadow") or {}

    @property
    def switched(self) -> tuple[Function, ...]:
        return tuple(f for f in self.http_functions if f.state is State.NEW)

    def declared(self, key: str) -> tuple[Route, ...]:
        """custom.migration.<key> (`new`, `retired`): routes, as declared."""
        entries = ((self.config.get("custom") or {}).get("migration") or {}).get(key) or []
        return tuple(Route.parse(str(entry)) for entry in entries)

    def params(self, stage: str) -> dict[str, Any]:
        params = self.config.get("params") or {}
        return {**(params.get("default") or {}), **(params.get(stage) or {})}

    def owner(self, method: str, path: str) -> Function | None:
        """The dedicated function API Gateway hands `method path` to (a concrete path),
        or None when it falls to the monolith's catch-all."""
        request = Route(method.upper(), path)
        best: tuple[tuple[int, int], Function] | None = None
        for function in self.http_functions:
            for route in function.routes:
                if route.method not in ("ANY", request.method) or not _fits(route, path):
                    continue
                rank = (sum(1 for s in route.shape if not s.startswith("{")), route.method != "ANY")
                if best is None or rank > best[0]:
                    best = (rank, function)
        return best[1] if best else None

    def manifest(self) -> dict[str, dict[str, Any]]:
        """What the deployed CodeDeploy hooks need of each function they test: its routes,
        extra smoke checks, which code it runs and the features it uses (the plugin puts
        the same in their DEDICATED_FUNCTIONS)."""
        found: dict[str, dict[str, Any]] = {}
        for function in self.functions:
            tested = (function.entry.get("deploymentSettings") or {}).get("preTrafficHook")
            if function in self.http_functions or (function.routes and tested):
                found[function.name] = {
                    "routes": [route.key for route in function.routes],
                    "smoke": [dict(check) for check in function.smoke],
                    # A switch is a deployment from monolith code to new code.
                    "code": "new" if function.module is not None else "monolith",
                }
                if function.uses:  # what its smoke checks must exercise
                    found[function.name]["uses"] = list(function.uses)
        return found


def _fits(route: Route, path: str) -> bool:
    pattern, actual = route.path.strip("/").split("/"), path.strip("/").split("/")
    if len(pattern) != len(actual):
        return False
    return all(p.startswith("{") or p == a for p, a in zip(pattern, actual, strict=True))


def resolve(value: Any, params: Mapping[str, Any], stage: str) -> Any:
    """`${param:x}` and `${sls:stage}` in `value`, as osls resolves them for `stage`.
    A param the stage does not define is a ValueError naming it."""
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match[str]) -> str:
        kind, name = match.groups()
        if kind == "sls":
            return stage
        if name not in params:
            raise ValueError(f"param {name!r} is not defined for stage {stage}")
        return str(params[name])

    whole = _VARIABLE.fullmatch(value)
    if whole and whole.group(1) == "param":
        if whole.group(2) not in params:
            lookup(whole)
        return params[whole.group(2)]
    return _VARIABLE.sub(lookup, value)


def load_serverless(path: Path = SERVERLESS_YML) -> dict[str, Any]:
    """serverless.yml with its CloudFormation tags (!Ref, !GetAtt, !Sub, ...) kept as data."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return {suffix: loader.construct_scalar(node)}
        if isinstance(node, yaml.SequenceNode):
            return {suffix: loader.construct_sequence(node)}
        return {suffix: loader.construct_mapping(node)}  # type: ignore[arg-type]

    Loader.add_multi_constructor("!", any_tag)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)  # type: ignore[no-any-return]  # noqa: S506


def registry_of(config: Mapping[str, Any]) -> Registry:
    functions = []
    for name, entry in (config.get("functions") or {}).items():
        entry = entry or {}
        routes = tuple(
            route for route in map(_http_route, entry.get("events") or []) if route is not None
        )
        functions.append(Function(str(name), str(entry.get("handler", "")), routes, entry))
    return Registry(config, tuple(functions))


def load_registry(path: Path = SERVERLESS_YML) -> Registry:
    return registry_of(load_serverless(path))
