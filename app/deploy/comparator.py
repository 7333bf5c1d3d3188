"""Lambda `<name>Comparator`: holds a shadowed route's new code against the monolith.

A pinned function in shadow state (app/deploy/shadow.py) hands it, asynchronously, a
sampled read and the answer the monolith gave: `{"event": ..., "answer": ...}`. The
comparator runs the new handler on the same event, against the same database, and
compares the two answers (app/deploy/parity.py).

A value can change between the two reads (a bio updated in between, a new follower), so
a first disagreement is not yet a mismatch: the comparator then runs both the monolith
and the new code again and compares those two. Only a disagreement that persists counts,
and paths where the monolith disagreed with itself are left out as non-deterministic.

Per comparison it prints one CloudWatch embedded-metric (EMF) line in the namespace
SHADOW_METRICS_NAMESPACE with the dimension `route`: ShadowComparisons (1),
ShadowMismatches (0 or 1) and ShadowSettled (1 when a first disagreement did not
persist). Each mismatch is also one log line "shadow mismatch" with the route, the
differing JSON paths and redacted excerpts of both values. The request itself (its
token) is never logged.

Environment (set by scripts/serverless-dedicated-functions.js): SHADOW_HANDLER (the new
handler, `app/functions/<module>.handler`), SHADOW_ROUTE, SHADOW_METRICS_NAMESPACE; and
POWERTOOLS_METRICS_NAMESPACE of its own, so that the new handler's metrics (Requests,
ColdStart) are not counted as the route's traffic.

Connections: the new handler's runtime holds one pooled connection; the monolith, loaded
on the first disagreement only, holds its own. scripts/migration_status.py counts two per
comparator environment.
"""

from __future__ import annotations

import copy
import functools
import importlib
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.deploy.parity import Difference, answer_of, differences
from app.deploy.shadow import Handler, monolith
from app.platform.observability import bind_invocation, logger

COMPARED = "ShadowComparisons"
MISMATCHED = "ShadowMismatches"
SETTLED = "ShadowSettled"


@dataclass(frozen=True)
class Verdict:
    route: str
    mismatched: bool
    settled: bool  # the first comparison differed, the second agreed
    differences: tuple[Difference, ...] = field(default=())

    @property
    def paths(self) -> list[str]:
        return [difference.path for difference in self.differences]


def _run(handler: Handler, event: Mapping[str, Any], context: Any) -> Any:
    """The handler's answer to a copy of `event`; an exception becomes an answer with no
    status, which never agrees with a real one."""
    try:
        return handler(copy.deepcopy(dict(event)), context)
    except Exception as error:  # a crash of either side is a disagreement
        logger.warning("shadow: a handler raised", exc_info=True)
        return {"statusCode": None, "body": f"raised {type(error).__name__}"}


def compare(
    route: str,
    event: Mapping[str, Any],
    monolith_answer: Any,
    *,
    candidate: Handler,
    monolith: Handler,
    context: Any,
) -> Verdict:
    """Compare the new code's answer to `event` with the monolith's; twice if need be."""
    first = differences(answer_of(monolith_answer), answer_of(_run(candidate, event, context)))
    if not first:
        return Verdict(route, mismatched=False, settled=False)
    again = answer_of(_run(monolith, event, context))
    noise = {d.path for d in differences(answer_of(monolith_answer), again)}
    second = [
        d
        for d in differences(again, answer_of(_run(candidate, event, context)))
        if d.path not in noise
    ]
    if not second:
        return Verdict(route, mismatched=False, settled=True)
    return Verdict(route, mismatched=True, settled=False, differences=tuple(second))


def metric_line(verdict: Verdict, namespace: str, now_ms: int | None = None) -> dict[str, Any]:
    """The verdict as one CloudWatch embedded metric format document."""
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000) if now_ms is None else now_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [["route"]],
                    "Metrics": [
                        {"Name": COMPARED, "Unit": "Count"},
                        {"Name": MISMATCHED, "Unit": "Count"},
                        {"Name": SETTLED, "Unit": "Count"},
                    ],
                }
            ],
        },
        "route": verdict.route,
        COMPARED: 1,
        MISMATCHED: int(verdict.mismatched),
        SETTLED: int(verdict.settled),
    }


def publish(verdict: Verdict, namespace: str, emit: Callable[[str], None] = print) -> None:
    """The metric line (stdout: CloudWatch reads EMF from the function's log) and the log
    lines of one verdict."""
    emit(json.dumps(metric_line(verdict, namespace), separators=(",", ":")))
    if verdict.mismatched:
        logger.warning(
            "shadow mismatch",
            route=verdict.route,
            paths=verdict.paths,
            differences=[d.as_dict() for d in verdict.differences],
        )
    else:
        logger.info("shadow compared", route=verdict.route, settled=verdict.settled)


def load_handler(spec: str) -> Handler:
    """`app/functions/get_profile.handler` -> that module's `handler`."""
    module, _, attribute = spec.rpartition(".")
    if not module or not attribute:
        raise ValueError(f"not a handler: {spec!r} (expected 'path/to/module.function')")
    found = getattr(importlib.import_module(module.replace("/", ".")), attribute)
    if not callable(found):
        raise ValueError(f"{spec} is not callable")
    return found  # type: ignore[no-any-return]


@functools.cache
def candidate() -> Handler:
    return load_handler(os.environ["SHADOW_HANDLER"])


if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and os.environ.get("SHADOW_HANDLER"):
    # The new code is imported at init, as its own function would; the monolith is loaded
    # on the first disagreement only.
    candidate()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request, answer = event.get("event"), event.get("answer")
    if not isinstance(request, Mapping):
        raise ValueError("not a shadow hand-off: no `event`")
    bind_invocation(request, context)
    route = os.environ["SHADOW_ROUTE"]
    verdict = compare(
        route, request, answer, candidate=candidate(), monolith=monolith(), context=context
    )
    publish(verdict, os.environ.get("SHADOW_METRICS_NAMESPACE", "Conduit"))
    return {"route": route, "mismatched": verdict.mismatched, "paths": verdict.paths}
