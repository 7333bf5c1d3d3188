"""The public RealWorld suite against `flask run` on a fresh database, per backend.

`flask run` serves the monolith alone: every route but the retired ones (listed in
custom.migration.retired), whose views are gone. The suite passes but for the requests to
those; through serverless-offline (test_realworld_offline.py) it passes whole."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.deploy.registry import load_registry
from tests.e2e.servers import (
    REALWORLD_ASSERTIONS,
    REPO,
    free_port,
    realworld_requests_to,
    run_realworld_suite,
    serving,
)

pytestmark = pytest.mark.e2e

BIN = REPO / ".venv" / "bin"


def test_realworld_suite_passes_against_flask_run(
    backend: str, fresh_database_url: Any, tmp_path: Path
) -> None:
    env = {"APP_ENV": "local", "DATABASE_URL": fresh_database_url(backend)}
    subprocess.run(
        [str(BIN / "alembic"), "upgrade", "head"],
        cwd=REPO,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    port = free_port()
    command = [
        str(BIN / "flask"),
        "--app",
        "legacy.wsgi",
        "run",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with serving(command, port=port, env=env, log=tmp_path / "flask.log") as api:
        result = run_realworld_suite(api, tmp_path / "newman.json")

    retired = realworld_requests_to(load_registry().declared("retired"))
    print(f"newman [{backend}]: {result.assertions} assertions, {result.failed} failed")
    assert retired, "the suite has no request to a retired route"
    assert {failure.split(": ", 1)[0] for failure in result.failures} == set(retired)
    # Every assertion of the other requests ran and passed.
    passed = result.assertions - result.failed
    assert passed >= REALWORLD_ASSERTIONS - sum(retired.values())
