"""app/deploy/parity.py: where two answers differ, and what a log line may show of it."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from app.deploy.parity import HEADERS_THAT_MATTER, answer_of, differences, redact

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
ARGON = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"


def answer(body: Any, status: int = 200, **headers: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json; charset=utf-8", **headers},
        "body": body if isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


USER = {"user": {"email": "jake@example.com", "token": JWT, "username": "jake", "bio": None}}


def diff(left: dict[str, Any], right: dict[str, Any]) -> list[dict[str, str]]:
    return [d.as_dict() for d in differences(answer_of(left), answer_of(right))]


def test_the_same_answer_has_no_differences() -> None:
    reordered = {"user": dict(reversed(list(USER["user"].items())))}
    assert diff(answer(USER), answer(reordered)) == []


def test_a_changed_value_is_named_by_its_json_path() -> None:
    changed = {"user": {**USER["user"], "bio": "I like dragons"}}
    assert diff(answer(USER), answer(changed)) == [
        {"path": "$.user.bio", "monolith": "null", "new": "I like dragons"}
    ]


def test_missing_and_extra_keys_and_list_items_are_named() -> None:
    left = {"tags": ["a", "b"], "count": 2}
    right = {"tags": ["a"], "total": 2}
    assert diff(answer(left), answer(right)) == [
        {"path": "$.count", "monolith": "2", "new": "(absent)"},
        {"path": "$.tags[1]", "monolith": "b", "new": "(absent)"},
        {"path": "$.total", "monolith": "(absent)", "new": "2"},
    ]


def test_true_and_1_differ() -> None:
    assert [d["path"] for d in diff(answer({"following": True}), answer({"following": 1}))] == [
        "$.following"
    ]


def test_status_and_the_headers_that_matter_are_compared_case_blind() -> None:
    left = answer(USER, 200, **{"Access-Control-Allow-Origin": "*", "Date": "Mon"})
    right = answer(USER, 401, **{"access-control-allow-origin": "*", "date": "Tue"})
    right["headers"]["content-type"] = right["headers"].pop("Content-Type")
    assert diff(left, right) == [{"path": "status", "monolith": "200", "new": "401"}]
    right["headers"]["content-type"] = "text/html"
    assert "headers.content-type" in [d["path"] for d in diff(left, right)]
    assert "date" not in HEADERS_THAT_MATTER


def test_a_base64_body_is_decoded_before_comparing() -> None:
    encoded = answer(USER)
    encoded["body"] = base64.b64encode(encoded["body"].encode()).decode()
    encoded["isBase64Encoded"] = True
    assert diff(answer(USER), encoded) == []


def test_a_body_that_is_not_json_is_compared_as_text() -> None:
    assert diff(answer("<html>"), answer("<html>")) == []
    assert [d["path"] for d in diff(answer("<html>"), answer(USER))] == ["body"]


def test_an_answer_that_is_no_mapping_differs_from_a_real_one() -> None:
    found = differences(answer_of(answer(USER)), answer_of(None))
    assert found and found[0].path == "status"


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ({"token": JWT}, {"token": JWT + "x"}),
        ({"password_hash": ARGON}, {"password_hash": "other"}),
        ({"email": "jake@example.com"}, {"email": "jane@example.org"}),
        ({"bio": f"mail me at jake@example.com, token {JWT}"}, {"bio": "none"}),
        ({"user": {"bio": "x"}}, {"user": {"bio": "x", "token": JWT, "email": "a@b.co"}}),
        ({"user": {"password": "hunter2"}}, {"user": None}),
    ],
)
def test_no_token_password_or_email_reaches_an_excerpt(
    left: dict[str, Any], right: dict[str, Any]
) -> None:
    shown = json.dumps(diff(answer(left), answer(right)))
    assert shown != "[]"
    for secret in (JWT, "eyJ", ARGON, "$argon2", "hunter2", "@example", "a@b.co"):
        assert secret not in shown, shown


def test_redact_names_what_it_hid() -> None:
    assert redact(f"a {JWT} b jake@example.com c {ARGON}") == (
        "a <token> b <email> c <password-hash>"
    )


def test_excerpts_are_short() -> None:
    long = "x" * 500
    [found] = diff(answer({"body": long}), answer({"body": long + "y"}))
    assert len(found["monolith"]) <= 80 and found["monolith"].endswith("...")
