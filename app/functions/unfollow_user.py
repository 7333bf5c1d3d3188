"""Lambda `unfollowUser`: DELETE /api/profiles/{username}/follow, the caller stops following
a user (idempotent); answers the profile. A token is required."""

from __future__ import annotations

from typing import Any

from app import init_finished
from app.core.services import profiles
from app.platform.lambda_http import Answer, Request, Route, Runtime, serve

ROUTE = Route("DELETE /api/profiles/{username}/follow")
runtime = Runtime.from_env()
init_finished()


def unfollow_user(request: Request) -> Answer:
    with runtime.writes(request.authorization) as (connection, caller):
        return Answer(profiles.unfollow(connection, request.path["username"], caller.user_id))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event, context, ROUTE, unfollow_user)
