"""Sample API Gateway HTTP API (payload 2.0) events for the dedicated functions.

One JSON file per variant, named for what it is (`get_article.json`, `feed.json`, ...),
each shaped as API Gateway sends it to a function on its own route (`routeKey`
"GET /api/articles/{slug}", not `$default`). `load_event()` is the one way to read them.

Nothing here imports the app, Flask or Werkzeug: the no-Flask checks load events too.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

EVENTS_DIR = Path(__file__).resolve().parent


def event_names() -> list[str]:
    return sorted(path.stem for path in EVENTS_DIR.glob("*.json"))


@cache
def _read(name: str) -> dict[str, Any]:
    path = EVENTS_DIR / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no sample event {name!r}; there are: {', '.join(event_names())}")
    event: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return event


def load_event(name: str, **overrides: Any) -> dict[str, Any]:
    """A fresh copy of the sample event `name`, with top-level keys replaced.

    What API Gateway derives from a key follows it, so an event stays self-consistent:
    - `rawPath`: `requestContext.http.path` (decoded) and `pathParameters`, matched
      against the event's route;
    - `rawQueryString` (as sent on the wire): `queryStringParameters` (decoded, repeated
      keys joined with commas; left out when there is no query);
    - `headers` are merged into the sample's (names lower-cased); a None value removes one.
    """
    event = copy.deepcopy(_read(name))
    headers = overrides.pop("headers", None)
    for key, value in overrides.items():
        event[key] = value
    if headers is not None:
        merged = dict(event.get("headers") or {})
        for header, value in headers.items():
            merged.pop(header.lower(), None)
            if value is not None:
                merged[header.lower()] = value
        event["headers"] = merged
    if "rawPath" in overrides:
        event["requestContext"]["http"]["path"] = unquote(event["rawPath"])
        parameters = _path_parameters(event["routeKey"], event["requestContext"]["http"]["path"])
        event.pop("pathParameters", None)
        if parameters:
            event["pathParameters"] = parameters
    if "rawQueryString" in overrides:
        event.pop("queryStringParameters", None)
        joined: dict[str, str] = {}
        for key, value in parse_qsl(event["rawQueryString"], keep_blank_values=True):
            joined[key] = f"{joined[key]},{value}" if key in joined else value
        if joined:
            event["queryStringParameters"] = joined
    return event


def _path_parameters(route_key: str, path: str) -> dict[str, str]:
    """`{name}` segments of the route ("GET /api/articles/{slug}") as found in `path`."""
    template = route_key.partition(" ")[2]
    found: dict[str, str] = {}
    for pattern, value in zip(
        template.strip("/").split("/"), path.strip("/").split("/"), strict=False
    ):
        if pattern.startswith("{") and pattern.endswith("}"):
            found[pattern[1:-1]] = value
    return found
