"""The input rules: raw decoded JSON in, typed values or every problem at once out."""

from __future__ import annotations

from typing import Any

import pytest

from app.core import validation
from app.core.errors import ValidationFailed


def problems(parse: Any, *args: Any, **kwargs: Any) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        parse(*args, **kwargs)
    return caught.value.messages


# -- envelope ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (None, "request body must be a JSON object"),
        ([], "request body must be a JSON object"),
        ("user", "request body must be a JSON object"),
        ({}, "user is required"),
        ({"User": {}}, "user is required"),
        ({"user": None}, "user must be an object"),
        ({"user": []}, "user must be an object"),
        ({"user": 1}, "user must be an object"),
    ],
)
def test_envelope_rejects(payload: Any, message: str) -> None:
    assert problems(validation.envelope, payload, "user") == [message]


def test_envelope_returns_the_inner_object() -> None:
    inner = {"a": 1}
    assert validation.envelope({"user": inner, "extra": 2}, "user") is inner


# -- users -------------------------------------------------------------------------------

NEW_USER = {"username": "jake", "email": "jake@jake.jake", "password": "jakejake"}


def test_parse_new_user() -> None:
    parsed = validation.parse_new_user(
        {"user": {"username": " jake ", "email": " Jake@Jake.JAKE ", "password": " jakejake "}}
    )
    assert parsed == validation.NewUser("jake", "jake@jake.jake", " jakejake ")


@pytest.mark.parametrize(
    ("changes", "messages"),
    [
        ({"username": None}, ["username must be a string"]),
        ({"username": "\t"}, ["username can't be blank"]),
        ({"username": "x" * 65}, ["username is too long (maximum is 64 characters)"]),
        ({"username": "jäke"}, ["username may only contain letters, digits, '_', '.' and '-'"]),
        ({"username": "ja\ud800ke"}, ["username must be valid Unicode text"]),
        ({"email": "a@b"}, ["email is invalid"]),
        ({"email": "@b.c"}, ["email is invalid"]),
        ({"email": "a@@b.c"}, ["email is invalid"]),
        ({"email": True}, ["email must be a string"]),
        ({"password": "1234567"}, ["password is too short (minimum is 8 characters)"]),
        ({"password": "x" * 257}, ["password is too long (maximum is 256 characters)"]),
        (
            {"username": "", "email": "", "password": ""},
            [
                "username can't be blank",
                "email can't be blank",
                "password is too short (minimum is 8 characters)",
            ],
        ),
    ],
)
def test_parse_new_user_rejects(changes: dict[str, Any], messages: list[str]) -> None:
    assert problems(validation.parse_new_user, {"user": NEW_USER | changes}) == messages


@pytest.mark.parametrize("missing", ["username", "email", "password"])
def test_parse_new_user_requires_every_field(missing: str) -> None:
    user = {name: value for name, value in NEW_USER.items() if name != missing}
    assert problems(validation.parse_new_user, {"user": user}) == [f"{missing} can't be blank"]


def test_parse_new_user_accepts_limits() -> None:
    parsed = validation.parse_new_user(
        {"user": {"username": "u" * 64, "email": "e" * 240 + "@example.com", "password": "p" * 8}}
    )
    assert (len(parsed.username), len(parsed.email), len(parsed.password)) == (64, 252, 8)


def test_parse_login_lowercases_email_and_keeps_password_as_sent() -> None:
    parsed = validation.parse_login({"user": {"email": " JAKE@jake.jake", "password": " x "}})
    assert parsed == validation.LoginRequest("jake@jake.jake", " x ")


