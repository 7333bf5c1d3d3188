"""A test client that sends each request to whoever owns its route in serverless.yml.

API Gateway hands a request to the most specific route that matches it: a dedicated
function's, or the monolith's catch-all. `RoutedClient` does the same for the tests: a
request whose route is owned by a function running new code is turned into the HTTP API
event that function receives (app.deploy.events) and handled by its module, bound to
the test's database; any other request goes to the monolith through Flask's test client.
So the API behaviour tests hold the code that really serves each route, and retiring a
monolith view leaves them standing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

from app.deploy.events import LambdaContext, http_event
from app.deploy.registry import Registry, load_registry
from app.platform.db import Database

REGISTRY: Registry = load_registry()


class FunctionResponse:
    """The parts of a Flask test response the tests read, from a Lambda proxy answer."""

    def __init__(self, answer: Mapping[str, Any], function: str) -> None:
        self.function = function
        self.status_code = int(answer["statusCode"])
        # Case-insensitive, as Flask's are.
        self.headers = Headers([(str(k), str(v)) for k, v in (answer.get("headers") or {}).items()])
        body = answer.get("body") or ""
        self.data = base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def json(self) -> Any:
        return json.loads(self.data) if self.data else None

    def get_json(self) -> Any:
        return self.json

    def get_data(self, as_text: bool = False) -> Any:
        return self.data.decode("utf-8") if as_text else self.data


class RoutedClient:
    """`get/post/put/delete/open` as FlaskClient has them, routed as API Gateway would."""

    def __init__(self, flask_client: FlaskClient, database: Database) -> None:
        self.flask = flask_client
        self.database = database
        self.served_by: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.flask, name)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.open(path, method="GET", **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.open(path, method="POST", **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.open(path, method="PUT", **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.open(path, method="DELETE", **kwargs)

    def open(self, path: str, method: str = "GET", **kwargs: Any) -> Any:
        raw_path, _, raw_query = path.partition("?")
        function = REGISTRY.owner(method, raw_path)
        if function is None or function.module is None or not _plain(kwargs):
            self.served_by.append("monolith")
            return self.flask.open(path, method=method, **kwargs)
        self.served_by.append(function.name)
        return self._invoke(function, method, raw_path, raw_query, **kwargs)

    def _invoke(
        self,
        function: Any,
        method: str,
        path: str,
        raw_query: str,
        *,
        json: Any = None,
        data: str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
        query_string: Mapping[str, Any] | None = None,
    ) -> FunctionResponse:
        from tests.support.functions import import_function, runtime_on

        query = raw_query or (urlencode(query_string, doseq=True) if query_string else "")
        all_headers = dict(headers or {})
        if content_type is not None:
            all_headers["content-type"] = content_type
        body: Any = json if json is not None else data
        event = http_event(
            method, path, query=query, headers=all_headers, body=body, route=function.route.path
        )
        module = import_function(str(function.module_name))
        saved = module.runtime
        module.runtime = runtime_on(self.database)
        try:
            answer = module.handler(
                event, LambdaContext(function_name=f"conduit-test-{function.name}")
            )
        finally:
            module.runtime = saved
        return FunctionResponse(answer, function.name)


def _plain(kwargs: Mapping[str, Any]) -> bool:
    """Only what an HTTP request carries; anything else is Flask-specific (environ tricks)."""
    return set(kwargs) <= {"json", "data", "headers", "content_type", "query_string"}
