"""Lambda `deleteArticle`: DELETE /api/articles/{slug}, the caller's own article, with its
comments, favorites and tag links (ON DELETE CASCADE); 204. A token is required."""

from __future__ import annotations

from typing import Any

from app import init_finished
from app.core.services import articles
from app.platform.lambda_http import NO_CONTENT, Answer, Request, Route, Runtime, serve

ROUTE = Route("DELETE /api/articles/{slug}")
runtime = Runtime.from_env()
init_finished()


def delete_article(request: Request) -> Answer:
    with runtime.writes(request.authorization) as (connection, caller):
        articles.delete_article(connection, request.path["slug"], caller.user_id)
    return NO_CONTENT


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event, context, ROUTE, delete_article)
