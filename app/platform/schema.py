"""Apply Alembic migrations from code (tests, the migrate function)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from app.platform.settings import PROJECT_ROOT


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    if connection is not None:
        config.attributes["connection"] = connection
        config.attributes["configure_logger"] = False
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Migrate the database behind `connection` and commit."""
    command.upgrade(alembic_config(connection), revision)
    connection.commit()
