"""Lambda `getArticle`: GET /api/articles/{slug}, one article. A token is optional: it
sets `favorited` and `following` for the viewer."""

from __future__ import annotations

from typing import Any

from app import init_finished
from app.core.services import articles
from app.platform.lambda_http import Answer, Request, Route, Runtime, serve

ROUTE = Route("GET /api/articles/{slug}")
runtime = Runtime.from_env(reads_only=True)
init_finished()


def get_article(request: Request) -> Answer:
    with runtime.reads() as connection:
        viewer = runtime.viewer_id(request.authorization, connection)
        return Answer(articles.get_article(connection, request.path["slug"], viewer))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event, context, ROUTE, get_article)
