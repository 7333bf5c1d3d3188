"""The runner: turns a pending export into a stored document, once.

load -> (skip if done; reopen if failed: a redrive) -> store the document unless its
object exists -> mark it done. Idempotency does not rest on the database alone: the
object key is derived from the ids, the store writes a key only if it is absent, and the
export is marked done with a conditional UPDATE (pending -> done). A duplicate delivery
skips, and of two racing runners one writes the object and the other adopts it.

How a failed attempt ends depends on who delivered the message: the SQS worker gives up
(marks the export failed) only on the queue's last allowed receive; inline mode has no
retries and gives up at once.
"""

from __future__ import annotations

from collections.abc import Iterator

from app.exports import document, lifecycle
from app.exports.message import PoisonMessage, decode_message
from app.platform.blobs import BlobStore, Download
from app.platform.db import Database
from app.platform.observability import logger

# What ExportRunner.run did.
BUILT = "done"  # this run stored the document (or adopted one) and marked the export done
SKIPPED = "skipped"  # the export was already done: a duplicate delivery
RACED = "already-done"  # another runner marked it done while this one was working

# Stored documents download as a JSON file.
DOWNLOAD = Download(document.CONTENT_TYPE, document.DOWNLOAD_NAME)


def _encoded(chunks: Iterator[str]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk.encode("utf-8")


class ExportRunner:
    def __init__(
        self,
        database: Database,
        store: BlobStore,
        *,
        batch_size: int = document.DEFAULT_BATCH_SIZE,
    ) -> None:
        self.database = database
        self.store = store
        self.batch_size = batch_size

    def load(self, export_id: str) -> lifecycle.ExportJob:
        with self.database.read() as session:
            job = lifecycle.load_job(session, export_id)
        if job is None:
            raise PoisonMessage(f"export {export_id} does not exist")
        return job

    def run(self, export_id: str) -> str:
        return self.process(self.load(export_id))

    def process(self, job: lifecycle.ExportJob) -> str:
        if job.status == lifecycle.DONE:
            logger.info("export already done", export_id=job.export_id)
            return SKIPPED
        if job.status == lifecycle.FAILED:
            # Only a redrive from the dead-letter queue brings a failed export back.
            with self.database.transaction() as session:
                reopened = lifecycle.reopen(session, job.export_id)
            logger.info("retrying a failed export", export_id=job.export_id, reopened=reopened)
        key = job.object_key
        if self.store.exists(key):
            written = False
        else:
            with self.database.read() as session:
                chunks = document.export_document(session, job.user_id, batch_size=self.batch_size)
                written = self.store.put_stream(key, _encoded(chunks), DOWNLOAD)
        with self.database.transaction() as session:
            marked = lifecycle.mark_done(session, job.export_id, key)
        logger.info(
            "export stored",
            export_id=job.export_id,
            object_key=key,
            written_now=written,
            marked_done_now=marked,
        )
        return BUILT if marked else RACED

    def give_up(self, export_id: str, reason: str) -> bool:
        """Mark a pending export failed with a reason its owner can read."""
        with self.database.transaction() as session:
            return lifecycle.mark_failed(session, export_id, reason)

    def receive(
        self, body: str, *, receive_count: int, max_receive_count: int, message_id: str = ""
    ) -> str:
        """One delivery of a queue message. Raises when the message must come back (or,
        poison, go to the dead-letter queue); on the last allowed receive a failed build
        first marks the export failed with GAVE_UP_REASON."""
        try:
            export_id = decode_message(body)
        except PoisonMessage as error:
            logger.error("poison message", message_id=message_id, problem=str(error))
            raise
        try:
            outcome = self.run(export_id)
        except PoisonMessage as error:
            logger.error("poison message", message_id=message_id, problem=str(error))
            raise
        except Exception:
            last_attempt = receive_count >= max_receive_count
            logger.exception(
                "export attempt failed",
                export_id=export_id,
                receive_count=receive_count,
                last_attempt=last_attempt,
            )
            if last_attempt:
                self._give_up_after(export_id, receive_count)
            raise
        logger.info("export processed", export_id=export_id, outcome=outcome)
        return outcome

    def _give_up_after(self, export_id: str, attempts: int) -> None:
        try:
            marked = self.give_up(export_id, lifecycle.GAVE_UP_REASON.format(attempts=attempts))
        except Exception:
            # The message still goes to the DLQ; the export stays pending until redriven.
            logger.exception("could not mark the export failed", export_id=export_id)
            return
        logger.warning("export marked failed", export_id=export_id, marked=marked)

    def build_now(self, body: str) -> None:
        """Inline mode: build the export of this message at once, in this process. No
        retries: a failure marks the export failed with INLINE_FAILED_REASON."""
        export_id = decode_message(body)
        try:
            self.run(export_id)
        except Exception:
            logger.exception("inline export failed", export_id=export_id)
            self.give_up(export_id, lifecycle.INLINE_FAILED_REASON)
