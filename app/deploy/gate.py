"""The switch gate: what the pre-traffic hook demands before `Live` moves from the
monolith's code to a route's new code (README, "Cutting a route over", step 3).

A switch is a deployment whose current version runs the monolith's code (serverless-wsgi,
or the shadow wrapper around it) and whose target runs a handler of its own. Then, before
any traffic moves, both must hold:

1. The shadow record: over the stage's window, the route's comparator (the shadow step)
   compared at least `minComparisons` reads and saw no mismatch that persisted. A route
   never shadowed in the window passes only where the stage allows it (`withoutShadow`).
2. Parity on live data: a few real slugs and usernames are read through the current
   version (a page of articles), the route's requests are built from them, and the
   current and target versions must give each the same answer (app/deploy/parity.py;
   a first difference is checked once more, as the comparator does).

Settings come from SHADOW_GATE (JSON, written by scripts/serverless-dedicated-functions.js
from custom.dedicatedFunctions.shadow.gate): namespace, windowMinutes, minComparisons,
withoutShadow. The clients are passed in; nothing here imports the web stack.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from app.deploy.events import path_parameters
from app.deploy.parity import Difference, answer_of, differences
from app.deploy.smoke import NEVER_EXISTS, smoke_event, stamped
from app.platform.observability import logger

GATE_VARIABLE = "SHADOW_GATE"
# The handlers that run the monolith's code: serverless-wsgi's, and the shadow wrapper
# around it (custom.dedicatedFunctions.shadow.handler in serverless.yml).
MONOLITH_HANDLERS = frozenset({"wsgi_handler.handler", "app/deploy/shadow.handler"})
COMPARED = "ShadowComparisons"
MISMATCHED = "ShadowMismatches"
# Live values to build the parity requests from, and how many requests at most: each
# costs two invocations (four when the first answers differ) of the hook's time.
DISCOVERY_PAGE = 5
PARITY_REQUESTS = 3


class SwitchRefused(Exception):
    """The switch must not go on; the message says why."""


@dataclass(frozen=True)
class GateSettings:
    namespace: str
    window_minutes: int
    min_comparisons: int
    without_shadow: bool

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> GateSettings:
        raw = environ.get(GATE_VARIABLE)
        if not raw:
            raise SwitchRefused(f"{GATE_VARIABLE} is not set: the switch cannot be gated")
        try:
            value = json.loads(raw)
            return cls(
                namespace=str(value["namespace"]),
                window_minutes=int(value["windowMinutes"]),
                min_comparisons=int(value["minComparisons"]),
                without_shadow=_flag(value["withoutShadow"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise SwitchRefused(f"{GATE_VARIABLE} is malformed: {error!r}") from None


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise ValueError(f"not a boolean: {value!r}")


@dataclass(frozen=True)
class ShadowRecord:
    compared: int
    mismatched: int


def is_switch(lambda_client: Any, function_name: str, current: str, target: str) -> bool:
    """Whether `current` runs the monolith's code and `target` does not."""
    handlers = []
    for qualifier in (current, target):
        try:
            answer = lambda_client.get_function_configuration(
                FunctionName=function_name, Qualifier=qualifier
            )
        except (ClientError, BotoCoreError) as error:
            raise SwitchRefused(
                f"could not read the configuration of {function_name}:{qualifier}: {error}"
            ) from error
        handlers.append(str(answer.get("Handler", "")))
    return handlers[0] in MONOLITH_HANDLERS and handlers[1] not in MONOLITH_HANDLERS


def shadow_record(
    cloudwatch: Any, settings: GateSettings, route: str, now: datetime | None = None
) -> ShadowRecord:
    """The route's comparisons and persisting mismatches over the window."""
    # Up to the end of the current minute, so that a sample published seconds ago counts.
    end = (now or datetime.now(UTC)) + timedelta(minutes=1)
    start = end - timedelta(minutes=settings.window_minutes)
    totals = {}
    for metric in (COMPARED, MISMATCHED):
        try:
            answer = cloudwatch.get_metric_statistics(
                Namespace=settings.namespace,
                MetricName=metric,
                Dimensions=[{"Name": "route", "Value": route}],
                StartTime=start,
                EndTime=end,
                Period=settings.window_minutes * 60,
                Statistics=["Sum"],
            )
        except (ClientError, BotoCoreError) as error:
            raise SwitchRefused(f"could not read {metric} of {route}: {error}") from error
        totals[metric] = int(sum(point.get("Sum", 0) for point in answer.get("Datapoints", [])))
    return ShadowRecord(compared=totals[COMPARED], mismatched=totals[MISMATCHED])


