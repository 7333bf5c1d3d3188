"""Engine and session factory.

One `Database` per process (per Lambda execution environment), made at start-up.
The code that owns a unit of work opens it with `transaction()` (an ORM session) or
`core_transaction()` (a Core connection: the dedicated functions, which never import the
ORM); services receive it and never commit or close it themselves. Reads open a Core
connection with `connect()`: the ORM is imported only when a session is first made.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, bindparam, create_engine, delete, event, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.core.tables import utcnow, write_receipts
from app.platform import snapshot
from app.platform.observability import logger
from app.platform.rds_iam import IamAuthToken

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from app.platform.settings import Settings

# MySQL connections are dropped by servers and proxies after a while; recycle first.
# RDS Proxy's IdleClientTimeout is 900 s in serverless.yml: recycle well before it.
MYSQL_POOL_RECYCLE_SECONDS = 600
# A request fails fast with 503 rather than hanging when the database is unreachable.
MYSQL_CONNECT_TIMEOUT_SECONDS = 3
MYSQL_READ_TIMEOUT_SECONDS = 20
# The liveness check of a pooled connection before it is handed out. A live server
# answers a ping in milliseconds; one that does not within this time is treated as gone
# and the connection is replaced, instead of waiting out the query read timeout. A
# request that finds its connection silent thus waits at most this plus the connect
# timeout before it is served or answered 503.
MYSQL_PING_TIMEOUT_SECONDS = 1.5

# Write receipts (see Database.transaction) are needed for moments; each process deletes
# older ones, a batch at a time, once every RECEIPT_PRUNE_EVERY writes.
RECEIPT_TTL = timedelta(hours=1)
RECEIPT_PRUNE_EVERY = 100
RECEIPT_PRUNE_BATCH = 1000

# A write receipt, inserted in the unit of work it vouches for; and the locking read that
# finds it (it waits while that transaction is still finishing on the server). Built at
# import, so SnapStart priming compiles them (app.platform.snapshot).
_NEW_RECEIPT = insert(write_receipts).values(id=bindparam("receipt"), created_at=bindparam("now"))
_RECEIPT = (
    select(write_receipts.c.id)
    .where(write_receipts.c.id == bindparam("receipt"))
    .with_for_update(read=True)
)

# One connection per Lambda execution environment: it serves one request at a time,
# so a second connection would only ever sit idle holding a proxy slot.
SINGLE_CONNECTION_POOL = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 10}

# A process that only reads (a function serving a safe method) needs no transaction
# around its statements: each is one, on the server's autocommit (PyMySQL connects with
# `autocommit=True`, so it sends no `SET AUTOCOMMIT = 0`), and SQLAlchemy skips the
# ROLLBACK it would send when each request gives the connection back. That is one round
# trip less per request, and RDS Proxy may hand the server connection to another client
# after each statement instead of holding it until that ROLLBACK. A request that reads
# twice (the caller's account, then the route's rows) reads at two moments, which no
# answer here depends on.
AUTOCOMMIT_READS = {"isolation_level": "AUTOCOMMIT", "skip_autocommit_rollback": True}


def engine_options(url: str) -> dict[str, Any]:
    """Pool and driver options suited to a long-running server for this URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": 15}}
    if parsed.get_backend_name() == "mysql":
        return {
            "pool_pre_ping": True,
            "pool_recycle": MYSQL_POOL_RECYCLE_SECONDS,
            "connect_args": {
                "connect_timeout": MYSQL_CONNECT_TIMEOUT_SECONDS,
                "read_timeout": MYSQL_READ_TIMEOUT_SECONDS,
                "write_timeout": MYSQL_READ_TIMEOUT_SECONDS,
            },
        }
    return {}


