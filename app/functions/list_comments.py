"""Lambda `listComments`: GET /api/articles/{slug}/comments, oldest first. A token is
optional: it sets `following` on each comment's author."""

from __future__ import annotations

from typing import Any

from app import init_finished
from app.core.services import comments
from app.platform.lambda_http import Answer, Request, Route, Runtime, serve

ROUTE = Route("GET /api/articles/{slug}/comments")
runtime = Runtime.from_env(reads_only=True)
init_finished()


def list_comments(request: Request) -> Answer:
    with runtime.reads() as connection:
        viewer = runtime.viewer_id(request.authorization, connection)
        return Answer(comments.list_comments(connection, request.path["slug"], viewer))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event, context, ROUTE, list_comments)
