"""The export worker: partial batch failures, retries into the DLQ, redrive, duplicate
deliveries and racing workers, against moto's SQS and S3."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from flask.testing import FlaskClient
from sqlalchemy import select

from app.core.models import Export
from app.exports.lifecycle import GAVE_UP_REASON
from app.exports.runner import BUILT, RACED, SKIPPED, ExportRunner
from app.functions import export_worker
from app.functions.export_worker import ExportWorker
from app.platform.blobs import S3BlobStore
from app.platform.db import Database
from tests.support.api import TEST_CONFIG, Account, Actions, user_id_of
from tests.support.exports import (
    MAX_RECEIVE_COUNT,
    Aws,
    assert_jakes_export,
    populate,
    request_export,
    show,
)


def key_of(account: Account, export_id: str) -> str:
    return f"exports/{user_id_of(account)}/{export_id}.json"


def failures(result: Any) -> list[str]:
    return sorted(item["itemIdentifier"] for item in result["batchItemFailures"])


def test_poison_messages_fail_alone_and_the_good_ones_succeed(
    sqs_client: FlaskClient, sqs_actions: Actions, aws: Aws, worker: ExportWorker
) -> None:
    jake, jane = populate(sqs_actions)
    good = [request_export(sqs_client, jake), request_export(sqs_client, jane)]
    queued = aws.receive()
    assert len(queued) == 2
    poison = [
        aws.raw_record("not json {", message_id="poison-not-json"),
        aws.raw_record('["exportId"]', message_id="poison-not-an-object"),
        aws.raw_record('{"exportId": "../../etc"}', message_id="poison-bad-id"),
        aws.raw_record(json.dumps({"exportId": "f" * 32}), message_id="poison-unknown-export"),
    ]
    records = [poison[0], aws.record(queued[0]), poison[1], poison[2], aws.record(queued[1])]
    event = {"Records": [*records, poison[3]]}

    result = worker.handle(event)

    assert failures(result) == sorted(record["messageId"] for record in poison)
    for account, created in zip((jake, jane), good, strict=True):
        assert show(sqs_client, account, created["id"])["status"] == "done"
    assert sorted(aws.keys()) == sorted(
        key_of(account, created["id"]) for account, created in zip((jake, jane), good, strict=True)
    )


def test_a_batch_of_only_poison_is_reported_not_raised(aws: Aws, worker: ExportWorker) -> None:
    result = worker.handle({"Records": [aws.raw_record("", message_id="empty")]})
    assert result == {"batchItemFailures": [{"itemIdentifier": "empty"}]}


def broken_worker(database: Database, aws: Aws) -> ExportWorker:
    """A worker whose every build fails: its bucket does not exist."""
    store = S3BlobStore(aws.bucket + "-missing", kms_key_id=aws.kms_key_arn)
    return ExportWorker(ExportRunner(database, store), max_receive_count=MAX_RECEIVE_COUNT)


def test_after_the_max_receive_count_the_export_shows_failed_and_redrive_retries_it(
    sqs_client: FlaskClient,
    sqs_actions: Actions,
    aws: Aws,
    database: Database,
    worker: ExportWorker,
) -> None:
    jake, _ = populate(sqs_actions)
    created = request_export(sqs_client, jake)
    broken = broken_worker(database, aws)

    # Each failed receive comes back (visibility 0 stands in for the timeout passing).
    for attempt in range(1, MAX_RECEIVE_COUNT + 1):
        messages = aws.receive(visibility=0)
        assert len(messages) == 1
        assert messages[0]["Attributes"]["ApproximateReceiveCount"] == str(attempt)
        result = broken.handle(aws.event(*messages))
        assert failures(result) == [messages[0]["MessageId"]]
        export = show(sqs_client, jake, created["id"])
        if attempt < MAX_RECEIVE_COUNT:
            assert export["status"] == "pending"

    # The last allowed attempt marked it failed, with a reason the owner can read.
    assert export["status"] == "failed"
    assert export["reason"] == GAVE_UP_REASON.format(attempts=MAX_RECEIVE_COUNT)
    assert "url" not in export
    assert aws.keys() == []

    # SQS's redrive policy moves the message to the dead-letter queue.
    assert aws.receive(visibility=0) == []
    dead = aws.receive(aws.dlq_url)
    assert [json.loads(message["Body"]) for message in dead] == [{"exportId": created["id"]}]

    # The cause is fixed; a redrive (start-message-move-task) re-sends the DLQ's messages.
    for message in dead:
        aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody=message["Body"])
        aws.sqs.delete_message(QueueUrl=aws.dlq_url, ReceiptHandle=message["ReceiptHandle"])
    redriven = aws.receive()
    record = SQSRecord(aws.record(redriven[0]))
    assert worker.process_record(record) == BUILT

    export = show(sqs_client, jake, created["id"])
    assert export["status"] == "done"
    assert "reason" not in export and "url" in export
    assert_jakes_export(json.loads(aws.document(key_of(jake, created["id"]))))


def test_a_failure_before_the_last_attempt_leaves_the_export_pending(
    sqs_client: FlaskClient, sqs_actions: Actions, aws: Aws, database: Database
) -> None:
    jake = sqs_actions.register("jake")
    created = request_export(sqs_client, jake)
    message = aws.receive()[0]
    broken = broken_worker(database, aws)
    record = aws.record(message)
    record["attributes"]["ApproximateReceiveCount"] = str(MAX_RECEIVE_COUNT - 1)
    assert failures(broken.handle({"Records": [record]})) == [message["MessageId"]]
    assert show(sqs_client, jake, created["id"])["status"] == "pending"


def test_a_duplicate_delivery_makes_one_object_and_one_transition(
    sqs_client: FlaskClient, sqs_actions: Actions, aws: Aws, worker: ExportWorker
) -> None:
    jake, _ = populate(sqs_actions)
    created = request_export(sqs_client, jake)
    record = SQSRecord(aws.record(aws.receive()[0]))
    key = key_of(jake, created["id"])

    assert worker.process_record(record) == BUILT
    first = show(sqs_client, jake, created["id"])
    content = aws.document(key)

    # jake writes more before the same message arrives again: the export stays as it was.
    sqs_actions.article(jake, "Written later")
    assert worker.process_record(record) == SKIPPED

    assert len(aws.versions(key)) == 1
    assert aws.document(key) == content
    again = show(sqs_client, jake, created["id"])
    assert again["updatedAt"] == first["updatedAt"]
    assert again["status"] == "done"


def test_racing_workers_leave_one_object_and_one_done_transition(
    sqs_client: FlaskClient,
    sqs_actions: Actions,
    aws: Aws,
    database: Database,
    runner: ExportRunner,
) -> None:
    jake, _ = populate(sqs_actions)
    created = request_export(sqs_client, jake)
    key = key_of(jake, created["id"])

    # Both load the export while it is pending; A finishes first.
    job_a = runner.load(created["id"])
    job_b = runner.load(created["id"])
    assert job_a.status == job_b.status == "pending"
    assert runner.process(job_a) == BUILT
    done = show(sqs_client, jake, created["id"])
    content = aws.document(key)

    # B finds the object A wrote and does not mark the export a second time.
    assert runner.process(job_b) == RACED
    assert len(aws.versions(key)) == 1
    assert aws.document(key) == content
    # The download link is presigned anew on each read (its signature carries the second);
    # everything else about the export must be as A left it.
    assert without_url(show(sqs_client, jake, created["id"])) == without_url(done)


def without_url(export: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in export.items() if key != "url"}


@dataclass
class LateStore:
    """A store whose existence check ran before the other worker's upload finished."""

    inner: S3BlobStore
    written: list[bool]

    def exists(self, key: str) -> bool:
        return False

    def put_stream(self, key: str, chunks: Any, *download: Any) -> bool:
        written = self.inner.put_stream(key, chunks, *download)
        self.written.append(written)
        return written


