"""Lambda `updateArticle`: PUT /api/articles/{slug}, the caller's own article; a new
title may give it a new slug. A token is required."""

from __future__ import annotations

from typing import Any

from app import init_finished
from app.core import validation
from app.core.services import articles
from app.platform.lambda_http import Answer, Request, Route, Runtime, json_body, serve

ROUTE = Route("PUT /api/articles/{slug}")
runtime = Runtime.from_env()
init_finished()


def update_article(request: Request) -> Answer:
    with runtime.writes(request.authorization) as (connection, caller):
        changes = validation.parse_article_update(json_body(request))
        return Answer(
            articles.update_article(connection, request.path["slug"], caller.user_id, changes)
        )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event, context, ROUTE, update_article)
