"""Lambda `listTags`: GET /api/tags, the tags in use. Anonymous; no token is read."""

from __future__ import annotations

from typing import Any

from app import init_finished
from app.core.services import tags
from app.platform.lambda_http import Answer, Request, Route, Runtime, serve

ROUTE = Route("GET /api/tags")
runtime = Runtime.from_env(reads_only=True)
init_finished()


def list_tags(_request: Request) -> Answer:
    with runtime.reads() as connection:
        return Answer(tags.list_tags(connection))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event, context, ROUTE, list_tags)
