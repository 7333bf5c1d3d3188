"""Lambda `getCurrentUser` (new code): GET /api/user, the caller's own account. A token is
required; the answer carries it back, as the monolith's does."""

from __future__ import annotations

from typing import Any

from app import init_finished
from app.core import shapes
from app.core.services._common import account_by_id
from app.platform.lambda_http import Answer, Request, Route, Runtime, serve

ROUTE = Route("GET /api/user")
runtime = Runtime.from_env()
init_finished()


def get_current_user(request: Request) -> Answer:
    token = runtime.caller_token(request)
    user_id = runtime.tokens.verify(token)
    with runtime.reads() as connection:
        return Answer({"user": shapes.user(account_by_id(connection, user_id), token)})


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event, context, ROUTE, get_current_user)
