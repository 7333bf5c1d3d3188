"""Smoke checks the CodeDeploy hooks (app/deploy/hooks.py) run against a function.

A check is one HTTP API (payload 2.0) request and the status code and JSON shape its
answer must have. Checks never depend on data (they hold on an empty database and on
production's) and never write: a request that must answer 404 names a slug or a username
the application can never create, and a write is sent without a token or a body (401,
or 422 where no token is needed).

Each function's checks are derived from its routes (`route_checks`) and from the
features it declares under `uses:` (`feature_checks`), so that a feature whose settings
are wrong fails the deployment, not the first user who needs it; an entry in
serverless.yml may add its own checks under `smoke:`. The deployed hooks learn each
function's routes, features and extra checks from DEDICATED_FUNCTIONS, a JSON manifest
the osls plugin scripts/serverless-dedicated-functions.js builds from serverless.yml
(app.deploy.registry builds the same one for the tests). A function with no checks fails
its deployment: none is let through untested.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.deploy.events import http_event

# A problem with a response body, or None when the body has the expected shape.
ShapeCheck = Callable[[Any], str | None]

USER_AGENT = "conduit-deploy-hook"
MANIFEST_VARIABLE = "DEDICATED_FUNCTIONS"

# Slugs are made of [a-z0-9-] only (app.core.services.articles.slugify): one with '_'
# can never exist.
MISSING_SLUG = "no_such_article_conduit_smoke_test"
# Usernames may hold letters, digits, '_', '.' and '-' only (app.core.validation): one
# with '~' can never exist.
MISSING_USERNAME = "no~such~user~conduit~smoke~test"
# Row ids start at 1.
MISSING_ID = "0"
# A value for each path parameter that can never name anything.
NEVER_EXISTS = {
    "slug": MISSING_SLUG,
    "username": MISSING_USERNAME,
    "id": MISSING_ID,
    "comment_id": MISSING_ID,
}


@dataclass(frozen=True)
class SmokeCheck:
    """One request, and what the answer must be."""

    name: str
    event: Mapping[str, Any]
    status: int
    shape: ShapeCheck
    # Other statuses that pass too (a write refused either way, say).
    also: tuple[int, ...] = ()

    @property
    def statuses(self) -> tuple[int, ...]:
        return (self.status, *self.also)


def smoke_event(
    method: str,
    path: str,
    *,
    query: str = "",
    route: str | None = None,
    authorization: str | None = None,
) -> dict[str, Any]:
    """A smoke request: `route` is the route's path for a dedicated function, None for the
    monolith's catch-all."""
    headers = {"accept": "application/json", "user-agent": USER_AGENT}
    if authorization is not None:
        headers["authorization"] = authorization
    return http_event(method, path, query=query, route=route, headers=headers)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forged_token() -> str:
    """A well-formed HS256 token for user 1, unexpired, signed with a key that is not the
    signing key: only a function that has read its signing key can tell, and refuse it."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = _b64url(json.dumps({"sub": "1", "exp": 4102444800}).encode())
    key = b"conduit-smoke-check: not the signing key"
    signature = hmac.new(key, f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{_b64url(signature)}"


def stamped(event: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `event` with a fresh request id and time, to find it in the target's logs."""
    fresh = copy.deepcopy(dict(event))
    now_ms = int(time.time() * 1000)
    context = fresh["requestContext"]
    context["requestId"] = f"smoke-{uuid.uuid4()}"
    context["timeEpoch"] = now_ms
    context["time"] = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now_ms / 1000))
    return fresh


# --- shapes -------------------------------------------------------------------------


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def error_shape(body: Any) -> str | None:
    """{"errors": {"body": ["message", ...]}} with at least one message."""
    errors = body.get("errors") if isinstance(body, dict) else None
    messages = errors.get("body") if isinstance(errors, dict) else None
    if not _is_str_list(messages) or not messages:
        return 'expected {"errors": {"body": [str, ...]}}'
    return None


def tags_shape(body: Any) -> str | None:
    """{"tags": [str, ...]}"""
    if not isinstance(body, dict) or not _is_str_list(body.get("tags")):
        return 'expected {"tags": [str, ...]}'
    return None


