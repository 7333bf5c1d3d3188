"""The public RealWorld suite against `make run`'s server (`flask run` of
scripts/local_api.py) on a fresh database, per backend: the monolith, with the routes
retired from it (custom.migration.retired) served by their functions, passes it whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.deploy.registry import load_registry
from tests.support.servers import (
    REPO,
    assert_conforms,
    realworld_requests_to,
    run_realworld_suite,
    serving_make_run,
)

pytestmark = pytest.mark.e2e

BIN = REPO / ".venv" / "bin"


def test_realworld_suite_passes_against_flask_run(
    backend: str, fresh_database_url: Any, tmp_path: Path
) -> None:
    with serving_make_run(fresh_database_url(backend), tmp_path / "flask.log") as api:
        result = run_realworld_suite(api, tmp_path / "newman.json")

    retired = realworld_requests_to(load_registry().declared("retired"))
    assert retired, "the suite has no request to a retired route"
    assert_conforms(result, f"make run [{backend}]")