@pytest.mark.parametrize(
    ("user", "messages"),
    [
        ({}, ["email can't be blank", "password can't be blank"]),
        ({"email": "", "password": "x"}, ["email can't be blank"]),
        ({"email": "a@b.c", "password": ""}, ["password can't be blank"]),
        ({"email": ["a@b.c"], "password": "x"}, ["email must be a string"]),
        (
            {"email": "a@b.c", "password": "x" * 257},
            ["password is too long (maximum is 256 characters)"],
        ),
    ],
)
def test_parse_login_rejects(user: dict[str, Any], messages: list[str]) -> None:
    assert problems(validation.parse_login, {"user": user}) == messages


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ({"bio": "Hi"}, {"bio": "Hi"}),
        ({"bio": ""}, {"bio": ""}),
        ({"bio": None}, {"bio": None}),
        ({"image": None}, {"image": None}),
        ({"image": " https://x/y.png "}, {"image": "https://x/y.png"}),
        ({"email": "New@X.io"}, {"email": "new@x.io"}),
        ({"username": "new"}, {"username": "new"}),
        ({"password": "new-password"}, {"password": "new-password"}),
        ({"bio": "b", "unknown": 1}, {"bio": "b"}),
    ],
)
def test_parse_user_update_keeps_only_present_fields(
    user: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert validation.parse_user_update({"user": user}) == expected


@pytest.mark.parametrize(
    ("user", "messages"),
    [
        ({}, ["user must contain at least one of: username, email, password, bio, image"]),
        ({"username": None}, ["username must be a string"]),
        ({"email": None}, ["email must be a string"]),
        ({"password": None}, ["password must be a string"]),
        ({"bio": 1}, ["bio must be a string"]),
        ({"bio": "b" * 2001}, ["bio is too long (maximum is 2000 characters)"]),
        ({"image": "i" * 2049}, ["image is too long (maximum is 2048 characters)"]),
        ({"email": "x", "bio": 2}, ["email is invalid", "bio must be a string"]),
    ],
)
def test_parse_user_update_rejects(user: dict[str, Any], messages: list[str]) -> None:
    assert problems(validation.parse_user_update, {"user": user}) == messages


# -- articles and comments ---------------------------------------------------------------

NEW_ARTICLE = {"title": "T", "description": "D", "body": "B"}


@pytest.mark.parametrize(
    ("tag_list", "tags"),
    [
        (None, []),
        ([], []),
        (["b", " a ", "b"], ["a", "b"]),
        (["t" * 64], ["t" * 64]),
        ([f"t{n:02d}" for n in range(20)], [f"t{n:02d}" for n in range(20)]),
        # Duplicates collapse before the count is checked.
        (["same"] * 25, ["same"]),
    ],
)
def test_parse_new_article_tags(tag_list: Any, tags: list[str]) -> None:
    parsed = validation.parse_new_article({"article": NEW_ARTICLE | {"tagList": tag_list}})
    assert parsed == validation.NewArticle("T", "D", "B", tags)


@pytest.mark.parametrize(
    ("changes", "messages"),
    [
        ({"title": ""}, ["title can't be blank"]),
        ({"title": "t" * 256}, ["title is too long (maximum is 255 characters)"]),
        ({"description": 0}, ["description must be a string"]),
        ({"description": "d" * 1001}, ["description is too long (maximum is 1000 characters)"]),
        ({"body": []}, ["body must be a string"]),
        ({"body": "b" * 100_001}, ["body is too long (maximum is 100000 characters)"]),
        ({"tagList": "t"}, ["tagList must be an array of strings"]),
        ({"tagList": [1, "t"]}, ["tagList must be an array of strings"]),
        ({"tagList": ["\ud800"]}, ["tagList must be an array of strings"]),
        ({"tagList": [""]}, ["tagList can't contain blank tags"]),
        ({"tagList": ["t" * 65]}, ["tags are too long (maximum is 64 characters)"]),
        ({"tagList": [str(n) for n in range(21)]}, ["tagList has too many tags (maximum is 20)"]),
    ],
)
def test_parse_new_article_rejects(changes: dict[str, Any], messages: list[str]) -> None:
    assert problems(validation.parse_new_article, {"article": NEW_ARTICLE | changes}) == messages


def test_parse_new_article_requires_title_description_and_body() -> None:
    assert problems(validation.parse_new_article, {"article": {}}) == [
        "title can't be blank",
        "description can't be blank",
        "body can't be blank",
    ]


@pytest.mark.parametrize(
    ("article", "expected"),
    [
        ({"title": " New "}, {"title": "New"}),
        ({"body": "B"}, {"body": "B"}),
        ({"tagList": ["b", "a"]}, {"tags": ["a", "b"]}),
        ({"tagList": []}, {"tags": []}),
        ({"description": "D", "slug": "ignored"}, {"description": "D"}),
    ],
)
def test_parse_article_update(article: dict[str, Any], expected: dict[str, Any]) -> None:
    assert validation.parse_article_update({"article": article}) == expected


@pytest.mark.parametrize(
    ("article", "messages"),
    [
        ({}, ["article must contain at least one of: title, description, body, tagList"]),
        (
            {"tagList": None},
            ["article must contain at least one of: title, description, body, tagList"],
        ),
        ({"title": None}, ["title must be a string"]),
        ({"title": "ok", "body": ""}, ["body can't be blank"]),
    ],
)
def test_parse_article_update_rejects(article: dict[str, Any], messages: list[str]) -> None:
    assert problems(validation.parse_article_update, {"article": article}) == messages


def test_parse_new_comment() -> None:
    assert validation.parse_new_comment({"comment": {"body": " Nice! "}}) == "Nice!"


@pytest.mark.parametrize(
    ("payload", "messages"),
    [
        ({"comment": {}}, ["body can't be blank"]),
        ({"comment": {"body": 1}}, ["body must be a string"]),
        ({"comment": {"body": "c" * 10_001}}, ["body is too long (maximum is 10000 characters)"]),
        ({"body": "x"}, ["comment is required"]),
    ],
)
def test_parse_new_comment_rejects(payload: Any, messages: list[str]) -> None:
    assert problems(validation.parse_new_comment, payload) == messages


# -- paging ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "offset", "expected"),
    [
        (None, None, validation.Page(20, 0)),
        ("", "", validation.Page(20, 0)),
        ("1", "0", validation.Page(1, 0)),
        (" 7 ", " 3 ", validation.Page(7, 3)),
        ("100", "5", validation.Page(100, 5)),
        ("101", None, validation.Page(100, 0)),
        ("999999999999", "999999999999", validation.Page(100, 999999999999)),
        (None, "-0", validation.Page(20, 0)),
        # Large limits are clamped, however many digits they have.
        ("1234567890123", None, validation.Page(100, 0)),
        ("9" * 30, None, validation.Page(100, 0)),
        ("0" * 40 + "7", None, validation.Page(7, 0)),
        ("9" * 5000, None, validation.Page(100, 0)),
        # Any offset a database can address is a page (an empty one past the last row).
        (None, "1000000000000", validation.Page(20, 1000000000000)),
        (None, str(2**63 - 1), validation.Page(20, 2**63 - 1)),
        (None, "0" * 30 + "5", validation.Page(20, 5)),
    ],
)
def test_parse_page(limit: str | None, offset: str | None, expected: validation.Page) -> None:
    assert validation.parse_page(limit, offset, max_limit=100) == expected