def _bound_mysql_handshake(
    _dialect: Any, record: Any, _cargs: Any, cparams: dict[str, Any]
) -> None:
    # PyMySQL applies connect_timeout to the TCP connect only: the server greeting, the
    # authentication and SET NAMES are read under read_timeout. A proxy that accepts the
    # connection and never answers would hold the request for read_timeout. Read and
    # write the handshake under connect_timeout; _restore_io_timeouts puts them back.
    timeout = cparams.get("connect_timeout")
    if timeout:
        record.info["io_timeouts"] = (cparams.get("read_timeout"), cparams.get("write_timeout"))
        cparams["read_timeout"] = cparams["write_timeout"] = timeout


def _restore_io_timeouts(dbapi_connection: Any, record: Any) -> None:
    timeouts = record.info.pop("io_timeouts", None)
    if timeouts is not None:
        # PyMySQL has no public setter; it applies these to the socket before its next I/O.
        dbapi_connection._read_timeout, dbapi_connection._write_timeout = timeouts


def _bound_pre_ping(dbapi_connection: Any, record: Any) -> None:
    # On check-in: the next I/O on this connection is the pool's pre-ping at the next
    # checkout, so bound it by the ping timeout. _unbind_pre_ping restores the query
    # timeouts once the connection has been handed out.
    if dbapi_connection is None:  # invalidated: it will not be pinged
        return
    record.info["query_timeouts"] = (
        dbapi_connection._read_timeout,
        dbapi_connection._write_timeout,
    )
    dbapi_connection._read_timeout = dbapi_connection._write_timeout = MYSQL_PING_TIMEOUT_SECONDS


def _unbind_pre_ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    timeouts = record.info.pop("query_timeouts", None)
    if timeouts is not None:
        dbapi_connection._read_timeout, dbapi_connection._write_timeout = timeouts


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take it
    # over (BEGIN is emitted in _begin_sqlite_transaction) and turn foreign keys on.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# Execution option set on the connection of a unit of work that writes.
WRITES = "conduit_writes"


