"""Lambda `addComment`: POST /api/articles/{slug}/comments, a comment by the caller;
answers it with 200 (the spec's one create that is not a 201). A token is required."""

from __future__ import annotations

from typing import Any

from app import init_finished
from app.core import validation
from app.core.services import comments
from app.platform.lambda_http import Answer, Request, Route, Runtime, json_body, serve

ROUTE = Route("POST /api/articles/{slug}/comments")
runtime = Runtime.from_env()
init_finished()


def add_comment(request: Request) -> Answer:
    with runtime.writes(request.authorization) as (connection, caller):
        body = validation.parse_new_comment(json_body(request))
        return Answer(comments.add_comment(connection, request.path["slug"], caller.user_id, body))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event, context, ROUTE, add_comment)
