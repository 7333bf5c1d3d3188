"""Comments on articles."""

from __future__ import annotations

from flask import Blueprint, Response

from app.core import validation
from app.core.services import comments
from app.platform.http import path_integer

from .context import conduit, json_payload, no_content, respond, viewer_id, writes

bp = Blueprint("comments", __name__)


@bp.get("/articles/<slug>/comments")
def list_comments(slug: str) -> Response:
    with conduit().database.read() as session:
        return respond(comments.list_comments(session, slug, viewer_id(session)))


# The spec answers 200 here (not 201): it is the one create that returns 200.
@bp.post("/articles/<slug>/comments")
def add_comment(slug: str) -> Response:
    with writes() as (session, caller):
        body = validation.parse_new_comment(json_payload())
        return respond(comments.add_comment(session, slug, caller.user_id, body))


# A plain segment, not Werkzeug's `int` converter (API Gateway has no such converter): the
# view applies the converter's rule itself, first, so a non-integer id is a 404 before
# credentials are read, as the dedicated function answers it.
@bp.delete("/articles/<slug>/comments/<comment_id>")
def delete_comment(slug: str, comment_id: str) -> Response:
    number = path_integer(comment_id)
    with writes() as (session, caller):
        comments.delete_comment(session, slug, number, caller.user_id)
    return no_content()
