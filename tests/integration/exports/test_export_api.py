"""POST /api/user/exports and GET /api/user/exports/<id> with SQS and S3 (moto)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.core.models import Export
from app.exports import lifecycle
from app.functions.export_worker import ExportWorker
from app.platform.db import Database
from legacy import create_app
from tests.support.api import JSON_CONTENT_TYPE, Actions, assert_error, user_id_of
from tests.support.exports import (
    EXPORT_ID,
    TIMESTAMP,
    Aws,
    assert_jakes_export,
    populate,
    request_export,
    show,
    sqs_config,
)


def test_post_answers_202_with_location_and_queues_the_id(
    sqs_client: FlaskClient, sqs_actions: Actions, aws: Aws, database: Database
) -> None:
    jake = sqs_actions.register("jake")
    response = sqs_client.post("/api/user/exports", headers=jake.headers)

    assert response.status_code == 202
    assert response.content_type == JSON_CONTENT_TYPE
    export = response.json["export"]
    assert EXPORT_ID.match(export["id"])
    assert export["status"] == "pending"
    assert TIMESTAMP.match(export["createdAt"]) and TIMESTAMP.match(export["updatedAt"])
    assert response.headers["Location"] == f"/api/user/exports/{export['id']}"

    messages = aws.receive()
    assert [json.loads(message["Body"]) for message in messages] == [{"exportId": export["id"]}]

    with database.read() as session:
        row = session.scalars(select(Export)).one()
    assert (row.id, row.status, row.object_key, row.failure_reason) == (
        export["id"],
        "pending",
        None,
        None,
    )


def test_pending_export_has_no_url(sqs_client: FlaskClient, sqs_actions: Actions) -> None:
    jake = sqs_actions.register("jake")
    created = request_export(sqs_client, jake)
    response = sqs_client.get(f"/api/user/exports/{created['id']}", headers=jake.headers)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == {"export": created}


def test_happy_path_post_worker_get_presigned_url(
    sqs_client: FlaskClient, sqs_actions: Actions, aws: Aws, worker: ExportWorker
) -> None:
    jake, _ = populate(sqs_actions)
    created = request_export(sqs_client, jake)

    result = worker.handle(aws.event(*aws.receive()))
    assert result == {"batchItemFailures": []}

    # One object, at the key derived from the ids, encrypted with the stack's key.
    key = f"exports/{user_id_of(jake)}/{created['id']}.json"
    assert aws.keys() == [key]
    head = aws.s3.head_object(Bucket=aws.bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == aws.kms_key_arn
    assert head["ContentType"] == "application/json; charset=utf-8"
    assert_jakes_export(json.loads(aws.document(key)))

    export = show(sqs_client, jake, created["id"])
    assert export["status"] == "done"
    assert export["createdAt"] == created["createdAt"]
    assert set(export) == {"id", "status", "createdAt", "updatedAt", "url"}
    url = urlsplit(export["url"])
    assert url.scheme == "https"
    assert aws.bucket in url.netloc + url.path
    assert url.path.endswith(f"/{key}")
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert "X-Amz-Signature" in query


def test_url_expiry_follows_the_setting(aws: Aws, database: Database, worker: ExportWorker) -> None:
    app = create_app({**sqs_config(aws), "EXPORTS_URL_TTL_SECONDS": "120"}, database=database)
    client = app.test_client()
    jake = Actions(client).register("jake")
    created = request_export(client, jake)
    worker.handle(aws.event(*aws.receive()))
    url = show(client, jake, created["id"])["url"]
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["120"]


def test_only_the_owner_sees_an_export(sqs_client: FlaskClient, sqs_actions: Actions) -> None:
    jake = sqs_actions.register("jake")
    jane = sqs_actions.register("jane")
    created = request_export(sqs_client, jake)
    messages = assert_error(
        sqs_client.get(f"/api/user/exports/{created['id']}", headers=jane.headers), 404
    )
    assert messages == ["export not found"]


@pytest.mark.parametrize(
    "export_id",
    ["0123456789abcdef0123456789abcdef", "nope", "0123456789ABCDEF0123456789ABCDEF", "1" * 33],
)
def test_unknown_or_malformed_id_is_404(
    sqs_client: FlaskClient, sqs_actions: Actions, export_id: str
) -> None:
    jake = sqs_actions.register("jake")
    assert_error(sqs_client.get(f"/api/user/exports/{export_id}", headers=jake.headers), 404)


def test_no_token_is_401(sqs_client: FlaskClient, sqs_actions: Actions, aws: Aws) -> None:
    jake = sqs_actions.register("jake")
    created = request_export(sqs_client, jake)
    aws.receive()
    assert_error(sqs_client.post("/api/user/exports"), 401)
    assert_error(sqs_client.get(f"/api/user/exports/{created['id']}"), 401)
    assert_error(
        sqs_client.get(f"/api/user/exports/{created['id']}", headers={"Authorization": "Token x"}),
        401,
    )
    assert aws.receive() == []


def test_download_route_is_inline_mode_only(sqs_client: FlaskClient, sqs_actions: Actions) -> None:
    jake = sqs_actions.register("jake")
    created = request_export(sqs_client, jake)
    assert_error(
        sqs_client.get(f"/api/user/exports/{created['id']}/download", headers=jake.headers), 404
    )


def test_queue_unavailable_is_503_and_the_export_shows_failed(aws: Aws, database: Database) -> None:
    config = {**sqs_config(aws), "EXPORTS_QUEUE_URL": aws.queue_url + "-missing"}
    app: Flask = create_app(config, database=database)
    client = app.test_client()
    jake = Actions(client).register("jake")

    response = client.post("/api/user/exports", headers=jake.headers)
    assert assert_error(response, 503) == ["the service is temporarily unavailable, please retry"]
    assert response.headers["Retry-After"] == "1"

    with database.read() as session:
        row = session.scalars(select(Export)).one()
    assert row.status == "failed"
    export = show(client, jake, row.id)
    assert export["status"] == "failed"
    assert export["reason"] == lifecycle.NOT_QUEUED_REASON
    assert "url" not in export


def test_a_request_that_rolls_back_never_enqueues(
    sqs_client: FlaskClient,
    sqs_actions: Actions,
    aws: Aws,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The message is sent only after the commit: a failure before it sends nothing."""
    jake = sqs_actions.register("jake")
    original = lifecycle.request_export

    def fail_after_insert(session: Any, user_id: int) -> dict[str, Any]:
        original(session, user_id)
        raise RuntimeError("boom before commit")

    monkeypatch.setattr(lifecycle, "request_export", fail_after_insert)
    response = sqs_client.post("/api/user/exports", headers=jake.headers)
    assert_error(response, 500)
    assert aws.receive() == []
    with database.read() as session:
        assert session.scalars(select(Export)).all() == []