def check_record(record: ShadowRecord, settings: GateSettings, route: str) -> None:
    window = f"the last {settings.window_minutes} min"
    if record.mismatched:
        raise SwitchRefused(
            f"{route}: its shadow saw {record.mismatched} mismatch(es) in {window} "
            f"({record.compared} compared): find them with the Logs Insights query in the "
            "README, fix the new code, shadow again"
        )
    if record.compared == 0 and settings.without_shadow:
        logger.warning("switch without shadow history, allowed in this stage", route=route)
        return
    if record.compared < settings.min_comparisons:
        raise SwitchRefused(
            f"{route}: its shadow compared {record.compared} read(s) in {window}, fewer than "
            f"the {settings.min_comparisons} required: keep it in shadow longer"
        )


# --- parity on live data --------------------------------------------------------------


Invoke = Callable[[str, Mapping[str, Any]], Any]


def invoker(lambda_client: Any, function_name: str) -> Invoke:
    """Invoke `function_name:<qualifier>` with an HTTP event; its decoded answer."""

    def invoke(qualifier: str, event: Mapping[str, Any]) -> Any:
        where = f"{function_name}:{qualifier}"
        try:
            response = lambda_client.invoke(
                FunctionName=function_name,
                Qualifier=qualifier,
                InvocationType="RequestResponse",
                Payload=json.dumps(stamped(event)).encode(),
            )
            raw = response["Payload"].read()
        except (ClientError, BotoCoreError) as error:
            raise SwitchRefused(f"parity: invoking {where} failed: {error}") from error
        if response.get("FunctionError"):
            raise SwitchRefused(f"parity: {where} failed with {response['FunctionError']}")
        if response.get("ExecutedVersion") not in (None, qualifier):
            raise SwitchRefused(
                f"parity: version {response.get('ExecutedVersion')!r} answered for {where}"
            )
        try:
            return json.loads(raw)
        except ValueError:
            raise SwitchRefused(f"parity: {where} answered no JSON payload") from None

    return invoke


def live_values(invoke: Invoke, current: str) -> dict[str, list[str]]:
    """Real slugs and usernames, read through the current version (the monolith's code
    answers any of its routes, whatever route it is pinned to)."""
    answer = answer_of(
        invoke(current, smoke_event("GET", "/api/articles", query=f"limit={DISCOVERY_PAGE}"))
    )
    articles = answer.body.get("articles") if isinstance(answer.body, dict) else None
    values: dict[str, list[str]] = {"slug": [], "username": []}
    for article in articles if isinstance(articles, list) else []:
        if not isinstance(article, dict):
            continue
        slug, author = article.get("slug"), (article.get("author") or {}).get("username")
        for key, value in (("slug", slug), ("username", author)):
            if isinstance(value, str) and value not in values[key]:
                values[key].append(value)
    return values


def parity_paths(route: str, values: Mapping[str, list[str]]) -> list[str]:
    """Concrete paths of `route` ("GET /api/profiles/{username}") built from live values;
    a parameter with none is given its never-existing value (the answer is then a 404)."""
    path = route.partition(" ")[2]
    names = [segment[1:-1] for segment in path.split("/") if segment.startswith("{")]
    if not names:
        return [path]
    found = []
    for index in range(PARITY_REQUESTS):
        concrete = path
        for name in names:
            pool = list(values.get(name) or ()) or [NEVER_EXISTS.get(name, "0")]
            concrete = concrete.replace("{" + name + "}", pool[index % len(pool)])
        if concrete not in found:
            found.append(concrete)
    return found


def check_parity(
    invoke: Invoke,
    route: str,
    current: str,
    target: str,
    has_time: Callable[[], bool] = lambda: True,
) -> int:
    """Each live request, sent to both versions, answered alike; the number compared."""
    method, _, route_path = route.partition(" ")
    values = live_values(invoke, current)
    compared = 0
    for path in parity_paths(route, values):
        if not has_time():
            raise SwitchRefused(f"parity: out of time before {path}: raise the hook's timeout")
        path_parameters(route_path, path)  # ValueError if the path left the route
        event = smoke_event(method, path, route=route_path)
        found = _differ(invoke, event, current, target)
        if found:
            found = _differ(invoke, event, current, target)
        if found:
            shown = "; ".join(f"{d.path}: {d.expected!r} -> {d.actual!r}" for d in found[:5])
            raise SwitchRefused(
                f"{route}: version {target} answers {method} {path} differently from "
                f"version {current}: {shown}"
            )
        compared += 1
    return compared


def _differ(
    invoke: Invoke, event: Mapping[str, Any], current: str, target: str
) -> list[Difference]:
    return differences(answer_of(invoke(current, event)), answer_of(invoke(target, event)))
