"""The export tests' world: a small world to export and what jake's export of it must
say, the monolith's export requests, and the deployed resources as moto holds them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient

from tests.support.api import TEST_CONFIG, Account, Actions
from tests.support.aws import REGION

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
EXPORT_ID = re.compile(r"^[0-9a-f]{32}$")
BUCKET = "conduit-test-exports"
MAX_RECEIVE_COUNT = 3


def populate(actions: Actions) -> tuple[Account, Account]:
    """jake writes two articles and two comments, favorites one of jane's articles and
    follows jane; jane writes, comments and favorites too (none of it is jake's data)."""
    jake = actions.register("jake")
    jane = actions.register("jane")
    dragons = actions.article(jake, "Dragons", tagList=["training", "dragons"])
    actions.article(jake, "Knights")
    hers = actions.article(jane, "Unicorns")
    actions.comment(jake, hers["slug"], "Lovely unicorns")
    actions.comment(jake, dragons["slug"], "Thanks all")
    actions.comment(jane, dragons["slug"], "Nice dragons")
    actions.favorite(jake, hers["slug"])
    actions.favorite(jane, dragons["slug"])
    actions.follow(jake, "jane")
    actions.follow(jane, "jake")
    return jake, jane


def assert_jakes_export(document: Any) -> None:
    assert set(document) == {
        "formatVersion",
        "generatedAt",
        "profile",
        "articles",
        "comments",
        "favorites",
        "following",
    }
    assert document["formatVersion"] == 1
    assert TIMESTAMP.match(document["generatedAt"])
    profile = document["profile"]
    assert profile["username"] == "jake"
    assert profile["email"] == "jake@example.com"
    assert profile["bio"] == ""
    assert profile["image"] is None
    assert TIMESTAMP.match(profile["createdAt"])
    assert "password_hash" not in profile and "token" not in profile

    articles = document["articles"]
    assert [item["title"] for item in articles] == ["Dragons", "Knights"]
    dragons = articles[0]
    assert set(dragons) == {
        "slug",
        "title",
        "description",
        "body",
        "tagList",
        "createdAt",
        "updatedAt",
        "favoritesCount",
    }
    assert dragons["slug"] == "dragons"
    assert dragons["body"] == "It takes a Jacobian"
    assert dragons["tagList"] == ["dragons", "training"]
    assert dragons["favoritesCount"] == 1
    assert articles[1]["tagList"] == [] and articles[1]["favoritesCount"] == 0

    comments = document["comments"]
    assert [(item["article"], item["body"]) for item in comments] == [
        ("unicorns", "Lovely unicorns"),
        ("dragons", "Thanks all"),
    ]
    assert all(
        isinstance(item["id"], int) and TIMESTAMP.match(item["createdAt"]) for item in comments
    )

    assert document["favorites"] == [{"slug": "unicorns", "title": "Unicorns", "author": "jane"}]
    assert document["following"] == [{"username": "jane", "bio": "", "image": None}]


def without_generated_at(document: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in document.items() if name != "generatedAt"}


def request_export(client: FlaskClient, account: Account) -> dict[str, Any]:
    response = client.post("/api/user/exports", headers=account.headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.json["export"]  # type: ignore[no-any-return]


def show(client: FlaskClient, account: Account, export_id: str) -> dict[str, Any]:
    response = client.get(f"/api/user/exports/{export_id}", headers=account.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["export"]  # type: ignore[no-any-return]


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


def sqs_config(aws: Aws) -> dict[str, str]:
    return {
        **TEST_CONFIG,
        "EXPORTS_QUEUE_URL": aws.queue_url,
        "EXPORTS_BUCKET": aws.bucket,
        "EXPORTS_KMS_KEY_ID": aws.kms_key_arn,
        "EXPORTS_MAX_RECEIVE_COUNT": str(MAX_RECEIVE_COUNT),
    }
