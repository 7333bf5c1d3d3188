"""The models' DDL is what the migrations built, down to what `alembic check` does not
compare: the exact column types (a DATETIME's fractional digits, MEDIUMTEXT) and, on
MySQL, each table's character set and collation. app.core.tables writes these without
loading the MySQL dialect (a function on SQLite goes without it); this holds them to the
migrated database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

from sqlalchemy import create_engine, inspect

from app.core import tables
from tests.support.servers import REPO


def _type_names(engine: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Per `table.column`, its type as the dialect writes it: from the models, and as
    reflected from the migrated database."""
    compiler = engine.dialect.type_compiler_instance
    models = {
        f"{table.name}.{column.name}": compiler.process(column.type)
        for table in tables.metadata.tables.values()
        for column in table.columns
    }
    inspector = inspect(engine)
    # MariaDB reports an INTEGER's display width, which the models never set.
    reflected = {
        f"{name}.{column['name']}": re.sub(
            r"^INTEGER\(\d+\)$", "INTEGER", compiler.process(column["type"])
        )
        for name in tables.metadata.tables
        for column in inspector.get_columns(name)
    }
    return models, reflected


def test_the_models_types_and_table_options_are_the_migrated_ones(
    backend: str, fresh_database_url: Any
) -> None:
    url = fresh_database_url(backend)
    upgrade = subprocess.run(
        [str(REPO / ".venv" / "bin" / "alembic"), "upgrade", "head"],
        cwd=REPO, env={**os.environ, "APP_ENV": "test", "DATABASE_URL": url},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert upgrade.returncode == 0, upgrade.stderr
    engine = create_engine(url)
    try:
        models, reflected = _type_names(engine)
        assert models == reflected
        if backend == "mysql":
            assert models["articles.body"] == "MEDIUMTEXT"
            assert models["articles.created_at"] == "DATETIME(6)"
            options = tables.with_mysql_options()
            inspector = inspect(engine)
            for name, table in options.tables.items():
                found = inspector.get_table_options(name)
                assert found["mysql_default charset"] == table.kwargs["mysql_charset"], name
                assert found["mysql_collate"] == table.kwargs["mysql_collate"], name
    finally:
        engine.dispose()


def test_the_tables_load_no_mysql_dialect() -> None:
    probe = (
        "import sys, app.core.tables, app.core.models; "
        "print(sorted(m for m in sys.modules if m.startswith('sqlalchemy.dialects.mysql')))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