def articles_page_shape(limit: int) -> ShapeCheck:
    """{"articles": [article, ...] (at most `limit`), "articlesCount": int}"""

    def check(body: Any) -> str | None:
        if not isinstance(body, dict):
            return "expected a JSON object"
        articles, count = body.get("articles"), body.get("articlesCount")
        if not isinstance(articles, list):
            return 'expected "articles" to be a list'
        if isinstance(count, bool) or not isinstance(count, int):
            return 'expected "articlesCount" to be an integer'
        if len(articles) > limit:
            return f"expected at most {limit} article(s) (limit={limit}), got {len(articles)}"
        if count < len(articles):
            return f'"articlesCount" {count} is less than the {len(articles)} article(s) listed'
        for article in articles:
            if not (
                isinstance(article, dict)
                and isinstance(article.get("slug"), str)
                and isinstance(article.get("author"), dict)
                and _is_str_list(article.get("tagList"))
            ):
                return 'expected each article to have "slug", "author" and "tagList"'
        return None

    return check


# --- checks -------------------------------------------------------------------------


def any_object(body: Any) -> str | None:
    return None if isinstance(body, dict) else "expected a JSON object"


SHAPES: Mapping[str, ShapeCheck] = {
    "error": error_shape,
    "tags": tags_shape,
    "articles": articles_page_shape(1),
    "object": any_object,
}

# Reads without path parameters whose answer holds on any database: what to ask, and the
# shape of the answer. Any other read without parameters needs a token (401 without one).
OPEN_LISTS: Mapping[str, tuple[str, str]] = {
    "/api/tags": ("", "tags"),
    "/api/articles": ("limit=1", "articles"),
}

# The monolith keeps registration and login (README, "Migration status"): requests that
# it alone answers, and that can never write.
MONOLITH_CHECKS = (
    SmokeCheck(
        "login with an empty body",
        {**smoke_event("POST", "/api/users/login"), "body": "{}"},
        422,
        error_shape,
    ),
    SmokeCheck("unknown route", smoke_event("GET", "/api/no-such-route"), 404, error_shape),
    SmokeCheck(
        "the signing key: a forged token is refused",
        smoke_event("GET", "/api/user", authorization=f"Token {forged_token()}"),
        401,
        error_shape,
    ),
    # The export routes resolve the feature's settings (EXPORTS_*) before credentials.
    SmokeCheck(
        "exports: the settings resolve, then no token is refused",
        smoke_event("POST", "/api/user/exports"),
        401,
        error_shape,
    ),
)


def _never_existing(route: str) -> str | None:
    """The route's path with each parameter set to a value that can never name anything;
    None when a parameter has no such value."""
    names = [seg.strip("{}+") for seg in route.strip("/").split("/") if seg.startswith("{")]
    if any(name not in NEVER_EXISTS for name in names):
        return None
    path = route
    for name in names:
        path = path.replace("{" + name + "}", NEVER_EXISTS[name])
    return path


def route_checks(route_key: str) -> tuple[SmokeCheck, ...]:
    """The checks a route gets by default: () when none can be derived (a path parameter
    with no value that can never exist)."""
    if route_key.strip() in ("*", "$default"):
        return MONOLITH_CHECKS
    method, _, route = route_key.partition(" ")
    path = _never_existing(route)
    if path is None:
        return ()
    if method not in ("GET", "HEAD"):
        # No token and no body: refused either way, never written. 401 where the route
        # needs a token; 422 (nothing to read) where it does not, as registration.
        return (
            SmokeCheck(
                f"{route_key} without a token or a body",
                smoke_event(method, path, route=route),
                401,
                error_shape,
                also=(422,),
            ),
        )
    if path != route:  # it has path parameters
        return (
            SmokeCheck(
                f"{route_key}, nothing there",
                smoke_event(method, path, route=route),
                404,
                error_shape,
            ),
        )
    if route in OPEN_LISTS:
        query, shape = OPEN_LISTS[route]
        event = smoke_event(method, path, query=query, route=route)
        return (SmokeCheck(f"{route_key}", event, 200, SHAPES[shape]),)
    return (
        SmokeCheck(
            f"{route_key} without a token", smoke_event(method, path, route=route), 401, error_shape
        ),
    )


