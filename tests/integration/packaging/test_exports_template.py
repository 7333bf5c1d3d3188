"""The data-export plumbing in the packaged templates: queue, DLQ, bucket, roles."""

from __future__ import annotations

import json
from typing import Any

from tests.support.templates import of_type


def test_the_queue_redrives_to_an_encrypted_dead_letter_queue(resources: dict[str, Any]) -> None:
    queue = resources["ExportsQueue"]["Properties"]
    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["ExportsDeadLetterQueue", "Arn"]}
    assert redrive["maxReceiveCount"] >= 2
    for name in ("ExportsQueue", "ExportsDeadLetterQueue"):
        assert "KmsMasterKeyId" in resources[name]["Properties"], name
    # The app marks an export failed on the same receive that sends it to the DLQ.
    worker = resources["ExportWorkerLambdaFunction"]["Properties"]["Environment"]["Variables"]
    assert int(worker["EXPORTS_MAX_RECEIVE_COUNT"]) == int(redrive["maxReceiveCount"])
    assert (
        queue["VisibilityTimeout"]
        >= 6 * resources["ExportWorkerLambdaFunction"]["Properties"]["Timeout"]
    )


def test_the_bucket_is_private_and_encrypted(resources: dict[str, Any]) -> None:
    bucket = resources["ExportsBucket"]["Properties"]
    block = bucket["PublicAccessBlockConfiguration"]
    assert all(block[k] is True for k in (
        "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"
    ))  # fmt: skip
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    policy = json.dumps(resources["ExportsBucketPolicy"]["Properties"]["PolicyDocument"])
    assert "aws:SecureTransport" in policy


def test_only_the_worker_reads_the_queue_and_writes_the_bucket(resources: dict[str, Any]) -> None:
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        text = json.dumps(role)
        if "sqs:ReceiveMessage" in text or "s3:PutObject" in text:
            assert name == "ExportWorkerRole", name
        if "sqs:SendMessage" in text:
            assert name == "MonolithRole", name
