"""Lambda `createArticle`: POST /api/articles, an article by the caller (its tags
created as needed, its slug made unique); 201. A token is required."""

from __future__ import annotations

from typing import Any

from app import init_finished
from app.core import validation
from app.core.services import articles
from app.platform.lambda_http import Answer, Request, Route, Runtime, json_body, serve

ROUTE = Route("POST /api/articles")
runtime = Runtime.from_env()
init_finished()


def create_article(request: Request) -> Answer:
    with runtime.writes(request.authorization) as (connection, caller):
        new = validation.parse_new_article(json_body(request))
        return Answer(articles.create_article(connection, caller.user_id, new), 201)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event, context, ROUTE, create_article)
