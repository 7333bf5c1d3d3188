"""Parity for writes: the same request, from the same database state, to the monolith (as
serverless-wsgi runs it on Lambda) and to the dedicated function; the same answer and the
same effect on the database.

Each side runs inside a savepoint of the world's connection that is rolled back after it,
so both start from the seeded world and leave it as it was. What is compared:

- the status, the headers (Content-Length aside: API Gateway sets its own) and the body.
  Values a write generates (`id`, `createdAt`, `updatedAt`, a slug's random suffix) may
  differ between the two runs: where they do, both must have the shape of such a value;
- the effect, table by table: rows inserted, rows deleted, and for rows updated the columns
  that changed, old and new. Ids the write generated are named by table and order (the
  first new article, ...) wherever they appear, keys and foreign keys alike; new
  timestamps and password hashes are compared by kind; everything else by value.

`differences()` lists what differs, in words; `assert_write_case()` runs a case and asserts
there is nothing. Tests of the comparison itself hand it a deliberately wrong handler and
assert that it reports the difference.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any

from sqlalchemy import Connection, Table, event, select
from sqlalchemy.exc import OperationalError

from app.core.tables import comments, metadata, users
from tests.contract.conftest import World
from tests.contract.test_parity import AUTHS, Status, headers_of
from tests.events import load_event
from tests.functions.support import BY_NAME
from tests.lambda_support import LambdaContext, invoke

Row = dict[str, Any]
Key = tuple[Any, ...]

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SLUG_SUFFIX = re.compile(r"-[0-9a-f]{8}$")
ARGON2 = re.compile(r"^\$argon2id\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")

# Statements that would pin an RDS Proxy connection to the client (MySQL engine family).
PINNING = re.compile(
    r"^\s*(SET\s|PREPARE\s|EXECUTE\s|LOCK\s|UNLOCK\s|CREATE\s+TEMPORARY\s)"
    r"|@[A-Za-z_]|GET_LOCK\s*\(|\bFOR\s+UPDATE\b|LOCK\s+IN\s+SHARE\s+MODE",
    re.IGNORECASE,
)


# --- the world's state, and what a request did to it ---------------------------------


def snapshot(connection: Connection) -> dict[str, dict[Key, Row]]:
    """Every row of every table, keyed by primary key."""
    state: dict[str, dict[Key, Row]] = {}
    for table in metadata.sorted_tables:
        keys = [column.name for column in table.primary_key.columns]
        rows = connection.execute(select(table)).mappings()
        state[table.name] = {tuple(row[k] for k in keys): dict(row) for row in rows}
    return state


@dataclass
class TableEffect:
    inserted: list[Row] = field(default_factory=list)
    deleted: list[Row] = field(default_factory=list)
    # (primary key, {column: (old, new)}) of each row whose values changed.
    updated: list[tuple[Key, dict[str, tuple[Any, Any]]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.inserted or self.deleted or self.updated)

    def counts(self) -> tuple[int, int, int]:
        return len(self.inserted), len(self.updated), len(self.deleted)


Effect = dict[str, TableEffect]


def effect_between(before: dict[str, dict[Key, Row]], after: dict[str, dict[Key, Row]]) -> Effect:
    effect: Effect = {}
    for name, rows_before in before.items():
        rows_after = after[name]
        change = TableEffect(
            inserted=[rows_after[k] for k in rows_after.keys() - rows_before.keys()],
            deleted=[rows_before[k] for k in rows_before.keys() - rows_after.keys()],
        )
        for key in rows_before.keys() & rows_after.keys():
            old, new = rows_before[key], rows_after[key]
            changed = {c: (old[c], new[c]) for c in old if old[c] != new[c]}
            if changed:
                change.updated.append((key, changed))
        if change:
            effect[name] = change
    return effect


def _new_ids(effect: Effect) -> dict[tuple[str, Any], str]:
    """Each generated id, by (table, value), as a name that does not depend on the value:
    the n-th new row of the table, in the order of their ids."""
    names: dict[tuple[str, Any], str] = {}
    for table_name, change in effect.items():
        table = metadata.tables[table_name]
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(
            change.inserted and change.inserted[0][keys[0].name], int
        ):
            continue
        ids = sorted(row[keys[0].name] for row in change.inserted)
        for number, value in enumerate(ids, 1):
            names[(table_name, value)] = f"<new {table_name} #{number}>"
    return names


def _references(table: Table) -> dict[str, str]:
    """column -> the table its values are ids of (itself, for a single integer key)."""
    found = {fk.parent.name: fk.column.table.name for fk in table.foreign_keys}
    keys = list(table.primary_key.columns)
    if len(keys) == 1:
        found[keys[0].name] = table.name
    return found


def _generated_value(column: str, value: Any) -> Any:
    """A value the write made up, by kind: a timestamp, a password hash, a slug suffix."""
    if isinstance(value, datetime):
        return "<timestamp>"
    if column == "password_hash" and isinstance(value, str) and ARGON2.match(value):
        return "<argon2id hash>"
    if column == "slug" and isinstance(value, str):
        return SLUG_SUFFIX.sub("-<random suffix>", value)
    return value


def normalized(effect: Effect) -> dict[str, dict[str, list[str]]]:
    """The effect with generated values named by kind, rows sorted: what two runs of the
    same write have in common."""
    ids = _new_ids(effect)
    result: dict[str, dict[str, list[str]]] = {}
    for table_name, change in effect.items():
        table = metadata.tables[table_name]
        refs = _references(table)

        def name_ids(column: str, value: Any, refs: dict[str, str] = refs) -> Any:
            target = refs.get(column)
            return ids.get((target, value), value) if target else value

        inserted = [
            {c: _generated_value(c, name_ids(c, v)) for c, v in row.items()}
            for row in change.inserted
        ]
        deleted = [{c: name_ids(c, v) for c, v in row.items()} for row in change.deleted]
        key_columns = [column.name for column in table.primary_key.columns]
        updated = [
            (
                tuple(name_ids(c, v) for c, v in zip(key_columns, key, strict=True)),
                {c: (old, _generated_value(c, new)) for c, (old, new) in sorted(changed.items())},
            )
            for key, changed in change.updated
        ]
        result[table_name] = {
            "inserted": sorted(repr(sorted(row.items())) for row in inserted),
            "deleted": sorted(repr(sorted(row.items())) for row in deleted),
            "updated": sorted(repr(item) for item in updated),
        }
    return result


# --- the answers ---------------------------------------------------------------------


def _generated_in_body(key: str, expected: Any, actual: Any) -> bool:
    """Both values have the shape of what a write generates under `key`."""
    if key == "id":
        return all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (expected, actual)
        )
    if key in ("createdAt", "updatedAt"):
        return all(isinstance(v, str) and TIMESTAMP.match(v) for v in (expected, actual))
    if key == "slug":
        return (
            isinstance(expected, str)
            and isinstance(actual, str)
            and SLUG_SUFFIX.sub("", expected) == SLUG_SUFFIX.sub("", actual)
        )
    return False


def json_differences(expected: Any, actual: Any, path: str = "$") -> list[str]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        if list(expected) != list(actual):
            found.append(f"body {path}: keys {list(expected)} != {list(actual)}")
        for key in expected.keys() & actual.keys():
            if expected[key] != actual[key] and _generated_in_body(key, expected[key], actual[key]):
                continue
            found += json_differences(expected[key], actual[key], f"{path}.{key}")
        return found
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [
            d
            for index, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in json_differences(e, a, f"{path}[{index}]")
        ]
    if expected != actual or type(expected) is not type(actual):
        return [f"body {path}: {expected!r} != {actual!r}"]
    return []


@dataclass(frozen=True)
class Outcome:
    """One side's run: its Lambda proxy response and its effect on the database."""

    response: dict[str, Any]
    effect: Effect
    statements: tuple[str, ...] = ()

    @property
    def status(self) -> int:
        return int(self.response["statusCode"])

    @property
    def body(self) -> str:
        return str(self.response.get("body") or "")


