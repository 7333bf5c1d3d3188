"""The monolith on Lambda while MariaDB kills every connection of its database, over and
over: several execution environments serve reads and writes through serverless-wsgi
while, every half second, each connection to the test database is `KILL`ed.

A read is safe to run again, so none may fail. A write is never run twice: each one is
either applied exactly once, or answered 503 with nothing written. No environment ever
holds more than its one connection.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from legacy import create_app
from tests.support.api import TEST_CONFIG
from tests.support.lambdas import LambdaContext, http_event, invoke, response_json

pytestmark = pytest.mark.mysql

FUNCTION_NAME = "conduit-test-monolith"
ENVIRONMENTS = 4
STORM_SECONDS = 30.0
KILL_INTERVAL_SECONDS = 0.5
# One request in this many is a write.
WRITE_EVERY = 4
# Each environment pauses between invocations. On Lambda every environment has a CPU
# share of its own; four busy ones on a shared two-core test machine would slow each
# request many times over, until one attempt and its retry span two KILL rounds.
PAUSE_SECONDS = 0.05
STORM_USER = "conduit_storm_{}"
STORM_PASSWORD = "storm-password"
WRITE_MARKER = "storm-write-{}-{}"


@pytest.fixture
def storm_urls(migrated_url: str, admin: Engine) -> Iterator[list[str]]:
    """One database account per environment, so the server says whose each connection is."""
    url = make_url(migrated_url)
    users = [STORM_USER.format(index) for index in range(ENVIRONMENTS)]
    with admin.begin() as connection:
        for user in users:
            connection.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))
            connection.execute(
                text(f"CREATE USER '{user}'@'%' IDENTIFIED BY :password"),
                {"password": STORM_PASSWORD},
            )
            connection.execute(text(f"GRANT ALL PRIVILEGES ON `{url.database}`.* TO '{user}'@'%'"))
    try:
        yield [
            url.set(username=user, password=STORM_PASSWORD).render_as_string(hide_password=False)
            for user in users
        ]
    finally:
        with admin.begin() as connection:
            for user in users:
                connection.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))


def _seed(database_url: str) -> tuple[str, str, str]:
    """A user, an article to read and one to write comments on: (token, read, write)."""
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url})
    try:
        user = {"username": "storm", "email": "storm@example.com", "password": "password123"}
        answer = invoke(app, http_event("POST", "/api/users", body={"user": user}))
        assert answer["statusCode"] == 201, answer
        token = response_json(answer)["user"]["token"]
        slugs = []
        for title in ("Read me", "Write on me"):
            article = {"title": title, "description": "d", "body": "b", "tagList": ["storm"]}
            answer = invoke(
                app,
                http_event(
                    "POST",
                    "/api/articles",
                    headers={"Authorization": f"Token {token}"},
                    body={"article": article},
                ),
            )
            assert answer["statusCode"] == 201, answer
            slugs.append(response_json(answer)["article"]["slug"])
        comment = {"comment": {"body": "first"}}
        answer = invoke(
            app,
            http_event(
                "POST",
                f"/api/articles/{slugs[0]}/comments",
                headers={"Authorization": f"Token {token}"},
                body=comment,
            ),
        )
        assert answer["statusCode"] == 200, answer
    finally:
        app.extensions["conduit"].database.dispose()
    return token, slugs[0], slugs[1]


def _storm_environment(
    index: int,
    environ: dict[str, str],
    token: str,
    read_slug: str,
    write_slug: str,
    start: Any,
    results: Any,
) -> None:
    """One execution environment (a spawned process): requests back to back for
    STORM_SECONDS after the start; reports (method, marker or path, status, body)."""
    os.environ.update(environ)
    outcomes: list[tuple[str, str, int, str]] = []
    warnings = _WarningCounter()
    try:
        from legacy.wsgi import app

        logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "conduit")).addHandler(warnings)

        auth = {"Authorization": f"Token {token}"}
        reads = [
            ("/api/articles", {"tag": "dragons"}, None),
            ("/api/articles", {"limit": 5}, auth),
            (f"/api/articles/{read_slug}", None, auth),
            (f"/api/articles/{read_slug}/comments", None, None),
            ("/api/user", None, auth),
        ]
        start.wait(120)
        deadline = time.monotonic() + STORM_SECONDS
        n = 0
        while time.monotonic() < deadline:
            n += 1
            if n % WRITE_EVERY == 0:
                marker = WRITE_MARKER.format(index, n)
                event = http_event(
                    "POST",
                    f"/api/articles/{write_slug}/comments",
                    headers=auth,
                    body={"comment": {"body": marker}},
                )
                key = ("POST", marker)
            else:
                path, query, headers = reads[n % len(reads)]
                event = http_event("GET", path, query=query, headers=headers)
                key = ("GET", path)
            response = invoke(app, event, LambdaContext(function_name=FUNCTION_NAME))
            outcomes.append((*key, response["statusCode"], str(response.get("body", ""))[:300]))
            time.sleep(PAUSE_SECONDS)
        app.extensions["conduit"].database.dispose()
        results.put((index, outcomes, dict(warnings.counts), None))
    except BaseException as error:  # report everything to the parent
        start.abort()
        results.put((index, outcomes, dict(warnings.counts), repr(error)))


class _WarningCounter(logging.Handler):
    """Counts the app's warnings by message: retried reads, commits found by receipt."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[str(record.msg)] += 1
        error = getattr(record, "error", None)
        if error is not None:
            self.counts[f"  {str(error).splitlines()[0][:160]}"] += 1
        reason = getattr(record, "reason", None)
        if reason is not None:
            self.counts[f"  {reason} ({getattr(record, 'failed_after_ms', '?')} ms)"] += 1


