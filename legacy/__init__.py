"""The Conduit monolith: a Flask app factory serving the whole API under /api."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from app.core.passwords import Passwords
from app.core.tokens import TokenIssuer
from app.platform.db import Database
from app.platform.http import MAX_REQUEST_BYTES
from app.platform.settings import Settings

from . import articles, comments, errors, exports, profiles, users
from .context import Conduit


def create_app(
    test_config: dict[str, Any] | None = None, *, database: Database | None = None
) -> Flask:
    """Build the monolith. `test_config` overrides environment settings (tests);
    `database` lets a caller hand in an existing Database (tests, Lambda)."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    env = dict(test_config or {})
    settings = Settings.from_env(None if not env else _merged_env(env))
    app.extensions["conduit"] = Conduit(
        settings=settings,
        database=database or Database.from_settings(settings),
        tokens=TokenIssuer(settings.jwt_secret, settings.jwt_ttl_seconds),
        passwords=Passwords(
            time_cost=settings.password_hashing.time_cost,
            memory_cost_kib=settings.password_hashing.memory_cost_kib,
            parallelism=settings.password_hashing.parallelism,
        ),
    )

    errors.init_app(app)
    for blueprint in (users.bp, profiles.bp, articles.bp, comments.bp, exports.bp):
        app.register_blueprint(blueprint, url_prefix="/api")
    return app


def _merged_env(overrides: dict[str, Any]) -> dict[str, str]:
    return {**os.environ, **{key: str(value) for key, value in overrides.items()}}
