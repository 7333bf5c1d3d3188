"""Lambda `getCurrentUser` (new code): GET /api/user, the caller's own account. A token is
required; the answer carries it back, as the monolith's does."""

from __future__ import annotations

from typing import Any

from app import init_finished
from app.core.services import users
from app.platform.lambda_http import Answer, Request, Route, Runtime, serve

ROUTE = Route("GET /api/user")
runtime = Runtime.from_env(reads_only=True)
init_finished()


def get_current_user(request: Request) -> Answer:
    caller = runtime.required(request.authorization)
    with runtime.reads() as connection:
        return Answer(users.current_user(connection, caller.user_id, caller.token))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event, context, ROUTE, get_current_user)