def _begin_sqlite_transaction(connection: Connection) -> None:
    # A deferred transaction that reads and then writes cannot upgrade its lock while
    # another holds it: SQLite fails it at once with "database is locked", whatever the
    # busy timeout. A writing transaction takes the write lock as it begins (waiting up
    # to the busy timeout for it); reads stay deferred and run alongside.
    writes = connection.get_execution_options().get(WRITES, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def create_db_engine(url: str, **overrides: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = os.path.dirname(parsed.database)
        if folder:
            os.makedirs(folder, exist_ok=True)
    options = engine_options(url)
    connect_args = options.get("connect_args", {}) | overrides.pop("connect_args", {})
    options |= overrides
    if connect_args:
        options["connect_args"] = connect_args
    engine = create_engine(parsed, **options)
    if parsed.get_backend_name() == "mysql" and parsed.get_driver_name() == "pymysql":
        event.listen(engine, "do_connect", _bound_mysql_handshake)
        event.listen(engine, "connect", _restore_io_timeouts)
        event.listen(engine, "checkin", _bound_pre_ping)
        event.listen(engine, "checkout", _unbind_pre_ping)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def use_iam_token(engine: Engine, token: Any) -> None:
    """Pass `token()` as the password each time the pool opens a new connection."""

    def _password(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        cparams["password"] = token()

    event.listen(engine, "do_connect", _password)


class ReadsOnly(RuntimeError):
    """A unit of work that writes, asked of a database held by code that only reads."""


class Database:
    """An engine and the session factory bound to it. `reads_only`: the process serves
    safe methods alone (a read function), so a unit of work that writes is refused."""

    def __init__(
        self, bind: Engine | Connection, *, join_savepoint: bool = False, reads_only: bool = False
    ) -> None:
        self.bind = bind
        self.reads_only = reads_only
        self._join_savepoint = join_savepoint
        self._sessions: sessionmaker[Session] | None = None
        # A COMMIT can only lose its answer over a network connection of our own.
        self._verifies_commits = isinstance(bind, Engine) and bind.dialect.name in (
            "mysql",
            "mariadb",
        )
        self._writes = itertools.count(1)

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The session factory, made (and the ORM imported) on first use."""
        if self._sessions is None:
            from sqlalchemy.orm import sessionmaker

            # Tests bind to a connection inside an outer transaction: each unit of work
            # becomes a savepoint that the test rolls back afterwards.
            mode = "create_savepoint" if self._join_savepoint else "conditional_savepoint"
            self._sessions = sessionmaker(
                bind=self.bind, expire_on_commit=False, join_transaction_mode=mode
            )
        return self._sessions

    def _refuse_if_reads_only(self) -> None:
        if self.reads_only:
            raise ReadsOnly("this process only reads: it opens no unit of work that writes")

    def _issue_receipt(self, session: Session | Connection) -> str:
        """A new write receipt, inserted in the session's transaction; every
        RECEIPT_PRUNE_EVERY-th also deletes receipts older than RECEIPT_TTL."""
        receipt = uuid.uuid4().hex
        now = utcnow()
        session.execute(_NEW_RECEIPT, {"receipt": receipt, "now": now})
        if next(self._writes) % RECEIPT_PRUNE_EVERY == 0:
            session.execute(
                delete(write_receipts)
                .where(write_receipts.c.created_at < now - RECEIPT_TTL)
                .with_dialect_options(mysql_limit=RECEIPT_PRUNE_BATCH)
            )
        return receipt

    def _committed(self, receipt: str) -> bool:
        """Whether the transaction that inserted `receipt` committed. The locking read
        waits while that transaction is still finishing on the server."""
        with self.connect() as connection:
            return connection.execute(_RECEIPT, {"receipt": receipt}).first() is not None

    @contextmanager
    def _settled(
        self,
        unit: Any,
        writer: Session | Connection,
        release: Callable[[], None],
        ready: Callable[[], object] | None = None,
    ) -> Iterator[None]:
        """The block's work in `unit`, a transaction just begun by `writer` (a session or a
        connection), once `ready()` has prepared its connection: rolled back on any
        exception, else committed. Over a network the unit carries a write receipt: a
        COMMIT whose connection was lost is settled by it, once `release()` has handed the
        lost connection back (committed, the unit ends normally; otherwise the error
        stands)."""
        try:
            if ready is not None:
                ready()
            receipt = self._issue_receipt(writer) if self._verifies_commits else None
            yield
        except BaseException:
            if unit.is_active:
                unit.rollback()
            raise
        if not unit.is_active:  # the caller rolled back itself: nothing to commit
            return
        try:
            unit.commit()
        except DBAPIError as error:
            if receipt is None or not error.connection_invalidated:
                raise
            release()
            if not self._committed(receipt):
                raise
            logger.warning(
                "connection lost during COMMIT; the write receipt shows it was committed",
                error=str(error),
            )

    @classmethod
    def from_url(cls, url: str, **engine_overrides: Any) -> Database:
        return cls(create_db_engine(url, **engine_overrides))

    @classmethod
    def from_settings(cls, settings: Settings, *, reads_only: bool = False) -> Database:
        """The engine a process of this deployment should hold (see DatabaseAccess).
        `reads_only` (a function that serves a safe method): on MySQL, each statement is
        its own transaction (autocommit, see AUTOCOMMIT_READS), and writing is refused."""
        access = settings.database_access
        is_mysql = make_url(settings.database_url).get_backend_name() == "mysql"
        overrides: dict[str, Any] = {}
        connect_args: dict[str, Any] = {}
        if access.single_connection and is_mysql:
            overrides |= SINGLE_CONNECTION_POOL
        if reads_only and is_mysql:
            overrides |= AUTOCOMMIT_READS
            connect_args["autocommit"] = True
        if access.tls:
            # The system trust store holds the Amazon roots that sign RDS Proxy's
            # certificates; hostname checking and CERT_REQUIRED are the defaults here.
            # Imported here, so that a function on SQLite never loads it (PyMySQL imports it
            # itself).
            import ssl

            connect_args["ssl"] = ssl.create_default_context()
        elif is_mysql and access.host:
            # DB_TLS=false: no TLS. Left to itself PyMySQL would try TLS when the server
            # offers it, and build a context for that (loading the system trust store, some
            # 20 ms) for every new connection: the reconnect after each SnapStart restore.
            connect_args["ssl_disabled"] = True
        if connect_args:
            overrides["connect_args"] = connect_args
        engine = create_db_engine(settings.database_url, **overrides)
        token = None
        if access.iam_auth:
            token = IamAuthToken(
                host=access.host, port=access.port, user=access.user, region=access.region
            )
            use_iam_token(engine, token)
        database = cls(engine, reads_only=reads_only)
        if snapshot.enabled():
            # A token made before the snapshot would be shared, and stale, in every
            # restored copy; a connection would be dead. The copy opens its own before the
            # first request arrives.
            if token is not None:
                snapshot.after_restore(token.forget)
            snapshot.before_snapshot(database.dispose)
            snapshot.after_restore(database.reconnect)
        return database

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error, closed.

        It is the unit of work that writes: on SQLite it takes the write lock at BEGIN.
        Over a network (MySQL) it carries a write receipt, so that when the connection is
        lost during COMMIT the outcome is known: if the receipt was committed, so was the
        work, and the unit ends normally; otherwise the error stands and nothing was
        written. Either way the work is applied at most once."""
        self._refuse_if_reads_only()
        with self.sessions() as session:
            unit = session.begin()
            ready = partial(session.connection, execution_options={WRITES: True})
            with self._settled(unit, session, session.close, ready):
                yield session

    @contextmanager
    def core_transaction(self) -> Iterator[Connection]:
        """`transaction()` on a Core connection, for code that writes with Core statements
        only: the same unit of work (the write lock at BEGIN on SQLite, the receipt over a
        network) without importing the ORM. Bound to a connection (tests), it is a
        savepoint of the transaction in progress, or a transaction of its own."""
        self._refuse_if_reads_only()
        if isinstance(self.bind, Connection):
            join = self.bind.in_transaction() or self._join_savepoint
            with self.bind.begin_nested() if join else self.bind.begin():
                yield self.bind
            return
        with self.bind.connect() as connection:
            connection.execution_options(**{WRITES: True})
            with self._settled(connection.begin(), connection, connection.close):
                yield connection

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads only; nothing is committed."""
        with self.sessions() as session:
            yield session

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A Core connection for reads only: nothing is committed (what the connection
        began is rolled back when it goes back to the pool)."""
        if isinstance(self.bind, Connection):
            # Bound to a connection inside an outer transaction (tests): read in it.
            yield self.bind
            return
        with self.bind.connect() as connection:
            yield connection

    def dispose(self) -> None:
        if isinstance(self.bind, Engine):
            self.bind.dispose()

    def reconnect(self) -> None:
        """Open the pooled connection now, after a SnapStart restore, so that the first
        request does not wait for it (on SQLite, read the schema too); then, the dialect
        having met the server, compile the primed statements into the engine's cache
        (snapshot.fill_statement_cache). A database that does not answer is left for that
        request to meet (and answer 503): the runtime gives the hooks 10 s in all."""
        if not isinstance(self.bind, Engine):
            return
        try:
            with self.bind.connect() as connection:
                if self.bind.dialect.name == "sqlite":
                    # SQLite opens the file lazily and reads the schema at a connection's
                    # first statement that names a table: done here, as MySQL's handshake
                    # and dialect initialisation are, not in the first request.
                    connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
        except DBAPIError as error:
            logger.warning("no database connection after the restore", error=str(error))
            return
        snapshot.fill_statement_cache(self.bind)
