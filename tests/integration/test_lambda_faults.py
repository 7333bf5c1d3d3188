"""The monolith on Lambda against a real MariaDB that fails the way databases do.

Each app here is built the way an execution environment builds it: with
AWS_LAMBDA_FUNCTION_NAME set, so `Database.from_settings` holds one pooled connection
(pool_size=1, max_overflow=0, pinged before use), and every request goes through
serverless-wsgi with an HTTP API v2.0 event. MariaDB only: these are about MySQL
connections, so they are not parametrized by the `backend` fixture.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool, QueuePool

import app.platform.db as db_module
from app.platform.db import (
    MYSQL_CONNECT_TIMEOUT_SECONDS,
    MYSQL_POOL_RECYCLE_SECONDS,
    Database,
)
from app.platform.rds_iam import TOKEN_LIFETIME_SECONDS, TOKEN_REUSE_SECONDS, IamAuthToken
from app.platform.settings import Settings
from legacy import create_app
from tests.support.api import TEST_CONFIG
from tests.support.lambdas import (
    ForwarderMode,
    LambdaContext,
    TcpForwarder,
    http_event,
    invoke,
    response_json,
)

pytestmark = pytest.mark.mysql

FUNCTION_NAME = "conduit-test-monolith"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
# How much longer than connect_timeout an unreachable database may hold a request.
UNAVAILABLE_MARGIN_SECONDS = 7.0
ENVIRONMENTS = 4
INVOCATIONS_PER_ENVIRONMENT = 30


# --- fixtures and helpers -------------------------------------------------------------


@pytest.fixture
def on_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment of a Lambda execution environment, as far as the app reads it."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)
    for name in ("DATABASE_URL", "DB_HOST", "DB_NAME", "DB_USER", "DB_IAM_AUTH", "DB_TLS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def lambda_app(on_lambda: None) -> Iterator[Callable[[str], Flask]]:
    """Builds monolith apps on a DATABASE_URL; their engines are disposed afterwards."""
    apps: list[Flask] = []

    def build(database_url: str) -> Flask:
        app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url})
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["conduit"].database.dispose()


def _database_name(url: str) -> str:
    name = make_url(url).database
    assert name
    return name


def _connection_ids(admin: Engine, database_name: str) -> list[int]:
    with admin.connect() as connection:
        rows = connection.execute(
            text("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = :name ORDER BY ID"),
            {"name": database_name},
        )
        return [int(row.ID) for row in rows]


def _header(response: dict[str, Any], name: str) -> str | None:
    for key, value in response.get("headers", {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _assert_ok(response: dict[str, Any], status: int = 200) -> Any:
    assert response["statusCode"] == status, response
    assert _header(response, "Content-Type") == JSON_CONTENT_TYPE
    return response_json(response)


def _assert_unavailable(response: dict[str, Any]) -> None:
    assert response["statusCode"] == 503, response
    assert _header(response, "Content-Type") == JSON_CONTENT_TYPE
    retry_after = _header(response, "Retry-After")
    assert retry_after is not None and retry_after.isdigit(), response
    body = response_json(response)
    assert set(body) == {"errors"} and set(body["errors"]) == {"body"}, body
    messages = body["errors"]["body"]
    assert isinstance(messages, list) and messages, body
    assert all(isinstance(message, str) and message for message in messages), body


def _tag_lists(response: dict[str, Any]) -> list[list[str]]:
    """The tags of each article of a list the monolith answered (GET /api/tags is retired
    from it: its function serves that route)."""
    return [article["tagList"] for article in _assert_ok(response)["articles"]]


def _register(app: Flask, username: str) -> str:
    user = {"username": username, "email": f"{username}@example.com", "password": "password123"}
    body = _assert_ok(invoke(app, http_event("POST", "/api/users", body={"user": user})), 201)
    return str(body["user"]["token"])


# --- a connection that dies between invocations ---------------------------------------


def test_connection_killed_between_invocations_is_replaced(
    lambda_app: Callable[[str], Flask], migrated_url: str, admin: Engine
) -> None:
    app = lambda_app(migrated_url)
    name = _database_name(migrated_url)
    token = _register(app, f"killed{uuid.uuid4().hex[:8]}")
    article = {"title": "Dragons", "description": "d", "body": "b", "tagList": ["z", "dragons"]}
    created = http_event(
        "POST",
        "/api/articles",
        headers={"Authorization": f"Token {token}"},
        body={"article": article},
    )
    _assert_ok(invoke(app, created), 201)
    assert _tag_lists(invoke(app, http_event("GET", "/api/articles"))) == [["dragons", "z"]]

    before = _connection_ids(admin, name)
    assert len(before) == 1, f"the app should hold exactly one connection: {before}"
    with admin.connect() as connection:
        connection.execute(text(f"KILL {before[0]}"))
    deadline = time.monotonic() + 5
    while before[0] in _connection_ids(admin, name):
        assert time.monotonic() < deadline, "the killed connection is still listed"
        time.sleep(0.02)

    assert _tag_lists(invoke(app, http_event("GET", "/api/articles"))) == [["dragons", "z"]]
    after = _connection_ids(admin, name)
    print(f"\nkilled connection {before[0]}; replaced by {after}")
    assert len(after) == 1 and after[0] != before[0], (before, after)


# --- a database that stops answering, refuses, and comes back -------------------------


def test_database_unreachable_answers_503_then_recovers(
    lambda_app: Callable[[str], Flask], migrated_url: str
) -> None:
    server = make_url(migrated_url)
    # A read the monolith still serves (GET /api/tags is retired from it).
    read = http_event("GET", "/api/articles")
    with TcpForwarder((server.host or "127.0.0.1", server.port or 3306)) as forwarder:
        via_forwarder = server.set(host="127.0.0.1", port=forwarder.port)
        app = lambda_app(via_forwarder.render_as_string(hide_password=False))
        try:
            assert _assert_ok(invoke(app, read)) == {"articles": [], "articlesCount": 0}

            # The server hangs: the pooled connection drops and a new one gets no greeting.
            forwarder.set_mode(ForwarderMode.BLACKHOLE)
            forwarder.drop_connections()
            started = time.perf_counter()
            hung = invoke(app, read)
            hung_seconds = time.perf_counter() - started
            print(f"\nblackhole: {hung['statusCode']} after {hung_seconds:.2f} s")
            assert forwarder.blackholed >= 1, "the app never tried to reconnect"
            _assert_unavailable(hung)

            # Nothing listens any more: refused at once.
            forwarder.set_mode(ForwarderMode.REFUSE)
            started = time.perf_counter()
            refused = invoke(app, read)
            print(f"refused: {refused['statusCode']} after {time.perf_counter() - started:.2f} s")
            _assert_unavailable(refused)

            # Back up: the same app object answers again, with no restart.
            accepted = forwarder.accepted
            forwarder.set_mode(ForwarderMode.UP)
            assert _assert_ok(invoke(app, read)) == {"articles": [], "articlesCount": 0}
            assert forwarder.accepted > accepted
        finally:
            app.extensions["conduit"].database.dispose()

    # Checked last so that a slow answer still lets the phases above run.
    bound = MYSQL_CONNECT_TIMEOUT_SECONDS + UNAVAILABLE_MARGIN_SECONDS
    assert hung_seconds < bound, (
        f"a database that accepts connections but never answers held the request "
        f"{hung_seconds:.1f} s (connect_timeout is {MYSQL_CONNECT_TIMEOUT_SECONDS} s)"
    )


# --- a pooled connection that goes silent ----------------------------------------------

# The request that finds its pooled connection silent is answered within this.
SILENT_CONNECTION_BOUND_SECONDS = 6.0


@pytest.mark.parametrize(
    ("new_connections", "status"), [(ForwarderMode.UP, 200), (ForwarderMode.BLACKHOLE, 503)]
)
def test_a_silent_pooled_connection_is_replaced_within_seconds(
    lambda_app: Callable[[str], Flask],
    migrated_url: str,
    new_connections: ForwarderMode,
    status: int,
) -> None:
    """The pooled connection stops answering without closing. The liveness check finds
    it dead well before the query read timeout; the request is served on a new
    connection, or answered 503 if the server takes no new ones either."""
    server = make_url(migrated_url)
    # A read the monolith still serves (GET /api/tags is retired from it).
    read = http_event("GET", "/api/articles")
    with TcpForwarder((server.host or "127.0.0.1", server.port or 3306)) as forwarder:
        via_forwarder = server.set(host="127.0.0.1", port=forwarder.port)
        app = lambda_app(via_forwarder.render_as_string(hide_password=False))
        assert _assert_ok(invoke(app, read)) == {"articles": [], "articlesCount": 0}
        accepted = forwarder.accepted

        forwarder.silence_connections()
        forwarder.set_mode(new_connections)
        started = time.perf_counter()
        response = invoke(app, read)
        seconds = time.perf_counter() - started
        print(
            f"\nsilent pooled connection, new ones {new_connections.value}: "
            f"{response['statusCode']} after {seconds:.2f} s"
        )
        if status == 200:
            assert _assert_ok(response) == {"articles": [], "articlesCount": 0}
            assert forwarder.accepted == accepted + 1
        else:
            _assert_unavailable(response)
            assert forwarder.blackholed >= 1
        assert seconds < SILENT_CONNECTION_BOUND_SECONDS, (
            f"a silent pooled connection held the request {seconds:.1f} s"
        )


# --- several execution environments at once -------------------------------------------


def _execution_environment(
    index: int,
    environ: dict[str, str],
    invocations: int,
    start: Any,
    results: Any,
) -> None:
    """One simulated execution environment (runs in a spawned process)."""
    os.environ.update(environ)
    outcomes: list[tuple[int, str]] = []
    try:
        # The handler module builds the app at import, once per environment.
        from legacy.wsgi import app

        start.wait(60)
        for n in range(invocations):
            if n % 3 == 0:
                event = http_event("GET", "/api/articles", query={"tag": "dragons"})
            elif n % 3 == 1:
                event = http_event("GET", "/api/articles", query={"limit": 5})
            else:
                username = f"env{index}n{n}{uuid.uuid4().hex[:6]}"
                user = {
                    "username": username,
                    "email": f"{username}@example.com",
                    "password": "password123",
                }
                event = http_event("POST", "/api/users", body={"user": user})
            response = invoke(app, event, LambdaContext(function_name=FUNCTION_NAME))
            outcomes.append((response["statusCode"], str(response.get("body", ""))[:200]))
        app.extensions["conduit"].database.dispose()
        results.put((index, outcomes, None))
    except BaseException as error:  # report everything to the parent
        start.abort()  # the others stop waiting for this one
        results.put((index, outcomes, repr(error)))


class _ConnectionMonitor(threading.Thread):
    """Samples how many server connections use one database, every `interval` s."""

    def __init__(self, admin: Engine, database_name: str, interval: float = 0.02) -> None:
        super().__init__(name="processlist-monitor", daemon=True)
        self._admin, self._name, self._interval = admin, database_name, interval
        self._stop_event = threading.Event()
        self.samples: list[int] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        query = text("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = :name")
        try:
            with self._admin.connect() as connection:
                while not self._stop_event.is_set():
                    count = connection.execute(query, {"name": self._name}).scalar_one()
                    self.samples.append(int(count))
                    self._stop_event.wait(self._interval)
        except BaseException as error:
            self.error = error

    def stop(self) -> None:
        self._stop_event.set()
        self.join(10)


def test_concurrent_environments_hold_at_most_one_connection_each(
    migrated_url: str, admin: Engine
) -> None:
    name = _database_name(migrated_url)
    environ = {
        **TEST_CONFIG,
        "DATABASE_URL": migrated_url,
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
    }
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(ENVIRONMENTS)
    results = context.Queue()
    processes = [
        context.Process(
            target=_execution_environment,
            args=(index, environ, INVOCATIONS_PER_ENVIRONMENT, start, results),
            name=f"environment-{index}",
        )
        for index in range(ENVIRONMENTS)
    ]
    monitor = _ConnectionMonitor(admin, name)
    monitor.start()
    started = time.perf_counter()
    reports: dict[int, tuple[list[tuple[int, str]], str | None]] = {}
    try:
        for process in processes:
            process.start()
        for _ in processes:
            try:
                index, outcomes, error = results.get(timeout=90)
            except queue.Empty:
                pytest.fail(f"execution environments did not report: got {sorted(reports)}")
            reports[index] = (outcomes, error)
        for process in processes:
            process.join(30)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join(5)
            process.close()
        results.close()
        results.join_thread()
        monitor.stop()
    elapsed = time.perf_counter() - started

    assert monitor.error is None, monitor.error
    peak = max(monitor.samples, default=0)
    print(
        f"\n{ENVIRONMENTS} environments x {INVOCATIONS_PER_ENVIRONMENT} invocations in "
        f"{elapsed:.1f} s; processlist sampled {len(monitor.samples)} times, "
        f"max connections on the database: {peak}"
    )
    for index, (outcomes, error) in sorted(reports.items()):
        assert error is None, f"environment {index} failed: {error}"
        assert len(outcomes) == INVOCATIONS_PER_ENVIRONMENT
        failures = [outcome for outcome in outcomes if not 200 <= outcome[0] < 300]
        assert not failures, f"environment {index}: {failures}"
    assert 1 <= peak <= ENVIRONMENTS, (
        f"{peak} connections at once from {ENVIRONMENTS} environments "
        f"(samples above {ENVIRONMENTS}: {sum(n > ENVIRONMENTS for n in monitor.samples)})"
    )


# --- the engine a Lambda environment holds --------------------------------------------


def test_lambda_engine_is_one_pinged_connection_with_connect_timeout(
    lambda_app: Callable[[str], Flask], fresh_database_url: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = fresh_database_url("mysql")
    engine = lambda_app(url).extensions["conduit"].database.bind
    assert isinstance(engine, Engine)
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    assert pool.size() == 1
    assert pool._max_overflow == 0
    assert pool._pre_ping is True
    assert 0 < pool._recycle == MYSQL_POOL_RECYCLE_SECONDS
    with engine.connect() as connection:
        dbapi_connection = connection.connection.dbapi_connection
        assert dbapi_connection is not None
        assert dbapi_connection.connect_timeout == MYSQL_CONNECT_TIMEOUT_SECONDS

    # The same settings off Lambda keep an ordinary pool: the shape comes from the env.
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    server = Database.from_settings(Settings.from_env({**TEST_CONFIG, "DATABASE_URL": url}))
    try:
        assert isinstance(server.bind, Engine) and server.bind.pool.size() > 1  # type: ignore[attr-defined]
    finally:
        server.dispose()


# --- IAM auth tokens ------------------------------------------------------------------

IAM_USER = "conduit_iam_test"
IAM_REGION = "eu-west-1"


def _fake_token(n: int) -> str:
    # Shaped like an RDS auth token (a presigned URL without its scheme).
    return (
        f"127.0.0.1:3306/?Action=connect&DBUser={IAM_USER}&X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Date=20240101T00000{n}Z&X-Amz-Expires=900&X-Amz-Signature={n:064x}"
    )


class FakeIssuer:
    """Stands in for the token signer: hands out the given tokens, records each call."""

    def __init__(self, tokens: list[str]) -> None:
        self._tokens = iter(tokens)
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> str:
        self.calls.append(kwargs)
        return next(self._tokens)


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_iam_token_is_reused_for_ten_minutes_then_renewed() -> None:
    issuer, clock = FakeIssuer(["t1", "t2", "t3"]), FakeClock()
    token = IamAuthToken(
        host="proxy.example", port=3306, user="app", region=IAM_REGION, issue=issuer, clock=clock
    )
    assert TOKEN_REUSE_SECONDS == 600 < TOKEN_LIFETIME_SECONDS
    assert token() == "t1"
    clock.advance(TOKEN_REUSE_SECONDS - 0.5)
    assert token() == "t1"
    assert len(issuer.calls) == 1
    clock.advance(0.5)
    assert token() == "t2"
    assert token() == "t2"
    assert (
        issuer.calls
        == [{"host": "proxy.example", "port": 3306, "user": "app", "region": IAM_REGION}] * 2
    )


@pytest.fixture
def iam_database(fresh_database_url: Any, admin: Engine) -> Iterator[str]:
    """A database only IAM_USER may use, whose password is the first fake token."""
    name = _database_name(fresh_database_url("mysql"))
    with admin.begin() as connection:
        connection.execute(text(f"DROP USER IF EXISTS '{IAM_USER}'@'%'"))
        connection.execute(
            text(f"CREATE USER '{IAM_USER}'@'%' IDENTIFIED BY :token"), {"token": _fake_token(1)}
        )
        connection.execute(text(f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{IAM_USER}'@'%'"))
    try:
        yield name
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP USER IF EXISTS '{IAM_USER}'@'%'"))


def test_iam_token_is_the_password_of_each_new_connection(
    monkeypatch: pytest.MonkeyPatch, iam_database: str, admin: Engine
) -> None:
    settings = Settings.from_env(
        {
            **TEST_CONFIG,
            "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
            "AWS_REGION": IAM_REGION,
            "DB_HOST": "127.0.0.1",
            "DB_PORT": "3306",
            "DB_NAME": iam_database,
            "DB_USER": IAM_USER,
            "DB_IAM_AUTH": "true",
            "DB_TLS": "false",  # the local MariaDB has no TLS
        }
    )
    access = settings.database_access
    assert access.iam_auth and access.single_connection and not access.tls
    assert make_url(settings.database_url).password is None

    # Without a token the account stays shut: a connection proves the token was sent.
    plain = create_engine(settings.database_url, poolclass=NullPool)
    try:
        with pytest.raises(OperationalError, match="Access denied"):
            plain.connect().close()
    finally:
        plain.dispose()

    issuer, clock = FakeIssuer([_fake_token(1), _fake_token(2)]), FakeClock()
    monkeypatch.setattr(
        db_module, "IamAuthToken", functools.partial(IamAuthToken, issue=issuer, clock=clock)
    )
    engine = Database.from_settings(settings).bind
    assert isinstance(engine, Engine)

    def connection_id() -> int:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT CURRENT_USER()")) == f"{IAM_USER}@%"
            return int(connection.scalar(text("SELECT CONNECTION_ID()")))

    try:
        first = connection_id()
        assert issuer.calls == [
            {"host": "127.0.0.1", "port": 3306, "user": IAM_USER, "region": IAM_REGION}
        ]
        # The pooled connection is reused: no new connection, no new token.
        assert connection_id() == first
        assert len(issuer.calls) == 1

        # A new connection within ten minutes opens with the same token.
        clock.advance(TOKEN_REUSE_SECONDS - 60)
        engine.dispose()
        second = connection_id()
        assert second != first
        assert len(issuer.calls) == 1

        # Past ten minutes a new connection asks for a new token, and only opens with it.
        with admin.begin() as connection:
            connection.execute(
                text(f"ALTER USER '{IAM_USER}'@'%' IDENTIFIED BY :token"),
                {"token": _fake_token(2)},
            )
        clock.advance(60)
        engine.dispose()
        assert connection_id() not in (first, second)
        assert len(issuer.calls) == 2
    finally:
        engine.dispose()
