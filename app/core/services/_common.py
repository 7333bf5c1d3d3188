"""Lookups, columns and idempotent writes shared by the services: Core statements only, so
the read paths that use them never import the ORM.

A read answers in one statement where it can (a round trip to the database is most of a
warm read's time): what the viewer follows and which tags an article carries are columns
of the rows read, computed by the database for those rows alone.

`Executor` is what the read services run statements on, and `Writer` what the write
services run theirs in (one transaction, with savepoints): a Core `Connection` (the
dedicated functions, which never import the ORM) or an ORM `Session` (the monolith); both
execute the same statements."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Executable,
    Insert,
    Label,
    Result,
    String,
    Table,
    bindparam,
    case,
    delete,
    exists,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.core.errors import AuthenticationRequired, NotFound
from app.core.tables import follows, users

if TYPE_CHECKING:
    from sqlalchemy import CursorResult, Row

    # A result row of any columns, read by attribute name.
    type AnyRow = Row[*tuple[Any, ...]]


class Executor(Protocol):
    """Runs a statement with bound parameters: a Connection, a Session, or a stand-in."""

    def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None, /
    ) -> Result[*tuple[Any, ...]]: ...


class Writer(Executor, Protocol):
    """Where a write service writes: a connection or session in a transaction."""

    def execute(
        self,
        statement: Executable,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        /,
    ) -> Result[*tuple[Any, ...]]: ...

    def scalar(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None, /
    ) -> Any: ...

    def begin_nested(self) -> AbstractContextManager[object]:
        """A savepoint: rolled back to (and the error raised on) when its block raises."""
        ...


_PROFILE_BY_USERNAME = select(users.c.id, users.c.username, users.c.bio, users.c.image).where(
    users.c.username == bindparam("username")
)
_ACCOUNT_EXISTS = select(users.c.id).where(users.c.id == bindparam("user_id"))


def viewer_follows(user_id: ColumnElement[int]) -> Label[bool]:
    """A column: whether the viewer (the bound `viewer_id`; NULL for anyone anonymous)
    follows the user `user_id` names, for each row read (`following_author`)."""
    return (
        exists()
        .where(follows.c.follower_id == bindparam("viewer_id"), follows.c.followed_id == user_id)
        .correlate_except(follows)
        .label("following_author")
    )


class json_array_agg(FunctionElement[str]):
    """An aggregate: the values of its argument over a group, as a JSON array of
    strings. Read it with `json_strings()`: an empty group is NULL on MySQL."""

    type = String()
    name = "json_array_agg"
    inherit_cache = True


@compiles(json_array_agg)
def _json_group_array(element: json_array_agg, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array({compiler.process(element.clauses, **kw)})"  # SQLite


@compiles(json_array_agg, "mysql")
@compiles(json_array_agg, "mariadb")
def _json_arrayagg(element: json_array_agg, compiler: SQLCompiler, **kw: Any) -> str:
    return f"JSON_ARRAYAGG({compiler.process(element.clauses, **kw)})"


def json_strings(value: str | bytes | None) -> list[str]:
    """The strings of a `json_array_agg` value."""
    return json.loads(value) if value else []


def profile_by_username(executor: Executor, username: str) -> AnyRow:
    """The row (id, username, bio, image) of `username`; NotFound when there is none."""
    person = executor.execute(_PROFILE_BY_USERNAME, {"username": username}).first()
    if person is None:
        raise NotFound(f"profile {username!r} not found")
    return person


def ensure_account(executor: Executor, user_id: int) -> None:
    """AuthenticationRequired unless the account a verified token names still exists.
    Every authenticated request checks this, so no write runs for a phantom caller."""
    if executor.execute(_ACCOUNT_EXISTS, {"user_id": user_id}).first() is None:
        # A valid signature for an account that no longer exists.
        raise AuthenticationRequired("token is invalid")


def inserted_id(result: Result[*tuple[Any, ...]]) -> int:
    """The primary key of the one row an INSERT made."""
    key = cast("CursorResult[Any]", result).inserted_primary_key
    assert key is not None
    return int(key[0])


def insert_new(table: Table, names: Sequence[str]) -> Insert:
    """An INSERT of the columns `names`, built once: each value is the bound `new_<name>`
    (a VALUES parameter may not take its column's name). `new_values()` makes its parameters."""
    return insert(table).values({name: bindparam(f"new_{name}") for name in names})


def new_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of an `insert_new()` INSERT or a `flagged_values()` UPDATE for
    these column values."""
    return {f"new_{name}": value for name, value in values.items()}


def flagged_values(table: Table, names: Sequence[str]) -> dict[str, ColumnElement[Any]]:
    """The SET clause of one UPDATE for any subset of the columns `names`: each is set to
    the bound `new_<name>` where the bound flag `set_<name>` is true and keeps its value
    otherwise. So the statement is built and compiled once, and primed for SnapStart,
    whichever columns a request changes. `flags()` makes its parameters."""
    return {
        name: case(
            (
                bindparam(f"set_{name}", type_=Boolean),
                bindparam(f"new_{name}", type_=table.c[name].type),
            ),
            else_=table.c[name],
        )
        for name in names
    }


def flags(names: Sequence[str], values: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of a `flagged_values()` UPDATE that changes the columns in `values`."""
    return {f"set_{name}": name in values for name in names} | new_values(
        {name: values.get(name) for name in names}
    )


# The execution option of an INSERT that is run with several rows at once (an
# executemany), such as an article's tag links: SnapStart's restore hook compiles such a
# statement in that form too (app.platform.snapshot.fill_statement_cache).
MANY_ROWS = "conduit_many_rows"


class Association:
    """The rows of an association table (favorites, follows, tag links), keyed by `columns`: whether
    one exists, its insert and its delete, built once (at import, so SnapStart priming
    finds them). Each column's value is the bound parameter `row_<column>` (a VALUES
    parameter may not take a column's own name)."""

    def __init__(self, table: Table, *columns: str) -> None:
        matches = [table.c[name] == bindparam(f"row_{name}") for name in columns]
        self.found = select(1).select_from(table).where(*matches)
        self.add = insert(table).values({name: bindparam(f"row_{name}") for name in columns})
        self.remove = delete(table).where(*matches)

    @staticmethod
    def row(**key: Any) -> dict[str, Any]:
        """The parameters of `found`, `add` or `remove` for one row."""
        return {f"row_{name}": value for name, value in key.items()}

    def insert_if_absent(self, session: Writer, **key: Any) -> None:
        """Insert the row unless it exists; a concurrent duplicate is not an error."""
        parameters = self.row(**key)
        if session.scalar(self.found, parameters):
            return
        try:
            with session.begin_nested():
                session.execute(self.add, parameters)
        except IntegrityError:
            # Another request inserted the same row between our check and our insert.
            pass

    def delete(self, session: Writer, **key: Any) -> None:
        """Delete the row, if it exists."""
        session.execute(self.remove, self.row(**key))
