"""Fixtures for the export tests: moto's SQS, S3 and KMS, the monolith in both export
modes, and the worker, all on the per-test rolled-back database of tests/conftest.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.exports.runner import ExportRunner
from app.functions.export_worker import ExportWorker
from app.platform.blobs import S3BlobStore
from app.platform.db import Database
from legacy import create_app
from tests.support.api import TEST_CONFIG, Actions
from tests.support.aws import REGION
from tests.support.exports import BUCKET, MAX_RECEIVE_COUNT, Aws, sqs_config


@pytest.fixture
def aws(mocked_aws: None) -> Iterator[Aws]:
    """Queue + DLQ (redrive after MAX_RECEIVE_COUNT), a versioned private bucket, a KMS key."""
    s3 = boto3.client("s3", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    kms = boto3.client("kms", region_name=REGION)
    key_arn = kms.create_key(Description="conduit exports")["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    dlq_url = sqs.create_queue(QueueName="conduit-test-exports-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
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
