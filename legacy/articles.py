"""Articles, the feed and favorites."""

from __future__ import annotations

from flask import Blueprint, Response, request

from app.core import validation
from app.core.services import articles

from .context import conduit, json_payload, no_content, required_caller, respond, viewer_id

bp = Blueprint("articles", __name__)


def _page() -> validation.Page:
    return validation.parse_page(
        request.args.get("limit"),
        request.args.get("offset"),
        max_limit=conduit().settings.max_page_size,
    )


@bp.get("/articles")
def list_articles() -> Response:
    viewer = viewer_id()
    page = _page()
    with conduit().database.read() as session:
        return respond(
            articles.list_articles(
                session,
                page,
                viewer,
                tag=request.args.get("tag"),
                author=request.args.get("author"),
                favorited=request.args.get("favorited"),
            )
        )


@bp.get("/articles/feed")
def feed() -> Response:
    caller = required_caller()
    page = _page()
    with conduit().database.read() as session:
        return respond(articles.feed(session, page, caller.user_id))


@bp.post("/articles")
def create_article() -> Response:
    caller = required_caller()
    new = validation.parse_new_article(json_payload())
    with conduit().database.transaction() as session:
        return respond(articles.create_article(session, caller.user_id, new), 201)


@bp.get("/articles/<slug>")
def get_article(slug: str) -> Response:
    viewer = viewer_id()
    with conduit().database.read() as session:
        return respond(articles.get_article(session, slug, viewer))


@bp.put("/articles/<slug>")
def update_article(slug: str) -> Response:
    caller = required_caller()
    changes = validation.parse_article_update(json_payload())
    with conduit().database.transaction() as session:
        return respond(articles.update_article(session, slug, caller.user_id, changes))


@bp.delete("/articles/<slug>")
def delete_article(slug: str) -> Response:
    caller = required_caller()
    with conduit().database.transaction() as session:
        articles.delete_article(session, slug, caller.user_id)
    return no_content()


@bp.post("/articles/<slug>/favorite")
def favorite(slug: str) -> Response:
    caller = required_caller()
    with conduit().database.transaction() as session:
        return respond(articles.favorite(session, slug, caller.user_id))


@bp.delete("/articles/<slug>/favorite")
def unfavorite(slug: str) -> Response:
    caller = required_caller()
    with conduit().database.transaction() as session:
        return respond(articles.unfavorite(session, slug, caller.user_id))
