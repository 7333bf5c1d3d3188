"""The export feature as the monolith serves it: request an export, show it, download it.

Two modes (app/exports/settings.py):
- `sqs`: after the request committed, the export's message goes to the exports queue; the
  export worker (app/functions/export_worker.py) runs the runner against S3; the owner
  downloads through a short-lived presigned GET URL.
- `inline` (local and test): after the request committed, the same runner builds the
  export in this process, into a folder (instance/exports/ by default), and the monolith
  serves the file itself.

Nothing here creates an AWS client until a message is sent or a URL presigned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.errors import NotFound, TemporarilyUnavailable
from app.exports import lifecycle
from app.exports.message import encode_message
from app.exports.runner import ExportRunner
from app.exports.settings import ExportSettings, export_settings
from app.platform.blobs import LocalBlobStore, S3BlobStore
from app.platform.db import Database
from app.platform.observability import logger
from app.platform.queues import InlineQueue, MessageQueue, QueueUnavailable, SqsQueue
from app.platform.settings import Settings


@dataclass(frozen=True)
class ExportBackend:
    settings: ExportSettings
    database: Database
    queue: MessageQueue
    store: S3BlobStore | LocalBlobStore

    def request(self, user_id: int) -> dict[str, Any]:
        """Record a pending export and hand it over; TemporarilyUnavailable (and the
        export failed, with a reason) when it cannot be handed over."""
        with self.database.transaction() as session:
            created = lifecycle.request_export(session, user_id)
        # Committed. Only now may the runner hear of it: a request that rolled back never
        # sends, and the runner never receives an id it cannot find.
        export_id = created["export"]["id"]
        try:
            self.queue.send(encode_message(export_id))
        except QueueUnavailable:
            logger.exception("export not queued", export_id=export_id)
            with self.database.transaction() as session:
                lifecycle.mark_failed(session, export_id, lifecycle.NOT_QUEUED_REASON)
            raise TemporarilyUnavailable("the export could not be queued") from None
        return created

    def show(
        self, user_id: int, export_id: str, *, download_url: Callable[[str], str]
    ) -> dict[str, Any]:
        """The caller's export; when done, its `url`: presigned in `sqs` mode, else
        `download_url(export id)`, where the monolith serves the file."""

        def link(item_id: str, key: str) -> str:
            if isinstance(self.store, S3BlobStore):
                return self.store.presigned_url(key, self.settings.url_ttl_seconds)
            return download_url(item_id)

        with self.database.read() as session:
            return lifecycle.get_export(session, user_id, export_id, link=link)

    def local_file(self, user_id: int, export_id: str) -> Path:
        """The file of the caller's finished export (inline mode; NotFound otherwise)."""
        if not isinstance(self.store, LocalBlobStore):
            raise NotFound("resource not found")
        with self.database.read() as session:
            key = lifecycle.finished_object_key(session, user_id, export_id)
        return self.store.path(key)


def export_backend(settings: Settings, database: Database) -> ExportBackend:
    """Resolves the feature's settings: a missing or bad EXPORTS_* value fails here."""
    exports = export_settings(settings)
    if exports.mode == "sqs":
        return ExportBackend(
            settings=exports,
            database=database,
            queue=SqsQueue(exports.queue_url),
            store=S3BlobStore(exports.bucket, kms_key_id=exports.kms_key_id),
        )
    store = LocalBlobStore(exports.local_dir)
    runner = ExportRunner(database, store)
    return ExportBackend(
        settings=exports, database=database, queue=InlineQueue(runner.build_now), store=store
    )
