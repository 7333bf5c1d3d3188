"""Fixtures for the export tests: moto's SQS, S3 and KMS, the monolith in both export
modes, and the worker, all on the per-test rolled-back database of tests/conftest.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from flask import Flask
from flask.testing import FlaskClient
from moto import mock_aws

from app.exports.runner import ExportRunner
from app.functions.export_worker import ExportWorker
from app.platform.blobs import S3BlobStore
from app.platform.db import Database
from legacy import create_app
from tests.conftest import TEST_CONFIG, Actions

REGION = "eu-west-1"
BUCKET = "conduit-test-exports"
MAX_RECEIVE_COUNT = 3


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region, and nothing that could point boto3 elsewhere."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SQS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)


@dataclass
class Aws:
    """The deployed resources, as moto holds them."""

    s3: Any
    sqs: Any
    queue_url: str
    queue_arn: str
    dlq_url: str
    dlq_arn: str
    kms_key_arn: str
    bucket: str = BUCKET

    def receive(
        self, queue_url: str | None = None, *, visibility: int = 30
    ) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(
            QueueUrl=queue_url or self.queue_url,
            MaxNumberOfMessages=10,
            MessageSystemAttributeNames=["All"],
            VisibilityTimeout=visibility,
        )
        return list(answer.get("Messages", []))

    def event(self, *messages: dict[str, Any]) -> dict[str, Any]:
        """The event Lambda's SQS event source mapping hands the worker."""
        return {"Records": [self.record(message) for message in messages]}

    def record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message["Attributes"],
            "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": REGION,
        }

    def raw_record(self, body: str, *, message_id: str, receive_count: int = 1) -> dict[str, Any]:
        """A record that never went through the queue (a body SQS would still accept)."""
        return {
            "messageId": message_id,
            "receiptHandle": f"handle-{message_id}",
            "body": body,
            "attributes": {
                "ApproximateReceiveCount": str(receive_count),
                "SentTimestamp": "1700000000000",
                "SenderId": "AIDAEXAMPLE",
                "ApproximateFirstReceiveTimestamp": "1700000000001",
            },
            "messageAttributes": {},
            "md5OfBody": "0" * 32,
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": REGION,
        }

    def versions(self, key: str) -> list[dict[str, Any]]:
        answer = self.s3.list_object_versions(Bucket=self.bucket, Prefix=key)
        return [item for item in answer.get("Versions", []) if item["Key"] == key]

    def keys(self) -> list[str]:
        answer = self.s3.list_objects_v2(Bucket=self.bucket)
        return [item["Key"] for item in answer.get("Contents", [])]

    def document(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())


@pytest.fixture
def aws(aws_env: None) -> Iterator[Aws]:
    """Queue + DLQ (redrive after MAX_RECEIVE_COUNT), a versioned private bucket, a KMS key."""
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        kms = boto3.client("kms", region_name=REGION)
        key_arn = kms.create_key(Description="conduit exports")["KeyMetadata"]["Arn"]
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        dlq_url = sqs.create_queue(QueueName="conduit-test-exports-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        policy = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}
        queue_url = sqs.create_queue(
            QueueName="conduit-test-exports",
            Attributes={"RedrivePolicy": json.dumps(policy), "VisibilityTimeout": "30"},
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        yield Aws(
            s3=s3,
            sqs=sqs,
            queue_url=queue_url,
            queue_arn=queue_arn,
            dlq_url=dlq_url,
            dlq_arn=dlq_arn,
            kms_key_arn=key_arn,
        )


def sqs_config(aws: Aws) -> dict[str, str]:
    return {
        **TEST_CONFIG,
        "EXPORTS_QUEUE_URL": aws.queue_url,
        "EXPORTS_BUCKET": aws.bucket,
        "EXPORTS_KMS_KEY_ID": aws.kms_key_arn,
        "EXPORTS_MAX_RECEIVE_COUNT": str(MAX_RECEIVE_COUNT),
    }


@pytest.fixture
def sqs_app(aws: Aws, database: Database) -> Flask:
    """The monolith as deployed: exports go to SQS, documents to S3."""
    return create_app(sqs_config(aws), database=database)


@pytest.fixture
def sqs_client(sqs_app: Flask) -> FlaskClient:
    return sqs_app.test_client()


@pytest.fixture
def sqs_actions(sqs_client: FlaskClient) -> Actions:
    return Actions(sqs_client)


@pytest.fixture
def store(aws: Aws) -> S3BlobStore:
    return S3BlobStore(aws.bucket, kms_key_id=aws.kms_key_arn)


@pytest.fixture
def runner(database: Database, store: S3BlobStore) -> ExportRunner:
    return ExportRunner(database, store)


@pytest.fixture
def worker(runner: ExportRunner) -> ExportWorker:
    return ExportWorker(runner, max_receive_count=MAX_RECEIVE_COUNT)


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def inline_client(database: Database, export_dir: Path) -> FlaskClient:
    """The monolith as `make run` serves it: no queue, exports built in-process."""
    app = create_app({**TEST_CONFIG, "EXPORTS_LOCAL_DIR": str(export_dir)}, database=database)
    return app.test_client()


@pytest.fixture
def inline_actions(inline_client: FlaskClient) -> Actions:
    return Actions(inline_client)
