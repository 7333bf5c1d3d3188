"""Profiles and follows."""

from __future__ import annotations

from flask import Blueprint, Response

from app.core.services import profiles

from .context import conduit, respond, viewer_id, writes

bp = Blueprint("profiles", __name__)


@bp.get("/profiles/<username>")
def get_profile(username: str) -> Response:
    with conduit().database.read() as session:
        return respond(profiles.get_profile(session, username, viewer_id(session)))


@bp.post("/profiles/<username>/follow")
def follow(username: str) -> Response:
    with writes() as (session, caller):
        return respond(profiles.follow(session, username, caller.user_id))


@bp.delete("/profiles/<username>/follow")
def unfollow(username: str) -> Response:
    with writes() as (session, caller):
        return respond(profiles.unfollow(session, username, caller.user_id))
