"""Lambda `exportWorker`: builds the data exports requested with POST /api/user/exports.

Event source: the exports SQS queue, with `functionResponseType: ReportBatchItemFailures`.
Each record is processed on its own (Powertools BatchProcessor): a record that fails is
reported in `batchItemFailures` and comes back after the visibility timeout; the others
are deleted. After `maxReceiveCount` receives SQS moves it to the dead-letter queue.

Per record (the rules are the runner's: `ExportRunner.receive` in app/exports/runner.py):
- a body that is not {"exportId": "<32 hex>"}, or an id with no export, is a poison
  message: reported as a failure, never retried into success, and it ends in the DLQ
  where a person sees it (the DLQ alarm), rather than being dropped silently;
- an export that is already done is skipped (duplicate delivery);
- otherwise the document is streamed into S3 at a key derived from the ids, written only
  if absent, and the export is marked done by a conditional UPDATE (pending -> done);
- when building fails on the last allowed receive (ApproximateReceiveCount >=
  EXPORTS_MAX_RECEIVE_COUNT, equal to the queue's maxReceiveCount) the export is marked
  failed with a reason the owner can read, and the record still fails, so the message
  goes to the DLQ. After the cause is fixed, scripts/redrive-exports.sh moves the DLQ's
  messages back; the worker reopens each failed export (failed -> pending) and retries it.

Never imports Flask or the monolith.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from app import init_finished
from app.exports.runner import ExportRunner
from app.exports.settings import export_settings
from app.platform.blobs import S3BlobStore
from app.platform.db import Database
from app.platform.observability import logger
from app.platform.settings import ConfigError, Settings


class ExportWorker:
    def __init__(self, runner: ExportRunner, *, max_receive_count: int) -> None:
        self.runner = runner
        self.max_receive_count = max_receive_count
        # An all-failed batch is reported like any other, not raised: the DLQ and its
        # alarm are the signal, and the answer keeps one shape.
        self.processor = BatchProcessor(
            event_type=EventType.SQS, raise_on_entire_batch_failure=False
        )

    def handle(self, event: dict[str, Any], context: Any = None) -> PartialItemFailureResponse:
        return process_partial_response(
            event=event,
            record_handler=self.process_record,
            processor=self.processor,
            context=context,
        )

    def process_record(self, record: SQSRecord) -> str:
        return self.runner.receive(
            record.body,
            receive_count=int(record.attributes.approximate_receive_count or 1),
            max_receive_count=self.max_receive_count,
            message_id=record.message_id,
        )


_worker: ExportWorker | None = None


def default_worker() -> ExportWorker:
    """Built on the first invocation of an execution environment and kept for the next:
    one engine (one pooled connection) and one S3 client per environment."""
    global _worker
    if _worker is None:
        settings = Settings.from_env()
        exports = export_settings(settings)
        if not exports.bucket:
            raise ConfigError("EXPORTS_BUCKET is required by the export worker")
        store = S3BlobStore(exports.bucket, kms_key_id=exports.kms_key_id)
        _worker = ExportWorker(
            ExportRunner(Database.from_settings(settings), store),
            max_receive_count=exports.max_receive_count,
        )
    return _worker


init_finished()


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return default_worker().handle(event, context)
