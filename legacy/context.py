"""What the views need from the app: the shared services and the caller's identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, request

from app.core.errors import AuthenticationRequired
from app.core.passwords import Passwords
from app.core.services import users
from app.core.tokens import TokenIssuer
from app.platform.db import Database
from app.platform.http import JSON_CONTENT_TYPE, bearer_token, dumps, parse_json_body
from app.platform.settings import Settings


@dataclass(frozen=True)
class Conduit:
    settings: Settings
    database: Database
    tokens: TokenIssuer
    passwords: Passwords


def conduit() -> Conduit:
    return current_app.extensions["conduit"]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Caller:
    user_id: int
    token: str


def optional_caller() -> Caller | None:
    """The authenticated caller, or None when no credentials were sent.
    Credentials that were sent but are invalid are an error, not anonymity."""
    token = bearer_token(request.headers.get("Authorization"))
    if token is None:
        return None
    app = conduit()
    user_id = app.tokens.verify(token)
    with app.database.read() as session:
        users.ensure_account(session, user_id)
    return Caller(user_id=user_id, token=token)


def required_caller() -> Caller:
    caller = optional_caller()
    if caller is None:
        raise AuthenticationRequired("authorization is required")
    return caller


def viewer_id() -> int | None:
    caller = optional_caller()
    return None if caller is None else caller.user_id


def json_payload() -> Any:
    return parse_json_body(request.get_data(cache=False))


def respond(payload: Any, status: int = 200) -> Response:
    return Response(dumps(payload), status=status, content_type=JSON_CONTENT_TYPE)


def no_content() -> Response:
    return Response(status=204)
