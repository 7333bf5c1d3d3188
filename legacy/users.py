"""Registration, login and the current user."""

from __future__ import annotations

from flask import Blueprint, Response

from app.core import validation
from app.core.services import users

from .context import conduit, json_payload, required_caller, respond, writes

bp = Blueprint("users", __name__)


@bp.post("/users")
def register() -> Response:
    new = validation.parse_new_user(json_payload())
    app = conduit()
    with app.database.transaction() as session:
        return respond(users.register(session, app.passwords, app.tokens, new), 201)


@bp.post("/users/login")
def login() -> Response:
    credentials = validation.parse_login(json_payload())
    app = conduit()
    with app.database.transaction() as session:
        return respond(users.login(session, app.passwords, app.tokens, credentials))


@bp.get("/user")
def current_user() -> Response:
    caller = required_caller()
    with conduit().database.read() as session:
        return respond(users.current_user(session, caller.user_id, caller.token))


@bp.put("/user")
def update_user() -> Response:
    with writes() as (session, caller):
        changes = validation.parse_user_update(json_payload())
        return respond(
            users.update_user(session, conduit().passwords, caller.user_id, caller.token, changes)
        )
