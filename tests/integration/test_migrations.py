"""Alembic against a real, empty database: the migrations build exactly the models."""

from __future__ import annotations

import os
import subprocess
from typing import Any

from sqlalchemy import create_engine, inspect

from app.core.models import Base
from tests.support.servers import REPO

ALEMBIC = str(REPO / ".venv" / "bin" / "alembic")


def _alembic(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ALEMBIC, *args],
        cwd=REPO,
        env={**os.environ, "APP_ENV": "test", "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=False,
    )


def test_upgrade_then_check_reports_no_drift(backend: str, fresh_database_url: Any) -> None:
    url = fresh_database_url(backend)
    upgrade = _alembic(url, "upgrade", "head")
    assert upgrade.returncode == 0, upgrade.stderr

    check = _alembic(url, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr

    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


def test_downgrade_to_base_and_back(backend: str, fresh_database_url: Any) -> None:
    url = fresh_database_url(backend)
    for step in (("upgrade", "head"), ("downgrade", "base"), ("upgrade", "head")):
        result = _alembic(url, *step)
        assert result.returncode == 0, result.stderr
    check = _alembic(url, "check")
    assert check.returncode == 0, check.stdout + check.stderr
