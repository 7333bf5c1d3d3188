"""Lambda `unfavoriteArticle`: DELETE /api/articles/{slug}/favorite, the caller's favorite is
removed (idempotent); answers the article. A token is required."""

from __future__ import annotations

from typing import Any

from app import init_finished
from app.core.services import articles
from app.platform.lambda_http import Answer, Request, Route, Runtime, serve

ROUTE = Route("DELETE /api/articles/{slug}/favorite")
runtime = Runtime.from_env()
init_finished()


def unfavorite_article(request: Request) -> Answer:
    with runtime.writes(request.authorization) as (connection, caller):
        return Answer(articles.unfavorite(connection, request.path["slug"], caller.user_id))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event, context, ROUTE, unfavorite_article)