def test_racing_uploads_write_the_key_once(
    sqs_client: FlaskClient,
    sqs_actions: Actions,
    aws: Aws,
    database: Database,
    runner: ExportRunner,
    store: S3BlobStore,
) -> None:
    jake, _ = populate(sqs_actions)
    created = request_export(sqs_client, jake)
    key = key_of(jake, created["id"])
    job_b = runner.load(created["id"])
    assert runner.run(created["id"]) == BUILT
    content = aws.document(key)

    # B already decided to upload: S3 refuses the second write (If-None-Match: *).
    written: list[bool] = []
    late = ExportRunner(database, LateStore(store, written))
    assert late.process(job_b) == RACED
    assert written == [False]
    assert len(aws.versions(key)) == 1
    assert aws.document(key) == content
    with database.read() as session:
        assert session.scalars(select(Export.status)).all() == ["done"]


def test_a_large_multipart_document_is_stored_whole(
    sqs_client: FlaskClient, sqs_actions: Actions, aws: Aws, database: Database
) -> None:
    """Parts are cut as the stream flows; a document over one part is completed once."""
    jake, _ = populate(sqs_actions)
    created = request_export(sqs_client, jake)
    small_parts = S3BlobStore(aws.bucket, kms_key_id=aws.kms_key_arn, part_size=5 * 1024 * 1024)
    chunks = [b"x" * (1024 * 1024)] * 11
    key = key_of(jake, created["id"])
    assert small_parts.put_stream(key, iter(chunks)) is True
    head = aws.s3.head_object(Bucket=aws.bucket, Key=key)
    assert head["ContentLength"] == 11 * 1024 * 1024
    assert head["ServerSideEncryption"] == "aws:kms"
    assert aws.s3.list_multipart_uploads(Bucket=aws.bucket).get("Uploads", []) == []
    assert small_parts.put_stream(key, iter(chunks)) is False
    assert aws.s3.list_multipart_uploads(Bucket=aws.bucket).get("Uploads", []) == []
    assert len(aws.versions(key)) == 1


class FakeLambdaContext:
    function_name = "conduit-test-exportWorker"
    function_version = "1"
    memory_limit_in_mb = 1024
    invoked_function_arn = (
        "arn:aws:lambda:eu-west-1:123456789012:function:conduit-test-exportWorker"
    )
    aws_request_id = "11111111-2222-3333-4444-555555555555"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def test_lambda_handler_reads_its_settings_and_reports_failures(
    aws: Aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        **TEST_CONFIG,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
        "EXPORTS_QUEUE_URL": aws.queue_url,
        "EXPORTS_BUCKET": aws.bucket,
        "EXPORTS_KMS_KEY_ID": aws.kms_key_arn,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(export_worker, "_worker", None)

    event = {"Records": [aws.raw_record("garbage", message_id="m-1")]}
    result = export_worker.handler(event, FakeLambdaContext())

    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    worker = export_worker._worker
    assert worker is not None and worker.max_receive_count == 5
    assert isinstance(worker.runner.store, S3BlobStore)
    assert worker.runner.store.bucket == aws.bucket
    worker.runner.database.dispose()
