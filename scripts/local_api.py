"""The whole API on one local server, for `make run`: the monolith, plus the routes retired
from it, served by their dedicated functions.

Once a route is retired (its view deleted, listed under custom.migration.retired), the
monolith alone no longer answers it; on AWS, API Gateway sends it to its function. Here a
small WSGI layer does the same for the retired routes: it turns the request into the HTTP
API event the function receives (app.deploy.events), calls the function's handler and
turns its answer back. Every other request reaches the monolith untouched. The functions
read the same environment as the monolith (DATABASE_URL, JWT_SECRET, ...), so both serve
one database.

    flask --app scripts.local_api run
"""

from __future__ import annotations

import base64
import importlib
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from app.deploy.events import LambdaContext, http_event
from app.deploy.registry import Function, Registry, load_registry
from legacy import create_app

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_REASONS = {200: "OK", 201: "Created", 204: "No Content", 401: "Unauthorized", 404: "Not Found"}


class RetiredRoutes:
    """WSGI middleware: requests to a retired route go to the function that owns it."""

    def __init__(self, monolith: WsgiApp, registry: Registry) -> None:
        self.monolith = monolith
        self.registry = registry
        self.retired = set(registry.declared("retired"))
        self._handlers: dict[str, Callable[..., dict[str, Any]]] = {}

    def owner(self, method: str, path: str) -> Function | None:
        function = self.registry.owner(method, path)
        if function is None or function.module is None:
            return None
        if not any(route in self.retired for route in function.routes):
            return None
        return function

    def handler(self, function: Function) -> Callable[..., dict[str, Any]]:
        if function.name not in self._handlers:
            module = importlib.import_module(str(function.module))
            self._handlers[function.name] = module.handler
        return self._handlers[function.name]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        function = self.owner(method, path)
        if function is None:
            return self.monolith(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else None
        body: str | bytes | None = raw
        if raw is not None:
            try:
                body = raw.decode("utf-8")  # API Gateway passes text bodies as text
            except UnicodeDecodeError:
                body = raw
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        event = http_event(
            method,
            quote(path),
            query=environ.get("QUERY_STRING", ""),
            headers=headers,
            body=body,
            route=function.route.path,
        )
        answer = self.handler(function)(event, LambdaContext(function_name=function.name))
        status = int(answer["statusCode"])
        payload = answer.get("body") or ""
        data = base64.b64decode(payload) if answer.get("isBase64Encoded") else payload.encode()
        start_response(
            f"{status} {_REASONS.get(status, 'Status')}",
            [(name, str(value)) for name, value in (answer.get("headers") or {}).items()],
        )
        return [data]


app = create_app()
app.wsgi_app = RetiredRoutes(app.wsgi_app, load_registry())  # type: ignore[method-assign]
