"""Lambda `deleteComment`: DELETE /api/articles/{slug}/comments/{comment_id},
the caller's own comment; 204. A token is required. A comment id that is not a whole
number is a 404 before the token is read (app.platform.http.path_integer), as in the monolith."""

from __future__ import annotations

from typing import Any

from app import init_finished
from app.core.services import comments
from app.platform.http import path_integer
from app.platform.lambda_http import NO_CONTENT, Answer, Request, Route, Runtime, serve

ROUTE = Route("DELETE /api/articles/{slug}/comments/{comment_id}")
runtime = Runtime.from_env()
init_finished()


def delete_comment(request: Request) -> Answer:
    comment_id = path_integer(request.path["comment_id"])
    with runtime.writes(request.authorization) as (connection, caller):
        comments.delete_comment(connection, request.path["slug"], comment_id, caller.user_id)
    return NO_CONTENT


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event, context, ROUTE, delete_comment)
