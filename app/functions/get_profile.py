"""Lambda `getProfile`: GET /api/profiles/{username}. A token is optional: it sets
`following` for the viewer."""

from __future__ import annotations

from typing import Any

from app import init_finished
from app.core.services import profiles
from app.platform.lambda_http import Answer, Request, Route, Runtime, serve

ROUTE = Route("GET /api/profiles/{username}")
runtime = Runtime.from_env(reads_only=True)
init_finished()


def get_profile(request: Request) -> Answer:
    with runtime.reads() as connection:
        viewer = runtime.viewer_id(request.authorization, connection)
        return Answer(profiles.get_profile(connection, request.path["username"], viewer))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event, context, ROUTE, get_profile)
