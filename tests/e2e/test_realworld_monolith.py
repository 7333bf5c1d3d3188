"""The public RealWorld suite against `make run`'s server (`flask run` of
scripts/local_api.py) on a fresh database, per backend: the monolith, with the routes
retired from it (custom.migration.retired) served by their functions, passes it whole."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.deploy.registry import load_registry
from tests.e2e.servers import (
    REPO,
    assert_conforms,
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
        "scripts.local_api",
        "run",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with serving(command, port=port, env=env, log=tmp_path / "flask.log") as api:
        result = run_realworld_suite(api, tmp_path / "newman.json")

    retired = realworld_requests_to(load_registry().declared("retired"))
    assert retired, "the suite has no request to a retired route"
    assert_conforms(result, f"make run [{backend}]")