def _signing_key_check(route_key: str) -> SmokeCheck | None:
    """signingKey: the route asked with a forged token must answer 401. Credentials are
    checked before anything is read or written, so this holds on any route that reads
    tokens; a function that cannot read its key answers 500 instead."""
    method, _, route = route_key.partition(" ")
    path = _never_existing(route)
    if path is None:
        return None
    event = smoke_event(method, path, route=route, authorization=f"Token {forged_token()}")
    name = f"{route_key}: the signing key refuses a forged token"
    return SmokeCheck(name, event, 401, error_shape)


# What exercises each feature an entry may declare under `uses:`, on one of its routes.
FEATURE_CHECKS: Mapping[str, Callable[[str], SmokeCheck | None]] = {
    "signingKey": _signing_key_check,
}


def feature_checks(route_key: str, uses: Iterable[str]) -> tuple[SmokeCheck, ...]:
    """The checks that make a function use each declared feature (none for a feature that
    needs no check of its own: its IAM statements are all it declares)."""
    checks = (FEATURE_CHECKS[feature](route_key) for feature in uses if feature in FEATURE_CHECKS)
    return tuple(check for check in checks if check is not None)


def declared_check(route_key: str, spec: Mapping[str, Any]) -> SmokeCheck:
    """An entry's own check: {name, path, status, query?, method?, shape?} on its route."""
    method, _, route = route_key.partition(" ")
    status = int(spec["status"])
    shape = str(spec.get("shape") or ("error" if status >= 400 else "object"))
    if shape not in SHAPES:
        raise ValueError(f"smoke check {spec.get('name')!r}: unknown shape {shape!r}")
    event = smoke_event(
        str(spec.get("method") or method),
        str(spec["path"]),
        query=str(spec.get("query") or ""),
        route=None if route_key == "$default" else route,
    )
    return SmokeCheck(str(spec.get("name") or spec["path"]), event, status, SHAPES[shape])


def function_checks(entry: Mapping[str, Any]) -> tuple[SmokeCheck, ...]:
    """Every check of one manifest entry: {"routes": [...], "smoke": [...], "uses": [...]}."""
    routes = list(entry.get("routes") or [])
    checks: list[SmokeCheck] = []
    for route_key in routes:
        checks.extend(route_checks(route_key))
    if routes and routes[0] not in ("*", "$default"):
        checks.extend(feature_checks(routes[0], entry.get("uses") or ()))
    for spec in entry.get("smoke") or ():
        checks.append(declared_check(routes[0] if routes else "$default", spec))
    return tuple(checks)


def manifest_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    raw = environ.get(MANIFEST_VARIABLE)
    if not raw:
        raise LookupError(f"{MANIFEST_VARIABLE} is not set: the hooks cannot tell what to test")
    manifest: dict[str, Any] = json.loads(raw)
    return manifest


def function_name_of(name_or_arn: str) -> str:
    """The bare function name from a name, a (partial) ARN, or either with a qualifier.

    `name[:qualifier]`, `account:function:name[:qualifier]`,
    `arn:partition:lambda:region:account:function:name[:qualifier]`.
    """
    parts = name_or_arn.split(":")
    if parts[0] == "arn" and len(parts) >= 7:
        return parts[6]
    if len(parts) >= 3 and parts[1] == "function":
        return parts[2]
    return parts[0]


def checks_for(
    name_or_arn: str, manifest: Mapping[str, Any]
) -> tuple[str, tuple[SmokeCheck, ...]] | None:
    """(logical name, checks) for a deployed function, or None when the manifest has no
    entry for it.

    Matches the whole name or a `-<logical name>` suffix; the longest logical name wins.
    """
    name = function_name_of(name_or_arn)
    for logical in sorted(manifest, key=len, reverse=True):
        if name == logical or name.endswith(f"-{logical}"):
            return logical, function_checks(manifest[logical])
    return None
