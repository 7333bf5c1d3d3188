"""The HTTP conventions both web layers share."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import (
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.core.errors import (
    AuthenticationRequired,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from app.platform import http


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("Token abc.def.ghi", "abc.def.ghi"),
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("token abc", "abc"),
        ("BEARER abc", "abc"),
        ("  Token   abc  ", "abc"),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert http.bearer_token(header) == token


@pytest.mark.parametrize(
    "header",
    ["Token", "Bearer ", "abc.def.ghi", "Basic dXNlcjpwYXNz", "Token a b", "Tokenabc", "JWT abc"],
)
def test_bearer_token_rejects_malformed_headers(header: str) -> None:
    with pytest.raises(AuthenticationRequired) as caught:
        http.bearer_token(header)
    assert caught.value.messages == ["authorization header must be 'Token <jwt>'"]


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b'{"user": {"a": 1}}', {"user": {"a": 1}}),
        ('{"x": "é"}', {"x": "é"}),
        ('{"x": "é"}'.encode("utf-16"), {"x": "é"}),
        (b"[1, 2]", [1, 2]),
        (b"null", None),
        (b"  42 ", 42),
    ],
)
def test_parse_json_body(raw: bytes | str, value: Any) -> None:
    assert http.parse_json_body(raw) == value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "request body is required"),
        (b"", "request body is required"),
        ("", "request body is required"),
        (b"{", "request body must be valid JSON"),
        (b"{'a': 1}", "request body must be valid JSON"),
        (b"\xff\xff", "request body must be valid JSON"),
        (b"\xed\xa0\x80", "request body must be valid JSON"),
        ("1" * 5000, "request body must be valid JSON"),
    ],
)
def test_parse_json_body_rejects(raw: bytes | str | None, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        http.parse_json_body(raw)
    assert caught.value.messages == [message]


class Conflict(ValidationFailed):
    pass


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ValidationFailed(), 422),
        (Conflict("x"), 422),
        (AuthenticationRequired(), 401),
        (PermissionDenied(), 403),
        (NotFound(), 404),
        (DomainError(), 400),
    ],
)
def test_status_for(error: DomainError, status: int) -> None:
    assert http.status_for(error) == status


def test_domain_errors_carry_their_messages_or_a_default() -> None:
    assert NotFound("a", "b").messages == ["a", "b"]
    assert NotFound().messages == ["not found"]
    assert http.error_payload(*NotFound("gone").messages) == {"errors": {"body": ["gone"]}}


def _db_error(kind: type[Exception]) -> Exception:
    return kind("SELECT 1", {}, Exception("driver said no"))


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (_db_error(OperationalError), True),
        (_db_error(InterfaceError), True),
        (DisconnectionError(), True),
        (PoolTimeoutError(), True),
        (_db_error(IntegrityError), False),
        (_db_error(ProgrammingError), False),
        (ConnectionRefusedError(), False),
        (ValueError(), False),
    ],
)
def test_is_database_unavailable(error: BaseException, unavailable: bool) -> None:
    assert http.is_database_unavailable(error) is unavailable


def test_dumps_is_compact_utf8() -> None:
    assert http.dumps({"a": ["é", 1]}) == '{"a":["é",1]}'


def _werkzeug_int(segment: str) -> int | None:
    """What Werkzeug's `int` converter (how the monolith routed comment ids) reads."""
    from werkzeug.exceptions import NotFound as WerkzeugNotFound
    from werkzeug.routing import Map, Rule

    adapter = Map([Rule("/c/<int:comment_id>", endpoint="c")]).bind("localhost")
    try:
        _endpoint, values = adapter.match(f"/c/{segment}")
    except WerkzeugNotFound:
        return None
    return int(values["comment_id"])


@pytest.mark.parametrize(
    "segment",
    ["1", "007", "0", "9" * 30, "٣", "٩٩", "\uff19", "²", "-1", "+1", "1.5", "1e3", " 1", "1 ",
     "1_0", "abc", "0x10", "١٢٣", "1\n"],
)  # fmt: skip
def test_path_integer_reads_a_segment_as_werkzeugs_int_converter_did(segment: str) -> None:
    expected = _werkzeug_int(segment)
    if expected is None:
        with pytest.raises(NotFound) as raised:
            http.path_integer(segment)
        assert raised.value.messages == [http.NOT_FOUND_MESSAGE]
    else:
        assert http.path_integer(segment) == expected


def test_path_integer_refuses_more_digits_than_int_reads() -> None:
    with pytest.raises(NotFound):
        http.path_integer("9" * 5000)
