"""Lambda `migrate`: applies Alembic migrations up to head.

Run it on purpose, once per deployment that changes the schema:
`npx sls invoke -f migrate --stage <stage>`. Migrations never run at cold start.
"""

from __future__ import annotations

from typing import Any

from alembic.runtime.migration import MigrationContext

from app import init_finished
from app.platform.db import Database
from app.platform.observability import logger
from app.platform.schema import upgrade
from app.platform.settings import Settings


def _revision(connection: Any) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


init_finished()


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    database = Database.from_settings(Settings.from_env())
    try:
        with database.bind.connect() as connection:  # type: ignore[union-attr]
            before = _revision(connection)
            connection.rollback()
            upgrade(connection)
            after = _revision(connection)
    finally:
        database.dispose()
    logger.info("migrated", from_revision=before, to_revision=after)
    return {"from": before, "to": after}
