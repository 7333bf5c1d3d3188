"""Lambda `getCurrentUser` (new code): GET /api/user, the caller's own account. A token is
required; the answer carries it back, as the monolith's does."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from app.core.errors import AuthenticationRequired
from app.core.services import users
from app.platform.http import bearer_token
from app.platform.lambda_http import Runtime, http_resolver, json_response, metrics, tracer
from app.platform.observability import logger

runtime = Runtime.from_env()
app = http_resolver()


@app.get("/api/user")
def get_current_user() -> Response[str]:
    token = bearer_token(app.current_event.headers.get("authorization"))
    if token is None:
        raise AuthenticationRequired("authorization is required")
    user_id = runtime.tokens.verify(token)
    with runtime.database.read() as session:
        return json_response(users.current_user(session, user_id, token))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
