"""Lambda `getFeed`: GET /api/articles/feed, articles by the authors the caller follows,
newest first, paged by ?limit=&offset=. A token is required."""

from __future__ import annotations

from typing import Any

from app import init_finished
from app.core.services import articles
from app.platform.lambda_http import Answer, Request, Route, Runtime, page_of, serve

ROUTE = Route("GET /api/articles/feed")
runtime = Runtime.from_env(reads_only=True)
init_finished()


def feed(request: Request) -> Answer:
    with runtime.reads() as connection:
        caller = runtime.caller_id(request.authorization, connection)
        page = page_of(request.args, runtime.settings)
        return Answer(articles.feed(connection, page, caller))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event, context, ROUTE, feed)
