"""Lambda `getFeed`: GET /api/articles/feed, articles by the authors the caller follows,
newest first, paged by ?limit=&offset=. A token is required."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from app.core.services import articles
from app.platform.lambda_http import (
    Runtime,
    http_resolver,
    json_response,
    metrics,
    page_of,
    query_args,
    tracer,
)
from app.platform.observability import logger

runtime = Runtime.from_env()
app = http_resolver()


@app.get("/api/articles/feed")
def feed() -> Response[str]:
    args = query_args(app.current_event)
    with runtime.database.read() as session:
        caller = runtime.caller_id(app.current_event, session)
        page = page_of(args, runtime.settings)
        return json_response(articles.feed(session, page, caller))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
