"""Concurrent writes against `make run`'s server on the local SQLite default.

`flask run` serves each request on its own thread. A SQLite transaction that reads and
then writes must hold the write lock from its BEGIN: begun deferred, it could not
upgrade its lock while another writer held it, and SQLite would fail it at once with
"database is locked" instead of waiting for the busy timeout.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import REPO, serving_make_run

pytestmark = pytest.mark.e2e

BIN = REPO / ".venv" / "bin"
WRITERS = 16
READERS = 8


def call(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, method=method)  # noqa: S310 - loopback only
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, data, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_sixteen_concurrent_writers_all_succeed_on_sqlite(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'conduit.db'}"
    with serving_make_run(database, tmp_path / "flask.log") as api:
        user = {"username": "jake", "email": "jake@example.com", "password": "password123"}
        status, body = call("POST", f"{api}/users", {"user": user})
        assert status == 201, body
        token = body["user"]["token"]
        article = {"title": "Dragons", "description": "d", "body": "b"}
        status, body = call("POST", f"{api}/articles", {"article": article}, token)
        assert status == 201, body
        comments_url = f"{api}/articles/{body['article']['slug']}/comments"

        start = threading.Barrier(WRITERS + READERS)
        writes: list[tuple[int, Any]] = []
        reads: list[tuple[int, Any]] = []

        def write(n: int) -> None:
            start.wait(10)
            writes.append(call("POST", comments_url, {"comment": {"body": f"c{n}"}}, token))

        def read() -> None:
            start.wait(10)
            reads.append(call("GET", comments_url, token=token))

        threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
        threads += [threading.Thread(target=read) for _ in range(READERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        print(f"\n{WRITERS} writers: {sorted(status for status, _ in writes)}")
        assert [status for status, _ in writes] == [200] * WRITERS, writes
        assert [status for status, _ in reads] == [200] * READERS, reads
        status, body = call("GET", comments_url)
        assert status == 200
        assert sorted(comment["body"] for comment in body["comments"]) == sorted(
            f"c{n}" for n in range(WRITERS)
        )