@pytest.mark.parametrize(
    "limit", ["0", "-1", "-0", "abc", "1.5", "1e2", "--5", "+5", "٣", "1 000", "-" + "9" * 30]
)
def test_parse_page_rejects_limit(limit: str) -> None:
    assert problems(validation.parse_page, limit, None, max_limit=100) == [
        "limit must be a whole number greater than 0"
    ]


@pytest.mark.parametrize("offset", ["-1", "x", "0.0", "--1", "-1234567890123", "-" + "9" * 30])
def test_parse_page_rejects_offset(offset: str) -> None:
    assert problems(validation.parse_page, None, offset, max_limit=100) == [
        "offset must be a whole number of 0 or more"
    ]


@pytest.mark.parametrize("offset", [str(2**63), "9" * 30, "9" * 5000])
def test_parse_page_rejects_an_offset_no_database_can_address(offset: str) -> None:
    assert problems(validation.parse_page, None, offset, max_limit=100) == [
        f"offset is too large (maximum is {2**63 - 1})"
    ]


def test_parse_page_reports_both_problems() -> None:
    assert problems(validation.parse_page, "0", "-1", max_limit=100) == [
        "limit must be a whole number greater than 0",
        "offset must be a whole number of 0 or more",
    ]


def test_parse_page_clamps_to_the_given_maximum() -> None:
    assert validation.parse_page("50", None, max_limit=10) == validation.Page(10, 0)
