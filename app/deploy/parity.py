"""Do two HTTP API (payload 2.0) answers to one request agree? And how to show where not.

Used wherever the new code of a route is held against the monolith's on the same request:
the shadow comparator (app/deploy/comparator.py) on sampled production reads, and the
pre-traffic hook's parity check at a switch (app/deploy/hooks.py).

Two answers agree when their status codes, the headers a client acts on, and their bodies
agree; a JSON body is compared as JSON (key order aside), anything else as text. Each
difference names its place as a JSON path (`$.user.bio`, `$.articles[0].slug`; `status`
and `headers.<name>` for the rest) and carries short excerpts of both values, redacted:
what a log line may never hold (a token, a password or its hash, an email address) is
replaced by what kind of value it was.

Nothing here imports the app, boto3, Flask or Werkzeug.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The headers a client acts on. Content-Length is API Gateway's to set; Date and the
# like differ between any two answers.
HEADERS_THAT_MATTER = (
    "content-type",
    "location",
    "www-authenticate",
    "retry-after",
    "access-control-allow-origin",
    "access-control-allow-headers",
    "access-control-allow-methods",
    "access-control-max-age",
)
EXCERPT_CHARS = 80
# At most this many differences are kept per comparison: enough to see the pattern.
MAX_DIFFERENCES = 20

# Keys whose values never reach a log line, whatever they hold.
SECRET_KEYS = frozenset(
    {"token", "password", "password_hash", "passwordhash", "authorization", "email"}
)
_EMAIL = re.compile(r"[^\s@\"']+@[^\s@\"']+\.[^\s@\"']+")
# A JWT (three base64url parts) or a password hash (argon2, bcrypt, pbkdf2, scrypt).
_JWT = re.compile(r"\beyJ[\w-]*\.[\w-]+\.[\w-]*")
_HASH = re.compile(r"\$(?:argon2(?:id|i|d)?|2[abxy]?|pbkdf2[\w-]*|scrypt)\$\S*")


@dataclass(frozen=True)
class Answer:
    """An HTTP API answer reduced to what is compared."""

    status: int | None
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or the body's text when it is not JSON
    is_json: bool


@dataclass(frozen=True)
class Difference:
    path: str
    expected: str  # excerpt of the monolith's value, redacted
    actual: str  # excerpt of the new code's value, redacted

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "monolith": self.expected, "new": self.actual}


_MISSING = object()


def answer_of(result: Any) -> Answer:
    """What a handler returned (or an invocation's decoded payload), reduced."""
    if not isinstance(result, Mapping):
        return Answer(None, {}, _text_of(result), False)
    status = result.get("statusCode")
    headers = result.get("headers") if isinstance(result.get("headers"), Mapping) else {}
    lowered = {str(key).lower(): str(value) for key, value in (headers or {}).items()}
    kept = {name: lowered[name] for name in HEADERS_THAT_MATTER if name in lowered}
    body = result.get("body")
    text = "" if body is None else str(body)
    if result.get("isBase64Encoded") is True:
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return Answer(_status(status), kept, text, False)
    try:
        return Answer(_status(status), kept, json.loads(text), True)
    except ValueError:
        return Answer(_status(status), kept, text, False)


def _status(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text_of(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def differences(expected: Answer, actual: Answer) -> list[Difference]:
    """Where `actual` (the new code's answer) departs from `expected` (the monolith's)."""
    found: list[Difference] = []
    if expected.status != actual.status:
        found.append(Difference("status", str(expected.status), str(actual.status)))
    for name in sorted(set(expected.headers) | set(actual.headers)):
        left, right = expected.headers.get(name, _MISSING), actual.headers.get(name, _MISSING)
        if left != right:
            found.append(Difference(f"headers.{name}", _excerpt(left), _excerpt(right)))
    if expected.is_json and actual.is_json:
        _walk("$", expected.body, actual.body, found, secret=False)
    elif expected.body != actual.body or expected.is_json != actual.is_json:
        found.append(Difference("body", _excerpt(expected.body), _excerpt(actual.body)))
    return found[:MAX_DIFFERENCES]


def _walk(path: str, left: Any, right: Any, found: list[Difference], *, secret: bool) -> None:
    if len(found) >= MAX_DIFFERENCES:
        return
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right), key=str):
            _walk(
                f"{path}.{key}",
                left.get(key, _MISSING),
                right.get(key, _MISSING),
                found,
                secret=secret or str(key).lower() in SECRET_KEYS,
            )
        return
    if isinstance(left, list) and isinstance(right, list):
        for index in range(max(len(left), len(right))):
            _walk(
                f"{path}[{index}]",
                left[index] if index < len(left) else _MISSING,
                right[index] if index < len(right) else _MISSING,
                found,
                secret=secret,
            )
        return
    # bool is an int to Python, never to JSON: true and 1 differ.
    if left == right and type(left) is type(right):
        return
    found.append(Difference(path, _excerpt(left, secret=secret), _excerpt(right, secret=secret)))


def redact(text: str) -> str:
    """`text` with emails, JWTs and password hashes replaced by their kind."""
    text = _JWT.sub("<token>", text)
    text = _HASH.sub("<password-hash>", text)
    return _EMAIL.sub("<email>", text)


def _excerpt(value: Any, *, secret: bool = False) -> str:
    if value is _MISSING:
        return "(absent)"
    if secret and value is not None:
        return f"<redacted {type(value).__name__}>"
    if isinstance(value, dict | list):
        # A whole subtree on one side only: its keys may be secret too.
        text = json.dumps(_redact_tree(value), ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    text = redact(text)
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 3] + "..."


def _redact_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: (
                f"<redacted {type(item).__name__}>"
                if str(key).lower() in SECRET_KEYS and item is not None
                else _redact_tree(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact_tree(item) for item in value]
    return value