def differences(monolith: Outcome, function: Outcome) -> list[str]:
    """What the function did differently from the monolith, in words; [] when nothing."""
    found = []
    if function.status != monolith.status:
        found.append(f"status: {monolith.status} != {function.status}")
    if headers_of(function.response) != headers_of(monolith.response):
        found.append(f"headers: {headers_of(monolith.response)} != {headers_of(function.response)}")
    if bool(function.response.get("isBase64Encoded")) or bool(
        monolith.response.get("isBase64Encoded")
    ):
        found.append("body: base64-encoded")
    if not monolith.body or not function.body:
        if monolith.body != function.body:
            found.append(f"body: {monolith.body!r} != {function.body!r}")
    else:
        found += json_differences(json.loads(monolith.body), json.loads(function.body))
    expected, actual = normalized(monolith.effect), normalized(function.effect)
    for table in sorted(expected.keys() | actual.keys()):
        for kind in ("inserted", "updated", "deleted"):
            want = expected.get(table, {}).get(kind, [])
            got = actual.get(table, {}).get(kind, [])
            if want != got:
                found.append(f"{table}: rows {kind}: {want} != {got}")
    return found


# --- running a request on each side --------------------------------------------------


@contextmanager
def recorded_statements(connection: Connection) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", record)


def run_rolled_back(world: World, send: Callable[[], dict[str, Any]]) -> Outcome:
    """`send()` inside a savepoint of the world's connection; its effect; rolled back."""
    connection = world.database.bind
    assert isinstance(connection, Connection)
    before = snapshot(connection)
    savepoint = connection.begin_nested()
    try:
        with recorded_statements(connection) as statements:
            response = send()
        after = snapshot(connection)
    finally:
        savepoint.rollback()
    assert snapshot(connection) == before, "the savepoint did not restore the world"
    return Outcome(response, effect_between(before, after), tuple(statements))


