"""Every error leaves the monolith as {"errors": {"body": [...]}}; CORS on every answer."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from app.platform.http import (
    CORS_HEADERS,
    NOT_FOUND_MESSAGE,
    TOO_LARGE_MESSAGE,
    error_answer,
    error_payload,
)
from app.platform.observability import bind_invocation

from .context import respond

_HTTP_MESSAGES = {
    404: NOT_FOUND_MESSAGE,
    405: "method not allowed",
    413: TOO_LARGE_MESSAGE,
}


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    message = _HTTP_MESSAGES.get(status) or (error.description or error.name).lower()
    response = respond(error_payload(message), status)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _error(error: Exception) -> Response:
    answer = error_answer(error, method=request.method, path=request.path)
    response = respond(answer.payload, answer.status)
    response.headers.update(answer.headers)
    return response


def _before_request() -> Response | None:
    # On Lambda, serverless-wsgi hands over the event and context in the WSGI environ.
    environ = request.environ
    if "serverless.context" in environ:
        bind_invocation(environ.get("serverless.event"), environ["serverless.context"])
    # Answer CORS preflight for any path before routing, so unknown paths don't 404/405.
    if request.method == "OPTIONS":
        return Response(status=204)
    # A path with an empty segment names nothing, as API Gateway's routes and the
    # dedicated functions see it. Werkzeug would match `//api/tags` as `/api/tags` and
    # answer `/api//tags` with an HTML redirect to an address of its own making.
    if "//" in request.environ.get("PATH_INFO", ""):
        raise NotFound()
    return None


def _add_cors(response: Response) -> Response:
    response.headers.update(CORS_HEADERS)
    return response


def init_app(app: Flask) -> None:
    # Werkzeug's own errors (404, 405, 413) first; everything else, domain errors
    # included, through the shared mapping.
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _error)
    app.before_request(_before_request)
    app.after_request(_add_cors)
