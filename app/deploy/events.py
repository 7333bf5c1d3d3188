"""The one builder of API Gateway HTTP API (payload 2.0) events, and the one Lambda context
double. The smoke checks, the tests and the bench all build their requests here.

Nothing here imports the app, Flask or Werkzeug.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
API_ID = "a1b2c3d4e5"
# The default endpoint's host. serverless-wsgi sets SCRIPT_NAME to "/<stage>" when the
# Host ends in amazonaws.com (unless STRIP_STAGE_PATH is set); routing uses PATH_INFO.
API_HOST = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
SOURCE_IP = "203.0.113.10"
USER_AGENT = "conduit-tests/1.0"

QueryValue = str | int | Sequence[str | int]
Query = Mapping[str, QueryValue] | Sequence[tuple[str, str | int]] | str
HeaderValue = str | Sequence[str]


def _query_pairs(query: Query) -> list[tuple[str, str]]:
    if isinstance(query, str):
        raise TypeError("a raw query string is passed through as it is")
    items = query.items() if isinstance(query, Mapping) else query
    pairs: list[tuple[str, str]] = []
    for key, value in items:
        if isinstance(value, str | int):
            pairs.append((key, str(value)))
        else:
            pairs.extend((key, str(item)) for item in value)
    return pairs


def _header_value(value: HeaderValue) -> str:
    # HTTP API v2 joins repeated headers with commas into one value.
    return value if isinstance(value, str) else ",".join(value)


def path_parameters(route_path: str, path: str) -> dict[str, str]:
    """`{name}` segments of `route_path` (/api/articles/{slug}) as found in `path` (decoded).

    ValueError when the path does not fit the route."""
    pattern, actual = route_path.strip("/").split("/"), path.strip("/").split("/")
    if len(pattern) != len(actual):
        raise ValueError(f"path {path!r} does not match route {route_path!r}")
    found: dict[str, str] = {}
    for segment, value in zip(pattern, actual, strict=True):
        if segment.startswith("{") and segment.endswith("}"):
            found[segment[1:-1]] = value
        elif segment != value:
            raise ValueError(f"path {path!r} does not match route {route_path!r}")
    return found


def http_event(
    method: str,
    path: str,
    *,
    query: Query | None = None,
    headers: Mapping[str, HeaderValue] | None = None,
    body: str | bytes | Mapping[str, Any] | Sequence[Any] | None = None,
    route: str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event.

    `route` is the route's path as declared in serverless.yml (`/api/articles/{slug}`): the
    event is then shaped as API Gateway hands it to a dedicated function (`routeKey`
    "GET /api/articles/{slug}", `pathParameters`). None: the `$default` route.

    `path` is the path as sent on the wire (percent-encoded where needed); `query` is a
    mapping (a list value repeats the key), a list of pairs, or a raw query string. As API
    Gateway does: `rawQueryString` keeps every pair, `queryStringParameters` joins repeated
    keys' values with commas and is left out when there is no query; header names are
    lower-cased and repeated values joined with commas; a `Cookie` header moves to `cookies`.

    `body`: a str is sent as is; a dict or list is sent as JSON (with a JSON content type
    unless one is given); bytes are sent base64-encoded with `isBase64Encoded: true`, as
    API Gateway does for binary media. With no body the `body` key is left out.
    """
    method = method.upper()
    now = datetime.now(UTC)
    request_id = base64.b64encode(secrets.token_bytes(12)).decode("ascii")
    route_key = f"{method} {route}" if route is not None else "$default"

    lowered = {name.lower(): _header_value(value) for name, value in (headers or {}).items()}
    is_base64 = False
    raw_body: str | None = None
    if isinstance(body, bytes):
        raw_body, is_base64 = base64.b64encode(body).decode("ascii"), True
        length = len(body)
    elif isinstance(body, str):
        raw_body, length = body, len(body.encode("utf-8"))
    elif body is not None:
        raw_body = json.dumps(body, ensure_ascii=False)
        length = len(raw_body.encode("utf-8"))
        lowered.setdefault("content-type", "application/json")

    event_headers = {
        "accept": "*/*",
        "host": API_HOST,
        "user-agent": USER_AGENT,
        "x-amzn-trace-id": f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}",
        "x-forwarded-for": SOURCE_IP,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    if raw_body is not None:
        event_headers["content-length"] = str(length)
    event_headers |= lowered
    cookie_header = event_headers.pop("cookie", None)

    if isinstance(query, str):
        raw_query = query
        pairs = parse_qsl(query, keep_blank_values=True)
    else:
        pairs = _query_pairs(query or ())
        raw_query = urlencode(pairs, doseq=True)
    parameters: dict[str, str] = {}
    for key, value in pairs:
        parameters[key] = f"{parameters[key]},{value}" if key in parameters else value

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": event_headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": event_headers["host"],
            "domainPrefix": event_headers["host"].split(".", 1)[0],
            "http": {
                "method": method,
                "path": unquote(path),
                "protocol": "HTTP/1.1",
                "sourceIp": SOURCE_IP,
                "userAgent": event_headers["user-agent"],
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": is_base64,
    }
    if cookie_header is not None:
        event["cookies"] = [part.strip() for part in cookie_header.split(";") if part.strip()]
    if parameters:
        event["queryStringParameters"] = parameters
    if route is not None:
        found = path_parameters(route, unquote(path))
        if found:
            event["pathParameters"] = found
    if raw_body is not None:
        event["body"] = raw_body
    return event


@dataclass
class LambdaContext:
    """The parts of the Lambda runtime's context object that code reads.

    Make one per invocation (each has its own `aws_request_id`); the remaining time
    counts down from creation to `timeout_seconds`.
    """

    function_name: str = "conduit-test-monolith"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    timeout_seconds: float = 30.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = "2024/01/01/[$LATEST]00000000000000000000000000000000"
    _deadline: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.invoked_function_arn:
            self.invoked_function_arn = (
                f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"
            )
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
