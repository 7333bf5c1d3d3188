"""SnapStart, simulated here by a fork: a function initialised in this process, the
before-snapshot hooks run, then a restored copy (a child) runs the after-restore hooks and
serves its first request. What init made must not leak into the copy: the database
connection, the IAM auth token, the random stream."""

from __future__ import annotations

import random
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import pymysql
import pytest
from sqlalchemy import Engine, create_engine, event, insert, text
from sqlalchemy.pool import NullPool

from app.core.tables import articles, comments, users, utcnow
from app.deploy.events import LambdaContext, http_event
from app.deploy.registry import load_registry
from app.platform import snapshot
from app.platform.db import Database
from app.platform.rds_iam import IamAuthToken
from app.platform.schema import upgrade
from app.platform.settings import Settings
from tests.support.api import TEST_CONFIG
from tests.support.events import load_event
from tests.support.functions import import_function, runtime_on


@pytest.fixture(autouse=True)
def snapstart(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A SnapStart function (SNAPSTART set), with no hook but those its test registers."""
    monkeypatch.setenv("SNAPSTART", "PublishedVersions")
    before, after = list(snapshot._before_snapshot), list(snapshot._after_restore)
    primed = list(snapshot._primed)
    snapshot._before_snapshot[:] = []
    snapshot._after_restore[:] = [snapshot.reseed_random]
    yield
    snapshot._before_snapshot[:] = before
    snapshot._after_restore[:] = after
    snapshot._primed[:] = primed


@pytest.fixture
def migrated(backend: str, fresh_database_url: Any) -> str:
    url: str = fresh_database_url(backend)
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        upgrade(connection)
    engine.dispose()
    return url


@pytest.fixture
def deploy(migrated: str) -> Iterator[Callable[[bool], Database]]:
    """The Database a function builds from its settings, with its snapshot hooks: reads-only
    for one that serves GET routes alone (Runtime.from_env(reads_only=True))."""
    settings = Settings.from_env({"APP_ENV": "test", "DATABASE_URL": migrated, **TEST_CONFIG})
    before = list(snapshot._before_snapshot)
    made: list[Database] = []

    def make(reads_only: bool) -> Database:
        made.append(Database.from_settings(settings, reads_only=reads_only))
        return made[-1]

    yield make
    for database in made:
        database.dispose()
    snapshot._before_snapshot[:] = before


@pytest.fixture
def deployed(deploy: Callable[[bool], Database]) -> Database:
    """`deploy`'s, for a function that can write."""
    return deploy(False)


def _connection_id(database: Database) -> Any:
    with database.connect() as connection:
        if connection.dialect.name == "sqlite":
            return id(connection.connection.dbapi_connection)
        return connection.execute(text("SELECT CONNECTION_ID()")).scalar()


def test_a_restored_copy_opens_its_own_connection_and_serves(
    backend: str, deployed: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = import_function("list_tags")
    monkeypatch.setattr(module, "runtime", runtime_on(deployed))
    event = http_event("GET", "/api/tags", route="/api/tags")
    parent_id = _connection_id(deployed)
    assert deployed.bind.pool.checkedin() == 1  # type: ignore[union-attr]

    def first_request() -> dict[str, Any]:
        answer = module.handler(dict(event), LambdaContext(function_name="conduit-test-tags"))
        return {"status": answer["statusCode"], "connection": _connection_id(deployed)}

    [copy] = snapshot.fork_restore(first_request)

    # The before-snapshot hook emptied the pool: nothing open went into the "snapshot".
    assert deployed.bind.pool.checkedin() == 0  # type: ignore[union-attr]
    assert copy["value"]["status"] == 200  # type: ignore[index]
    if backend == "mysql":
        assert copy["value"]["connection"] != parent_id  # type: ignore[index]


def test_a_restored_copy_signs_a_new_iam_token() -> None:
    issued: list[int] = []

    def issue(**_: Any) -> str:
        issued.append(1)
        return f"token-{len(issued)}"

    token = IamAuthToken(host="proxy", port=3306, user="app", region="eu-west-1", issue=issue)
    snapshot.after_restore(token.forget)
    try:
        made_at_init = token()
        [copy] = snapshot.fork_restore(token)
    finally:
        snapshot._after_restore.remove(token.forget)
    assert made_at_init == "token-1"
    assert copy["value"] == "token-2"  # signed anew in the copy, not the one made at init
    assert token() == "token-1"  # the parent keeps its own


def test_the_database_of_a_deployed_function_drops_its_token_on_restore(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environ = {
        "APP_ENV": "prod",
        "DB_HOST": "proxy.example.internal",
        "DB_NAME": "conduit",
        "DB_USER": "conduit_app",
        "JWT_SECRET_ID": "conduit/prod/jwt",
        "AWS_REGION": "eu-west-1",
        # Settings are all or nothing today: a deployed stage needs the export ones too.
        "EXPORTS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/exports",
        "EXPORTS_BUCKET": "exports",
        "EXPORTS_KMS_KEY_ID": "alias/conduit",
    }
    before, after = list(snapshot._before_snapshot), list(snapshot._after_restore)
    try:
        database = Database.from_settings(Settings.from_env(environ))
        added = [hook for hook in snapshot._after_restore if hook not in after]
        owners = [type(getattr(hook, "__self__", None)) for hook in added]
        assert owners == [IamAuthToken, Database]  # forget the token, then reconnect
        assert database.dispose in snapshot._before_snapshot
    finally:
        snapshot._before_snapshot[:] = before
        snapshot._after_restore[:] = after


def test_a_restore_reseeds_the_random_generator() -> None:
    """Copies restored from one snapshot start from one generator state; the after-restore
    hooks must move each off it. (A fork cannot show this: `random` reseeds itself in a
    forked child, which a SnapStart restore does not do.)"""

    def draw() -> list[float]:
        return [random.random() for _ in range(4)]  # noqa: S311 - its state is under test

    random.seed(1234)  # as if init had fixed the generator's state
    at_snapshot = random.getstate()
    snapshot.run_after_restore()
    first = draw()
    random.setstate(at_snapshot)
    snapshot.run_after_restore()
    second = draw()
    assert first != second


def test_priming_compiles_the_services_statements_without_a_connection() -> None:
    import_function("get_article")
    compiled = snapshot.prime()
    assert compiled > 0


def test_a_function_primes_only_the_statements_its_handler_can_reach() -> None:
    import_function("get_profile")
    import_function("create_article")
    reachable = snapshot.reachable_statements("app.functions.get_profile")
    sql = [str(statement) for statement in reachable]
    assert any("FROM users" in text and "username" in text for text in sql), sql
    assert not any(text.startswith("INSERT") for text in sql), sql  # no write of another
    assert len(reachable) < snapshot.prime()  # the monolith's priming takes every service


def _account(connection: Any, username: str) -> int:
    account = {"username": username, "email": f"{username}@example.com", "password_hash": "x"}
    return int(connection.execute(insert(users).values(account)).inserted_primary_key[0])


# Every function builds all its statements at import.
FUNCTIONS = load_registry().switched


@pytest.mark.parametrize("function", FUNCTIONS, ids=[f.name for f in FUNCTIONS])
def test_a_restored_copy_finds_its_first_requests_statements_compiled(
    backend: str,
    migrated: str,
    deploy: Callable[[bool], Database],
    monkeypatch: pytest.MonkeyPatch,
    function: Any,
) -> None:
    """Before the snapshot, priming found the statements the function's handler can reach;
    the restored copy compiled them into its engine's cache once its dialect had met the
    server (the reconnect hook), under the keys the first request looks up: no statement
    of that request is compiled then. The request carries a token, so the account check
    runs too. The database is made as the function makes it (reads-only for a read)."""
    deployed = deploy(function.reads_only)
    module = import_function(str(function.module_name))
    monkeypatch.setattr(module, "runtime", runtime_on(deployed))
    # As init did (this process may have imported the module without it).
    snapshot.prime(module.__name__)
    seeding = create_engine(migrated, poolclass=NullPool)  # not the function's engine
    with seeding.begin() as connection:
        # The caller, the account the sample events name, and what they act on: each
        # request succeeds, so its writes run too.
        user_id = _account(connection, "celeste")
        _account(connection, "jake")
        now = utcnow()
        for slug in ("how-to-train-your-dragon", "jane-s-draft", "jane-s-story"):
            article = {"slug": slug, "title": slug, "description": "d", "body": "b",
                       "author_id": user_id, "created_at": now, "updated_at": now}  # fmt: skip
            connection.execute(insert(articles).values(article))
        connection.execute(insert(comments).values(
            id=1, body="first", article_id=1, author_id=user_id, created_at=now, updated_at=now
        ))  # fmt: skip
    seeding.dispose()
    token = module.runtime.tokens.issue(user_id)
    request = load_event(str(function.module_name), headers={"authorization": f"Token {token}"})
    engine = deployed.bind
    assert isinstance(engine, Engine)

    def first_request() -> dict[str, Any]:
        seen: list[str] = []

        def record(*args: Any) -> None:
            statement, context = args[2], args[4]
            if statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
                return  # compiled anew each time, in a warm request too; no cache of its own
            if context.compiled is not None:  # not SQL sent as a string (SQLite's BEGIN)
                seen.append(context.cache_hit.name)

        event.listen(engine, "after_cursor_execute", record)
        answer = module.handler(dict(request), LambdaContext(function_name="conduit-test"))
        return {"status": answer["statusCode"], "statements": seen}

    [copy] = snapshot.fork_restore(first_request)
    value = copy["value"]
    assert 200 <= value["status"] < 300, value  # type: ignore[index,operator]
    assert value["statements"]  # type: ignore[index]
    assert set(value["statements"]) == {"CACHE_HIT"}  # type: ignore[index]


@pytest.mark.parametrize("tls", [False, True])
def test_a_connection_without_tls_builds_no_tls_context(
    tls: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DB_TLS=false means no TLS: PyMySQL, left to itself, would offer TLS and build a
    context for it (the system trust store, read anew) for every connection it opens, the
    reconnect after each restore among them. With TLS on, the context is made once, at
    init."""
    settings = Settings.from_env(
        {
            **TEST_CONFIG,
            "DB_HOST": "127.0.0.1",
            "DB_NAME": "conduit",
            "DB_USER": "conduit_app",
            "DB_IAM_AUTH": "false",
            "DB_TLS": "true" if tls else "false",
        }
    )
    database = Database.from_settings(settings)
    engine = database.bind
    assert isinstance(engine, Engine)
    driver_arguments: dict[str, Any] = {}

    class Captured(Exception):
        pass

    def capture(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        driver_arguments.update(cparams)
        raise Captured

    event.listen(engine, "do_connect", capture)
    with pytest.raises(Captured):
        engine.connect()
    contexts: list[object] = []
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **k: contexts.append(a))
    connection = pymysql.connections.Connection(defer_connect=True, **driver_arguments)
    assert connection.ssl is tls
    assert contexts == []
