"""Input rules shared by every web layer: raw decoded JSON in, typed values out.

Each parser collects every problem it finds and raises one ValidationFailed with all
of them, so a client fixes its request in one round trip.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from app.core.errors import ValidationFailed

USERNAME_MAX = 64
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")
EMAIL_MAX = 254
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PASSWORD_MIN = 8
PASSWORD_MAX = 256
BIO_MAX = 2000
IMAGE_MAX = 2048
TITLE_MAX = 255
DESCRIPTION_MAX = 1000
ARTICLE_BODY_MAX = 100_000
COMMENT_BODY_MAX = 10_000
TAG_MAX = 64
TAGS_PER_ARTICLE_MAX = 20
DEFAULT_PAGE_SIZE = 20
# The largest OFFSET both backends accept: SQLite binds integers as signed 64-bit.
OFFSET_MAX = 2**63 - 1
# Numbers longer than OFFSET_MAX are not converted; they all stand for this one.
_LONGEST_NUMBER = len(str(OFFSET_MAX))
_BEYOND_BOUNDS = OFFSET_MAX + 1

_MISSING = object()


def envelope(payload: Any, key: str) -> dict[str, Any]:
    """The object under `key` in a request body such as {"user": {...}}."""
    if not isinstance(payload, dict):
        raise ValidationFailed("request body must be a JSON object")
    inner = payload.get(key, _MISSING)
    if inner is _MISSING:
        raise ValidationFailed(f"{key} is required")
    if not isinstance(inner, dict):
        raise ValidationFailed(f"{key} must be an object")
    return inner


def _is_unicode_text(value: str) -> bool:
    """False for a string with a lone surrogate (JSON allows `\\ud800`): no database
    driver can encode it, so it must stop here as a 422, not fail as a 500 on write."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _Fields:
    """Reads fields from one object and gathers the problems."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.problems: list[str] = []

    def text(
        self,
        name: str,
        *,
        required: bool,
        max_length: int,
        min_length: int = 1,
        strip: bool = True,
        nullable: bool = False,
    ) -> Any:
        value = self.data.get(name, _MISSING)
        if value is _MISSING:
            if required:
                self.problems.append(f"{name} can't be blank")
            return _MISSING
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            self.problems.append(f"{name} must be a string")
            return _MISSING
        if not _is_unicode_text(value):
            self.problems.append(f"{name} must be valid Unicode text")
            return _MISSING
        if strip:
            value = value.strip()
        if len(value) < min_length:
            if min_length == 1:
                self.problems.append(f"{name} can't be blank")
            else:
                self.problems.append(f"{name} is too short (minimum is {min_length} characters)")
            return _MISSING
        if len(value) > max_length:
            self.problems.append(f"{name} is too long (maximum is {max_length} characters)")
            return _MISSING
        return value

    def check(self) -> None:
        if self.problems:
            raise ValidationFailed(*self.problems)


def _username(fields: _Fields, *, required: bool) -> Any:
    value = fields.text("username", required=required, max_length=USERNAME_MAX)
    if isinstance(value, str) and not USERNAME_PATTERN.match(value):
        fields.problems.append("username may only contain letters, digits, '_', '.' and '-'")
        return _MISSING
    return value


def _email(fields: _Fields, *, required: bool) -> Any:
    value = fields.text("email", required=required, max_length=EMAIL_MAX)
    if isinstance(value, str):
        if not EMAIL_PATTERN.match(value):
            fields.problems.append("email is invalid")
            return _MISSING
        return value.lower()
    return value


def _password(fields: _Fields, *, required: bool) -> Any:
    return fields.text(
        "password", required=required, max_length=PASSWORD_MAX, min_length=PASSWORD_MIN, strip=False
    )


# NamedTuples, not dataclasses: README, "What a function loads at cold start".
class NewUser(NamedTuple):
    username: str
    email: str
    password: str


def parse_new_user(payload: Any) -> NewUser:
    fields = _Fields(envelope(payload, "user"))
    username = _username(fields, required=True)
    email = _email(fields, required=True)
    password = _password(fields, required=True)
    fields.check()
    return NewUser(username=username, email=email, password=password)


class LoginRequest(NamedTuple):
    email: str
    password: str


def parse_login(payload: Any) -> LoginRequest:
    fields = _Fields(envelope(payload, "user"))
    email = fields.text("email", required=True, max_length=EMAIL_MAX)
    # Any length is accepted at login: a wrong password is a 401, not a 422.
    password = fields.text("password", required=True, max_length=PASSWORD_MAX, strip=False)
    fields.check()
    return LoginRequest(email=email.lower(), password=password)


def parse_user_update(payload: Any) -> dict[str, Any]:
    fields = _Fields(envelope(payload, "user"))
    changes = {
        "username": _username(fields, required=False),
        "email": _email(fields, required=False),
        "password": _password(fields, required=False),
        "bio": fields.text("bio", required=False, max_length=BIO_MAX, min_length=0, nullable=True),
        "image": fields.text(
            "image", required=False, max_length=IMAGE_MAX, min_length=0, nullable=True
        ),
    }
    fields.check()
    present = {name: value for name, value in changes.items() if value is not _MISSING}
    if not present:
        raise ValidationFailed("user must contain at least one of: " + ", ".join(changes))
    return present


def _tag_list(fields: _Fields) -> Any:
    value = fields.data.get("tagList", _MISSING)
    if value is _MISSING or value is None:
        return _MISSING
    if not isinstance(value, list) or not all(
        isinstance(tag, str) and _is_unicode_text(tag) for tag in value
    ):
        fields.problems.append("tagList must be an array of strings")
        return _MISSING
    tags = sorted({tag.strip() for tag in value})
    if "" in tags:
        fields.problems.append("tagList can't contain blank tags")
        return _MISSING
    if any(len(tag) > TAG_MAX for tag in tags):
        fields.problems.append(f"tags are too long (maximum is {TAG_MAX} characters)")
        return _MISSING
    if len(tags) > TAGS_PER_ARTICLE_MAX:
        fields.problems.append(f"tagList has too many tags (maximum is {TAGS_PER_ARTICLE_MAX})")
        return _MISSING
    return tags


class NewArticle(NamedTuple):
    title: str
    description: str
    body: str
    tags: list[str]


def parse_new_article(payload: Any) -> NewArticle:
    fields = _Fields(envelope(payload, "article"))
    title = fields.text("title", required=True, max_length=TITLE_MAX)
    description = fields.text("description", required=True, max_length=DESCRIPTION_MAX)
    body = fields.text("body", required=True, max_length=ARTICLE_BODY_MAX)
    tags = _tag_list(fields)
    fields.check()
    return NewArticle(
        title=title, description=description, body=body, tags=[] if tags is _MISSING else tags
    )


def parse_article_update(payload: Any) -> dict[str, Any]:
    fields = _Fields(envelope(payload, "article"))
    changes = {
        "title": fields.text("title", required=False, max_length=TITLE_MAX),
        "description": fields.text("description", required=False, max_length=DESCRIPTION_MAX),
        "body": fields.text("body", required=False, max_length=ARTICLE_BODY_MAX),
        "tags": _tag_list(fields),
    }
    fields.check()
    present = {name: value for name, value in changes.items() if value is not _MISSING}
    if not present:
        raise ValidationFailed(
            "article must contain at least one of: title, description, body, tagList"
        )
    return present


def parse_new_comment(payload: Any) -> str:
    fields = _Fields(envelope(payload, "comment"))
    body = fields.text("body", required=True, max_length=COMMENT_BODY_MAX)
    fields.check()
    return str(body)


class Page(NamedTuple):
    limit: int
    offset: int


def parse_page(limit: str | None, offset: str | None, *, max_limit: int) -> Page:
    """`?limit=&offset=`: whole numbers; limit >= 1, clamped to max_limit however large;
    offset from 0 to OFFSET_MAX (past it no database can address a row: a 422 says so)."""
    problems = []
    parsed_limit = _whole_number(limit, DEFAULT_PAGE_SIZE)
    if parsed_limit is None or parsed_limit < 1:
        problems.append("limit must be a whole number greater than 0")
    parsed_offset = _whole_number(offset, 0)
    if parsed_offset is None or parsed_offset < 0:
        problems.append("offset must be a whole number of 0 or more")
    elif parsed_offset > OFFSET_MAX:
        problems.append(f"offset is too large (maximum is {OFFSET_MAX})")
    if problems:
        raise ValidationFailed(*problems)
    assert parsed_limit is not None and parsed_offset is not None
    return Page(limit=min(parsed_limit, max_limit), offset=parsed_offset)


def _whole_number(raw: str | None, default: int) -> int | None:
    """An optionally negative run of ASCII digits, or None. A number too long to be
    worth converting stands for any number past the bounds, keeping its sign."""
    if raw is None or raw == "":
        return default
    text = raw.strip()
    # One optional sign only: "--5" would pass an lstrip("-") check and then fail int().
    digits = text.removeprefix("-")
    if not text.isascii() or not digits.isdigit():
        return None
    if len(digits.lstrip("0")) > _LONGEST_NUMBER:
        # int() of thousands of digits is slow (and refused past 4300); any such
        # number is past every bound here, whatever its exact value.
        return -_BEYOND_BOUNDS if text.startswith("-") else _BEYOND_BOUNDS
    return int(text)
