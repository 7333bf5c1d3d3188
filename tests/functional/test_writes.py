"""A write function on a real engine, pooled as on Lambda (one connection, no overflow):
one connection checked out per request, one transaction committed, or on failure nothing
committed and the connection given back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, delete, event, select
from sqlalchemy.engine import make_url

from app.core import validation
from app.core.passwords import Passwords
from app.core.services import articles, users
from app.core.tables import favorites
from app.core.tables import users as users_table
from app.core.tokens import TokenIssuer
from app.deploy.events import LambdaContext
from app.deploy.registry import load_registry
from app.platform.db import SINGLE_CONNECTION_POOL, Database
from app.platform.settings import TEST_PASSWORD_HASHING
from tests.support.api import TEST_CONFIG
from tests.support.events import load_event
from tests.support.functions import BY_NAME, import_function, runtime_on
from tests.support.write_parity import lose_the_database_after

# The function that serves favorites, found by its route.
_OWNER = load_registry().owner("POST", "/api/articles/any/favorite")
assert _OWNER is not None and _OWNER.module_name is not None
FUNCTION = _OWNER.module_name


class Counted:
    """Checkouts, commits and rollbacks seen on an engine."""

    def __init__(self, engine: Engine) -> None:
        self.checkouts = self.commits = self.rollbacks = 0
        event.listen(engine, "checkout", self._checkout)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)

    def _checkout(self, *_: Any) -> None:
        self.checkouts += 1

    def _commit(self, *_: Any) -> None:
        self.commits += 1

    def _rollback(self, *_: Any) -> None:
        self.rollbacks += 1


@pytest.fixture
def pooled(engine: Engine) -> Iterator[tuple[Database, str, str]]:
    """The test database through a pool of one connection; an author, a reader's token and
    an article, committed (and removed afterwards)."""
    database = Database.from_url(
        make_url(engine.url).render_as_string(hide_password=False), **SINGLE_CONNECTION_POOL
    )
    tokens = TokenIssuer(TEST_CONFIG["JWT_SECRET"], 3600)
    passwords = Passwords(
        time_cost=TEST_PASSWORD_HASHING.time_cost,
        memory_cost_kib=TEST_PASSWORD_HASHING.memory_cost_kib,
        parallelism=TEST_PASSWORD_HASHING.parallelism,
    )
    with database.transaction() as session:
        new = validation.NewUser("pooled_writer", "pooled_writer@example.com", "p" * 12)
        writer = users.register(session, passwords, tokens, new)["user"]
        article = validation.NewArticle("Pooled writes", "d", "b", [])
        slug = articles.create_article(session, tokens.verify(writer["token"]), article)
    try:
        yield database, writer["token"], slug["article"]["slug"]
    finally:
        with database.transaction() as session:
            session.execute(delete(users_table).where(users_table.c.username == "pooled_writer"))
        database.dispose()


def _favorite(database: Database, token: str, slug: str) -> dict[str, Any]:
    module = import_function(FUNCTION)
    event_ = load_event(
        BY_NAME[FUNCTION].event,
        rawPath=f"/api/articles/{slug}/favorite",
        headers={"authorization": f"Token {token}"},
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "runtime", runtime_on(database))
        answer: dict[str, Any] = module.handler(event_, LambdaContext())
    return answer


def _favorite_count(database: Database) -> int:
    with database.connect() as connection:
        return len(connection.execute(select(favorites)).all())


def test_a_write_takes_one_connection_and_commits_once(pooled: tuple[Database, str, str]) -> None:
    database, token, slug = pooled
    assert isinstance(database.bind, Engine)
    before = _favorite_count(database)
    counted = Counted(database.bind)

    answer = _favorite(database, token, slug)

    assert answer["statusCode"] == 200, answer["body"]
    assert (counted.checkouts, counted.commits, counted.rollbacks) == (1, 1, 0)
    assert database.bind.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert _favorite_count(database) == before + 1


def test_a_write_that_fails_commits_nothing(
    pooled: tuple[Database, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database, token, slug = pooled
    assert isinstance(database.bind, Engine)
    before = _favorite_count(database)
    monkeypatch.setattr(articles, "favorite", lose_the_database_after(articles.favorite))
    counted = Counted(database.bind)

    answer = _favorite(database, token, slug)

    assert answer["statusCode"] == 503, answer["body"]
    assert (counted.checkouts, counted.commits, counted.rollbacks) == (1, 0, 1)
    assert database.bind.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert _favorite_count(database) == before
