"""Smoke checks the CodeDeploy hooks (app/functions/deploy_hooks.py) run against a function.

Module-level data: for each function, by its logical name in serverless.yml, a few HTTP API
(payload 2.0) requests with the status code and JSON shape the answer must have. Only reads,
and only of things that hold on any database: an empty one, or production's. Requests that
must answer 404 use a slug or a username that the application can never create, so the
check never depends on data.

A deployed function is named `conduit-<stage>-<logical name>`; `checks_for` finds its
checks by that suffix. A function with no entry here has no checks, and the hooks report
Failed for it: a deployment is never let through untested by default.

When a route is retired from the monolith (DESIGN.md, "Cutover"), move its check off the
monolith's list.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

# A problem with a response body, or None when the body has the expected shape.
ShapeCheck = Callable[[Any], str | None]

USER_AGENT = "conduit-deploy-hook"

# Slugs are made of [a-z0-9-] only (app.core.services.articles.slugify): one with '_'
# can never exist.
MISSING_SLUG = "no_such_article_conduit_smoke_test"
# Usernames may hold letters, digits, '_', '.' and '-' only (app.core.validation): one
# with '~' can never exist.
MISSING_USERNAME = "no~such~user~conduit~smoke~test"


@dataclass(frozen=True)
class SmokeCheck:
    """One request, and what the answer must be."""

    name: str
    event: Mapping[str, Any]
    status: int
    shape: ShapeCheck


def _path_parameters(route: str, path: str) -> dict[str, str]:
    """`{slug}` etc. of `route` (e.g. /api/articles/{slug}) as found in `path`."""
    route_parts, path_parts = route.strip("/").split("/"), path.strip("/").split("/")
    if len(route_parts) != len(path_parts):
        raise ValueError(f"path {path!r} does not match route {route!r}")
    found: dict[str, str] = {}
    for pattern, value in zip(route_parts, path_parts, strict=True):
        if pattern.startswith("{") and pattern.endswith("}"):
            found[pattern[1:-1]] = value
        elif pattern != value:
            raise ValueError(f"path {path!r} does not match route {route!r}")
    return found


def http_event(
    method: str,
    path: str,
    *,
    query: str = "",
    route: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event, as API Gateway sends it to a function.

    `route` is the route's path as in serverless.yml (`/api/articles/{slug}`) for a
    dedicated function; None for the monolith, which is reached through `$default`.
    """
    route_key = f"{method} {route}" if route is not None else "$default"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"accept": "application/json", "user-agent": USER_AGENT, **(headers or {})},
        "requestContext": {
            "apiId": "smoke-test",
            "domainName": "smoke-test.invalid",
            "domainPrefix": "smoke-test",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": USER_AGENT,
            },
            "requestId": "smoke-test",
            "routeKey": route_key,
            "stage": "$default",
            "time": "01/Jan/2025:00:00:00 +0000",
            "timeEpoch": 1735689600000,
        },
        "isBase64Encoded": False,
    }
    if query:
        # API Gateway joins repeated parameters with a comma.
        parameters: dict[str, str] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            parameters[key] = f"{parameters[key]},{value}" if key in parameters else value
        event["queryStringParameters"] = parameters
    if route is not None:
        found = _path_parameters(route, path)
        if found:
            event["pathParameters"] = found
    return event


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


def _tags(route: str | None) -> SmokeCheck:
    return SmokeCheck("list tags", http_event("GET", "/api/tags", route=route), 200, tags_shape)


def _articles_page(route: str | None) -> SmokeCheck:
    return SmokeCheck(
        "list articles, limit=1",
        http_event("GET", "/api/articles", query="limit=1", route=route),
        200,
        articles_page_shape(1),
    )


def _refused(name: str, path: str, status: int, route: str | None) -> SmokeCheck:
    """A request the code must turn down with `status` and the spec's error body."""
    return SmokeCheck(name, http_event("GET", path, route=route), status, error_shape)


def _feed_without_token(route: str | None) -> SmokeCheck:
    return _refused("feed without a token", "/api/articles/feed", 401, route)


def _missing_article(route: str | None) -> SmokeCheck:
    return _refused("unknown article", f"/api/articles/{MISSING_SLUG}", 404, route)


def _missing_article_comments(route: str | None) -> SmokeCheck:
    path = f"/api/articles/{MISSING_SLUG}/comments"
    return _refused("comments of an unknown article", path, 404, route)


def _missing_profile(route: str | None) -> SmokeCheck:
    return _refused("unknown profile", f"/api/profiles/{MISSING_USERNAME}", 404, route)


def _current_user_without_token(route: str | None) -> SmokeCheck:
    return _refused("current user without a token", "/api/user", 401, route)


# Keyed by the function's logical name in serverless.yml. The route given to each check is
# the function's own route in serverless.yml (None: the monolith's catch-all).
SMOKE_CHECKS: Mapping[str, tuple[SmokeCheck, ...]] = {
    "monolith": (_tags(None), _articles_page(None), _missing_article(None)),
    "listTags": (_tags("/api/tags"),),
    "listArticles": (_articles_page("/api/articles"),),
    "getFeed": (_feed_without_token("/api/articles/feed"),),
    "getArticle": (_missing_article("/api/articles/{slug}"),),
    "listComments": (_missing_article_comments("/api/articles/{slug}/comments"),),
    "getProfile": (_missing_profile("/api/profiles/{username}"),),
    # Pinned: its own route and alias, still running the monolith's code.
    "getCurrentUser": (_current_user_without_token("/api/user"),),
}


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


def checks_for(name_or_arn: str) -> tuple[str, tuple[SmokeCheck, ...]] | None:
    """(logical name, checks) for a deployed function, or None when it has no checks.

    Matches the whole name or a `-<logical name>` suffix; the longest logical name wins.
    """
    name = function_name_of(name_or_arn)
    for logical in sorted(SMOKE_CHECKS, key=len, reverse=True):
        if name == logical or name.endswith(f"-{logical}"):
            return logical, SMOKE_CHECKS[logical]
    return None