# --- the cases -----------------------------------------------------------------------

# What a case expects the monolith to do: table -> (inserted, updated, deleted).
Counts = dict[str, tuple[int, int, int]]


@dataclass(frozen=True)
class WriteCase:
    function: str  # the handler module, as its sample event is named
    label: str
    status: Status  # what the monolith answers; by backend where they differ
    path: str  # as sent on the wire; {dragon}, {jane}, ... stand for the world's slugs
    auth: str = "jake"
    # The JSON body (a dict or list, sent as JSON), a raw str or bytes, or None for none.
    body: Any = None
    content_type: str | None = "application/json"
    writes: Counts = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.function}:{self.label}"

    def status_on(self, backend: str) -> int:
        return self.status if isinstance(self.status, int) else self.status[backend]

    def event(self, world: World) -> dict[str, Any]:
        header = (
            AUTHS[self.auth](world) if self.auth in AUTHS else f"Token {world.token(self.auth)}"
        )
        headers: dict[str, str | None] = {
            "authorization": header,
            "content-type": self.content_type,
        }
        path = self.path.format(**world.slugs, **comment_ids(world))
        event = load_event(BY_NAME[self.function].event, rawPath=path, headers=headers)
        event.pop("body", None)
        event["isBase64Encoded"] = False
        if isinstance(self.body, bytes):
            import base64

            event["body"], event["isBase64Encoded"] = base64.b64encode(self.body).decode(), True
        elif isinstance(self.body, str):
            event["body"] = self.body
        elif self.body is not None:
            event["body"] = json.dumps(self.body, ensure_ascii=False)
        return event


def refused_callers(function: str, path: str, body: Any = None) -> list[WriteCase]:
    """The same write by callers it must refuse (401): no token, a broken one, one signed
    with another key, an expired one, and one whose account is gone. Nothing is written."""
    return [
        WriteCase(function, f"auth-{auth}", 401, path, auth=auth, body=body)
        for auth in ("anonymous", "garbage-token", "wrong-secret", "expired", "deleted-account")
    ]


def comment_ids(world: World) -> dict[str, int]:
    """{jane_comment} and {alice_comment}: the ids of the seeded comments on {dragon} (ids
    are not reused on MariaDB, so they depend on what ran before)."""
    connection = world.database.bind
    assert isinstance(connection, Connection)
    rows = connection.execute(
        select(comments.c.id, users.c.username).join(users, users.c.id == comments.c.author_id)
    )
    return {f"{username}_comment": comment_id for comment_id, username in rows}


def both_sides(
    case: WriteCase, world: World, functions: Mapping[str, ModuleType]
) -> tuple[Outcome, Outcome]:
    event = case.event(world)
    module = functions[case.function]
    monolith = run_rolled_back(world, lambda: invoke(world.monolith, copy.deepcopy(event)))
    function = run_rolled_back(
        world,
        lambda: module.handler(
            copy.deepcopy(event), LambdaContext(function_name=f"conduit-test-{case.function}")
        ),
    )
    return monolith, function


def assert_write_case(
    case: WriteCase, world: World, functions: Mapping[str, ModuleType], backend: str
) -> None:
    """The case's request to both sides: the monolith answers as the case says and writes
    what it says; the function answers and writes the same; it sends nothing that pins."""
    monolith, function = both_sides(case, world, functions)
    assert monolith.status == case.status_on(backend), monolith.body
    counts = {table: change.counts() for table, change in monolith.effect.items()}
    assert counts == case.writes, counts
    found = differences(monolith, function)
    assert found == [], found
    pinning = [s for s in function.statements if PINNING.search(s)]
    assert pinning == [], pinning


def lose_the_database_after(service: Callable[..., Any]) -> Callable[..., Any]:
    """`service`, whose writes are flushed and then the connection is lost, as when the
    database goes away before the commit: what a driver raises then."""

    def flaky(session: Any, *args: Any, **kwargs: Any) -> Any:
        service(session, *args, **kwargs)
        session.flush()
        raise OperationalError(
            "COMMIT", {}, ConnectionError("Lost connection to MySQL server during query")
        )

    return flaky


def assert_nothing_written_when_the_database_goes_away(
    case: WriteCase,
    world: World,
    functions: Mapping[str, ModuleType],
    service: tuple[ModuleType, str],
    patch: Any,
) -> None:
    """The case's request with the database lost mid-request, after the service wrote:
    503 with Retry-After from both, and nothing written by either."""
    module, name = service
    patch.setattr(module, name, lose_the_database_after(getattr(module, name)))
    monolith, function = both_sides(case, world, functions)
    assert monolith.status == 503, monolith.body
    assert monolith.effect == {}, monolith.effect
    assert function.effect == {}, function.effect
    assert headers_of(function.response)["retry-after"] == "1"
    found = differences(monolith, function)
    assert found == [], found
