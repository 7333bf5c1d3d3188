"""The Conduit monolith: a Flask app factory serving the whole API under /api."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, request
from flask.typing import ResponseReturnValue

from app.platform.db import Database
from app.platform.http import MAX_REQUEST_BYTES
from app.platform.read_retry import retry_read
from app.platform.runtime import Runtime
from app.platform.settings import Settings

from . import articles, comments, errors, exports, profiles, users

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

DEFAULT_STAGE_ROOT = "/$default"


class Monolith(Flask):
    """Flask, with a second attempt for a read whose database connection was lost."""

    def dispatch_request(self) -> ResponseReturnValue:
        # On Lambda, serverless-wsgi hands over the invocation's context: its remaining
        # time bounds the retry. Under `flask run` nothing does.
        context = request.environ.get("serverless.context")
        remaining = None
        if context is not None:
            remaining = lambda: context.get_remaining_time_in_millis() / 1000  # noqa: E731
        return retry_read(request.method, super().dispatch_request, remaining_seconds=remaining)


def served_at_root(wsgi_app: WSGIApplication) -> WSGIApplication:
    """API Gateway serves an HTTP API's `$default` stage at the root of its domain, but
    serverless-wsgi makes the stage name the WSGI SCRIPT_NAME whenever the Host is an
    amazonaws.com one: every URL Flask built (url_for) would start with a dead
    `/$default`. Serve such requests at the root."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("SCRIPT_NAME") == DEFAULT_STAGE_ROOT:
            environ["SCRIPT_NAME"] = ""
        return wsgi_app(environ, start_response)

    return app


def create_app(
    test_config: dict[str, Any] | None = None, *, database: Database | None = None
) -> Flask:
    """Build the monolith. `test_config` overrides environment settings (tests);
    `database` lets a caller hand in an existing Database (tests, Lambda)."""
    app = Monolith(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.wsgi_app = served_at_root(app.wsgi_app)  # type: ignore[method-assign,assignment]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    env = dict(test_config or {})
    settings = Settings.from_env(None if not env else _merged_env(env))
    # The same runtime object the dedicated functions hold (app/platform/runtime.py).
    app.extensions["conduit"] = Runtime(settings, database or Database.from_settings(settings))

    errors.init_app(app)
    for blueprint in (users.bp, profiles.bp, articles.bp, comments.bp, exports.bp):
        app.register_blueprint(blueprint, url_prefix="/api")
    return app


def _merged_env(overrides: dict[str, Any]) -> dict[str, str]:
    return {**os.environ, **{key: str(value) for key, value in overrides.items()}}
