"""Lambda `listTags`: GET /api/tags, the tags in use. Anonymous; no token is read."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from app.core.services import tags
from app.platform.lambda_http import Runtime, http_resolver, json_response, metrics, tracer
from app.platform.observability import logger

runtime = Runtime.from_env()
app = http_resolver()


@app.get("/api/tags")
def list_tags() -> Response[str]:
    with runtime.database.read() as session:
        return json_response(tags.list_tags(session))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
