"""A user with thousands of articles is exported with bounded memory.

S3 here is moto's server in its own process on 127.0.0.1, not the in-process mock: the
in-process mock keeps every uploaded part in this process's memory (and joins them on
completion), which would be counted against the worker. Like real S3, the server's memory
is not ours, so tracemalloc's peak measures the worker's build and upload alone.
"""

from __future__ import annotations

import gc
import json
import socket
import subprocess
import sys
import time
import tracemalloc
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from sqlalchemy import insert

from app.core.models import Article, utcnow
from app.exports import lifecycle
from app.exports.runner import BUILT, ExportRunner
from app.platform.blobs import PART_SIZE, S3BlobStore
from app.platform.db import Database
from tests.support.api import Actions, user_id_of
from tests.support.aws import REGION

ARTICLES = 3_000
BODY_CHARS = 20_000
BUCKET = "conduit-memory-exports"

# moto's server, bound to 127.0.0.1. Its app only imports flask_cors to add CORS headers,
# which S3 calls from boto3 never need; the package (moto[server]) is not a dependency.
MOTO_SERVER = """
import sys, types
stub = types.ModuleType("flask_cors")
stub.CORS = lambda app, **options: app
sys.modules["flask_cors"] = stub
from moto.server import main
main(["-H", "127.0.0.1", "-p", sys.argv[1]])
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", MOTO_SERVER, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def s3(s3_endpoint: str, aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)
    existing = [bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])]
    if BUCKET not in existing:
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
    return client


def _bulk_articles(database: Database, author_id: int) -> None:
    start = utcnow()
    filler = "All work and no play makes Jack a dull boy. " * (BODY_CHARS // 40)
    rows = [
        {
            "slug": f"bulk-{number:05d}",
            "title": f"Bulk article {number}",
            "description": "One of very many",
            "body": f"{number:05d} {filler}"[:BODY_CHARS],
            "author_id": author_id,
            "created_at": start + timedelta(microseconds=number),
            "updated_at": start + timedelta(microseconds=number),
        }
        for number in range(ARTICLES)
    ]
    with database.transaction() as session:
        for offset in range(0, ARTICLES, 100):
            session.execute(insert(Article), rows[offset : offset + 100])


def test_a_large_export_is_streamed_with_bounded_memory(
    actions: Actions, database: Database, s3: Any
) -> None:
    jake = actions.register("jake")
    _bulk_articles(database, user_id_of(jake))
    with database.transaction() as session:
        export_id = lifecycle.request_export(session, user_id_of(jake))["export"]["id"]

    store = S3BlobStore(BUCKET, client=s3)
    runner = ExportRunner(database, store)
    s3.head_bucket(Bucket=BUCKET)  # the client's endpoint and models are loaded already
    gc.collect()

    tracemalloc.start()
    try:
        assert runner.run(export_id) == BUILT
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    key = lifecycle.object_key(user_id_of(jake), export_id)
    size = int(s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"])
    print(
        f"\nexport of {ARTICLES} articles: document {size / 2**20:.1f} MiB, "
        f"peak traced memory during build+upload {peak / 2**20:.1f} MiB "
        f"({peak / size:.0%} of the document)"
    )
    assert size > 50 * 2**20
    assert peak < size / 3
    # Bounded by one part being filled plus one batch, whatever the document's size.
    assert peak < 2 * PART_SIZE

    # The presigned URL serves the document, which holds every article.
    url = store.presigned_url(key, 300)
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - local moto
        document = json.load(response)
    assert len(document["articles"]) == ARTICLES
    assert document["articles"][0]["slug"] == "bulk-00000"
    assert document["articles"][-1]["body"].startswith(f"{ARTICLES - 1:05d} All work")
    assert len(document["articles"][-1]["body"]) == BODY_CHARS
