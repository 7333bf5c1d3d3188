"""Lambda `updateUser`: PUT /api/user, the caller's account (a new password is
hashed with the monolith's Argon2id costs); answers the user with the token it was sent."""

from __future__ import annotations

from typing import Any

from app import init_finished
from app.core import validation
from app.core.services import users
from app.platform.lambda_http import Answer, Request, Route, Runtime, json_body, serve

ROUTE = Route("PUT /api/user")
runtime = Runtime.from_env()
init_finished()


def update_user(request: Request) -> Answer:
    with runtime.writes(request.authorization) as (connection, caller):
        changes = validation.parse_user_update(json_body(request))
        return Answer(
            users.update_user(connection, runtime.passwords, caller.user_id, caller.token, changes)
        )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event, context, ROUTE, update_user)
