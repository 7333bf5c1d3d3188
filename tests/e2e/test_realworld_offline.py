"""The public RealWorld suite through serverless-offline (stage `local`): the Lambda
topology of serverless.yml, with its routes and handlers, on a fresh database."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.deploy.registry import load_registry
from tests.e2e.servers import REPO, assert_conforms, free_port, run_realworld_suite, serving

pytestmark = pytest.mark.e2e

BIN = REPO / ".venv" / "bin"


def test_realworld_suite_passes_through_serverless_offline(
    backend: str, fresh_database_url: Any, tmp_path: Path
) -> None:
    env = {
        "APP_ENV": "local",
        "DATABASE_URL": fresh_database_url(backend),
        # The handlers run on the project's venv, as `make offline` does.
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    subprocess.run(
        [str(BIN / "alembic"), "upgrade", "head"],
        cwd=REPO,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    port, lambda_port = free_port(), free_port()
    command = [
        "npx", "--no-install", "sls", "offline", "start", "--stage", "local",
        "--host", "127.0.0.1", "--httpPort", str(port), "--lambdaPort", str(lambda_port),
    ]  # fmt: skip
    with serving(command, port=port, env=env, log=tmp_path / "offline.log", timeout=120) as api:
        result = run_realworld_suite(api, tmp_path / "newman.json")

    assert_conforms(result, f"via serverless-offline [{backend}]")
    # The suite went through the routes of serverless.yml: peeled routes to their
    # functions, the pinned one to its own alias, everything else to the monolith.
    served = set(re.findall(r"\(λ: (\w+)\) RequestId", (tmp_path / "offline.log").read_text()))
    expected = {function.name for function in load_registry().http_functions} | {"monolith"}
    assert expected <= served, expected - served
