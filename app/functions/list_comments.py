"""Lambda `listComments`: GET /api/articles/{slug}/comments, oldest first. A token is
optional: it sets `following` on each comment's author."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from app.core.services import comments
from app.platform.lambda_http import Runtime, http_resolver, json_response, metrics, tracer
from app.platform.observability import logger

runtime = Runtime.from_env()
app = http_resolver()


@app.get("/api/articles/<slug>/comments")
def list_comments(slug: str) -> Response[str]:
    with runtime.database.read() as session:
        viewer = runtime.viewer_id(app.current_event, session)
        return json_response(comments.list_comments(session, slug, viewer))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
