"""Tags."""

from __future__ import annotations

from flask import Blueprint, Response

from app.core.services import tags

from .context import conduit, respond

bp = Blueprint("tags", __name__)


@bp.get("/tags")
def list_tags() -> Response:
    with conduit().database.read() as session:
        return respond(tags.list_tags(session))
