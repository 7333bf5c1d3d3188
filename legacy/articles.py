"""Articles, the feed and favorites."""

from __future__ import annotations

from flask import Blueprint, Response, request

from app.core import validation
from app.core.services import articles

from .context import caller_id, conduit, json_payload, no_content, respond, viewer_id, writes

bp = Blueprint("articles", __name__)


def _page() -> validation.Page:
    return validation.parse_page(
        request.args.get("limit"),
        request.args.get("offset"),
        max_limit=conduit().settings.max_page_size,
    )


@bp.get("/articles")
def list_articles() -> Response:
    with conduit().database.read() as session:
        viewer = viewer_id(session)
        page = _page()
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
    with conduit().database.read() as session:
        caller = caller_id(session)
        page = _page()
        return respond(articles.feed(session, page, caller))


@bp.post("/articles")
def create_article() -> Response:
    with writes() as (session, caller):
        new = validation.parse_new_article(json_payload())
        return respond(articles.create_article(session, caller.user_id, new), 201)


@bp.get("/articles/<slug>")
def get_article(slug: str) -> Response:
    with conduit().database.read() as session:
        return respond(articles.get_article(session, slug, viewer_id(session)))


@bp.put("/articles/<slug>")
def update_article(slug: str) -> Response:
    with writes() as (session, caller):
        changes = validation.parse_article_update(json_payload())
        return respond(articles.update_article(session, slug, caller.user_id, changes))


@bp.delete("/articles/<slug>")
def delete_article(slug: str) -> Response:
    with writes() as (session, caller):
        articles.delete_article(session, slug, caller.user_id)
    return no_content()


@bp.post("/articles/<slug>/favorite")
def favorite(slug: str) -> Response:
    with writes() as (session, caller):
        return respond(articles.favorite(session, slug, caller.user_id))


@bp.delete("/articles/<slug>/favorite")
def unfavorite(slug: str) -> Response:
    with writes() as (session, caller):
        return respond(articles.unfavorite(session, slug, caller.user_id))
