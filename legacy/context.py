"""What the views need from the app: the runtime the functions share, the caller, JSON."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from flask import Response, current_app, request

from app.platform.http import JSON_CONTENT_TYPE, dumps, parse_json_body
from app.platform.runtime import Caller, Runtime

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.core.services._common import Writer


def conduit() -> Runtime:
    return current_app.extensions["conduit"]  # type: ignore[no-any-return]


def authorization() -> str | None:
    return request.headers.get("Authorization")


def viewer_id(session: Session) -> int | None:
    """The caller's user id, or None when no credentials were sent; the account is looked
    up in the request's own session. Credentials that were sent but are invalid are an
    error, not anonymity."""
    return conduit().viewer_id(authorization(), session)


def caller_id(session: Session) -> int:
    """The caller's user id, looked up in the request's own session; 401 without one."""
    return conduit().caller_id(authorization(), session)


def required_caller() -> Caller:
    """The caller whose token verified (the database is not touched); 401 without one."""
    return conduit().required(authorization())


@contextmanager
def writes() -> Iterator[tuple[Writer, Caller]]:
    """The request's one transaction, in the monolith's ORM session, as the caller it
    names (Runtime.writes)."""
    with conduit().writes(authorization(), in_session=True) as unit:
        yield unit


def json_payload() -> Any:
    return parse_json_body(request.get_data(cache=False))


def respond(payload: Any, status: int = 200) -> Response:
    return Response(dumps(payload), status=status, content_type=JSON_CONTENT_TYPE)


def no_content() -> Response:
    return Response(status=204)
