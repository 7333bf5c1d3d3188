"""Every error leaves the monolith as {"errors": {"body": [...]}}; CORS on every answer."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from app.core.errors import DomainError
from app.platform.http import (
    CORS_HEADERS,
    UNAVAILABLE_MESSAGE,
    error_payload,
    is_database_unavailable,
    status_for,
)
from app.platform.observability import bind_invocation, logger

from .context import respond

_HTTP_MESSAGES = {
    404: "resource not found",
    405: "method not allowed",
    413: "request body is too large",
}


def _domain_error(error: DomainError) -> Response:
    return respond(error_payload(*error.messages), status_for(error))


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    message = _HTTP_MESSAGES.get(status) or (error.description or error.name).lower()
    response = respond(error_payload(message), status)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _unexpected_error(error: Exception) -> Response:
    if is_database_unavailable(error):
        logger.warning("database unavailable", error=str(error))
        response = respond(error_payload(UNAVAILABLE_MESSAGE), 503)
        response.headers["Retry-After"] = "1"
        return response
    logger.exception("unhandled error", method=request.method, path=request.path)
    return respond(error_payload("internal server error"), 500)


def _before_request() -> Response | None:
    # On Lambda, serverless-wsgi hands over the event and context in the WSGI environ.
    environ = request.environ
    if "serverless.context" in environ:
        bind_invocation(environ.get("serverless.event"), environ["serverless.context"])
    # Answer CORS preflight for any path before routing, so unknown paths don't 404/405.
    if request.method == "OPTIONS":
        return Response(status=204)
    return None


def _add_cors(response: Response) -> Response:
    response.headers.update(CORS_HEADERS)
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.before_request(_before_request)
    app.after_request(_add_cors)
