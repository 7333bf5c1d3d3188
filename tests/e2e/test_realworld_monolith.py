"""The public RealWorld suite against `flask run` on a fresh database, per backend."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.servers import REPO, assert_conforms, free_port, run_realworld_suite, serving

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

    assert_conforms(result, f"[{backend}]")
