"""Lambda `listArticles`: GET /api/articles, newest first, filtered by ?tag=, ?author=,
?favorited= and paged by ?limit=&offset=. A token is optional: it sets `favorited` and
`following` for the viewer."""

from __future__ import annotations

from typing import Any

from app import init_finished
from app.core.services import articles
from app.platform.lambda_http import Answer, Request, Route, Runtime, page_of, serve

ROUTE = Route("GET /api/articles")
runtime = Runtime.from_env(reads_only=True)
init_finished()


def list_articles(request: Request) -> Answer:
    args = request.args
    with runtime.reads() as connection:
        viewer = runtime.viewer_id(request.authorization, connection)
        page = page_of(args, runtime.settings)
        return Answer(
            articles.list_articles(
                connection,
                page,
                viewer,
                tag=args.get("tag"),
                author=args.get("author"),
                favorited=args.get("favorited"),
            )
        )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event, context, ROUTE, list_articles)
