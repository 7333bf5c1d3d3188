"""Alembic environment: the one metadata from app.core, the URL from settings.

A caller may pass an open connection in `config.attributes["connection"]` (tests,
the migrate function) so migrations run on exactly that database.
"""

from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import Connection

from app.core import tables
from app.core.models import Base
from app.platform.db import create_db_engine
from app.platform.settings import Settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

assert Base.metadata is tables.metadata
# With the MySQL table options, which the runtime goes without (app.core.tables).
target_metadata = tables.with_mysql_options()


# How autogenerate writes the models' MySQL column types: as the MySQL dialect's own,
# which is how the migrations so far have them.
MYSQL_TYPES = {
    tables.MySQLDateTime6: "mysql.DATETIME(fsp=6)",
    tables.MySQLMediumText: "mysql.MEDIUMTEXT()",
}


def render_item(kind: str, item: Any, autogen_context: Any) -> str | bool:
    if kind == "type" and type(item) in MYSQL_TYPES:
        autogen_context.imports.add("from sqlalchemy.dialects import mysql")
        return MYSQL_TYPES[type(item)]
    return False  # Alembic's own rendering


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=Settings.from_env().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_db_engine(Settings.from_env().database_url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
