"""Lambda `getProfile`: GET /api/profiles/{username}. A token is optional: it sets
`following` for the viewer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from app.core.services import profiles
from app.platform.lambda_http import Runtime, http_resolver, json_response, metrics, tracer
from app.platform.observability import logger

runtime = Runtime.from_env()
app = http_resolver()


@app.get("/api/profiles/<username>")
def get_profile(username: str) -> Response[str]:
    with runtime.database.read() as session:
        viewer = runtime.viewer_id(app.current_event, session)
        return json_response(profiles.get_profile(session, username, viewer))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
