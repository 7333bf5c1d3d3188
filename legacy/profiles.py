"""Profiles and follows."""

from __future__ import annotations

from flask import Blueprint, Response

from app.core.services import profiles

from .context import conduit, required_caller, respond, viewer_id

bp = Blueprint("profiles", __name__)


@bp.get("/profiles/<username>")
def get_profile(username: str) -> Response:
    viewer = viewer_id()
    with conduit().database.read() as session:
        return respond(profiles.get_profile(session, username, viewer))


@bp.post("/profiles/<username>/follow")
def follow(username: str) -> Response:
    caller = required_caller()
    with conduit().database.transaction() as session:
        return respond(profiles.follow(session, username, caller.user_id))


@bp.delete("/profiles/<username>/follow")
def unfollow(username: str) -> Response:
    caller = required_caller()
    with conduit().database.transaction() as session:
        return respond(profiles.unfollow(session, username, caller.user_id))