class _Killer(threading.Thread):
    """Every `interval` s, KILLs each connection to the database; samples, in between,
    how many connections each account holds."""

    def __init__(self, admin: Engine, database_name: str, interval: float) -> None:
        super().__init__(name="kill-storm", daemon=True)
        self._admin, self._name, self._interval = admin, database_name, interval
        self._stop_event = threading.Event()
        self.rounds = 0
        self.killed = 0
        self.peak_per_account: Counter[str] = Counter()
        self.samples = 0
        self.error: BaseException | None = None

    def _sample(self, connection: Any) -> None:
        # A KILLed connection stays listed (Command "Killed") for a moment after the
        # server has closed its socket: the environment no longer holds it.
        rows = connection.execute(
            text(
                "SELECT USER, COUNT(*) AS n FROM information_schema.PROCESSLIST "
                "WHERE DB = :name AND COMMAND <> 'Killed' GROUP BY USER"
            ),
            {"name": self._name},
        )
        for user, count in rows:
            self.peak_per_account[user] = max(self.peak_per_account[user], int(count))
        self.samples += 1

    def run(self) -> None:
        ids = text(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = :name AND COMMAND <> 'Killed'"
        )
        try:
            with self._admin.connect() as connection:
                next_round = time.monotonic() + self._interval
                while not self._stop_event.is_set():
                    if time.monotonic() >= next_round:
                        next_round += self._interval
                        self.rounds += 1
                        for (connection_id,) in connection.execute(ids, {"name": self._name}):
                            try:
                                connection.execute(text(f"KILL {int(connection_id)}"))
                                self.killed += 1
                            except DBAPIError:
                                pass  # it ended by itself in the meantime
                    self._sample(connection)
                    self._stop_event.wait(0.02)
        except BaseException as error:
            self.error = error

    def stop(self) -> None:
        self._stop_event.set()
        self.join(10)


def test_kill_storm_fails_no_read_and_applies_no_write_twice(
    storm_urls: list[str], migrated_url: str, admin: Engine
) -> None:
    token, read_slug, write_slug = _seed(migrated_url)
    name = make_url(migrated_url).database
    assert name
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(ENVIRONMENTS + 1)
    results = context.Queue()
    processes = [
        context.Process(
            target=_storm_environment,
            args=(
                index,
                {**TEST_CONFIG, "DATABASE_URL": url, "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME},
                token,
                read_slug,
                write_slug,
                start,
                results,
            ),
            name=f"storm-environment-{index}",
        )
        for index, url in enumerate(storm_urls)
    ]
    killer = _Killer(admin, name, KILL_INTERVAL_SECONDS)
    reports: dict[int, tuple[list[tuple[str, str, int, str]], str | None]] = {}
    warnings: Counter[str] = Counter()
    try:
        for process in processes:
            process.start()
        start.wait(120)
        killer.start()
        for _ in processes:
            try:
                index, outcomes, counts, error = results.get(timeout=STORM_SECONDS + 60)
            except queue.Empty:
                pytest.fail(f"environments did not report: got {sorted(reports)}")
            reports[index] = (outcomes, error)
            warnings.update(counts)
        for process in processes:
            process.join(30)
    finally:
        killer.stop()
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join(5)
            process.close()
        results.close()
        results.join_thread()

    assert killer.error is None, killer.error
    for index, (_, error) in sorted(reports.items()):
        assert error is None, f"environment {index} failed: {error}"
    outcomes = [outcome for report, _ in reports.values() for outcome in report]
    reads = [outcome for outcome in outcomes if outcome[0] == "GET"]
    writes = [outcome for outcome in outcomes if outcome[0] == "POST"]
    read_statuses = Counter(status for _, _, status, _ in reads)
    write_statuses = Counter(status for _, _, status, _ in writes)

    engine = create_engine(migrated_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            stored = Counter(
                body
                for (body,) in connection.execute(
                    text("SELECT body FROM comments WHERE body LIKE 'storm-write-%'")
                )
            )
    finally:
        engine.dispose()

    print(
        f"\n{ENVIRONMENTS} environments, {STORM_SECONDS:.0f} s, a KILL round every "
        f"{KILL_INTERVAL_SECONDS} s: {killer.rounds} rounds, {killer.killed} connections killed; "
        f"reads {dict(read_statuses)}, writes {dict(write_statuses)}, "
        f"comments stored {sum(stored.values())}; peak connections per environment "
        f"{dict(killer.peak_per_account)} over {killer.samples} samples; "
        f"warnings {dict(warnings)}"
    )
    assert killer.rounds >= STORM_SECONDS / KILL_INTERVAL_SECONDS * 0.8
    assert killer.killed >= killer.rounds / 2, "the storm hardly found a connection to kill"
    failed_reads = [outcome for outcome in reads if outcome[2] != 200]
    assert not failed_reads, failed_reads[:5]
    assert set(write_statuses) <= {200, 503}, [w for w in writes if w[2] not in (200, 503)][:5]
    applied = {marker for _, marker, status, _ in writes if status == 200}
    refused = {marker for _, marker, status, _ in writes if status == 503}
    assert all(stored[marker] == 1 for marker in applied), {
        marker: stored[marker] for marker in applied if stored[marker] != 1
    }
    assert not refused & set(stored), sorted(refused & set(stored))
    assert set(stored) == applied
    assert set(killer.peak_per_account) <= {STORM_USER.format(i) for i in range(ENVIRONMENTS)}
    assert max(killer.peak_per_account.values()) == 1, killer.peak_per_account
