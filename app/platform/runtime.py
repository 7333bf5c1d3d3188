"""The one runtime object both web layers share: settings, the database, and the caller.

The monolith (legacy/, under Flask) and each dedicated function (app/functions/, on
app.platform.lambda_http) build one `Runtime` for the life of the process or execution
environment and find the caller the same way:

1. `credentials(authorization)` checks the Authorization header's token, without the
   database: no token is anonymity, a token that does not verify is a 401 at once;
2. the account the token names is looked up inside the request's own session or
   connection (`viewer_id`, `caller_id`, `writes`), so an authenticated request checks
   out one connection, not two.

It imports no web framework and no ORM. The JWT library is imported on the first request
that presents a token and the password hasher on the first request that needs it, so a
read function's cold start pays for neither.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

from app.core.errors import AuthenticationRequired
from app.platform.db import Database
from app.platform.http import bearer_token
from app.platform.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Connection, Executable, Result

    from app.core.passwords import Passwords
    from app.core.services._common import Executor, Writer
    from app.core.tokens import TokenIssuer


# NamedTuples, not dataclasses: README, "What a function loads at cold start".
class Caller(NamedTuple):
    """A caller whose token verified: its user id and the token itself (answers about
    the current user echo the token back)."""

    user_id: int
    token: str


class LazyConnection:
    """A Core connection that is checked out on the first statement, not before: a
    request refused before it reads anything (no credentials where they are required, a
    bad page) never touches the database, as ORM sessions connect on first use too."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._connection: Connection | None = None
        self._stack = ExitStack()

    def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None, /
    ) -> Result[*tuple[Any, ...]]:
        if self._connection is None:
            self._connection = self._stack.enter_context(self._database.connect())
        return self._connection.execute(statement, parameters)

    def close(self) -> None:
        self._stack.close()
        self._connection = None


class Runtime:
    """What one process (the monolith) or execution environment (a function) holds for
    its life: settings and the database (one pooled connection on Lambda); the token
    verifier and the password hasher, each made on first use."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self._tokens: TokenIssuer | None = None
        self._passwords: Passwords | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, reads_only: bool = False) -> Runtime:
        """`reads_only`: for a function that serves a safe method (GET), which never opens
        a unit of work that writes (Database.from_settings)."""
        settings = Settings.from_env(env)
        return cls(settings, Database.from_settings(settings, reads_only=reads_only))

    @property
    def tokens(self) -> TokenIssuer:
        if self._tokens is None:
            from app.core.tokens import TokenIssuer

            self._tokens = TokenIssuer(self.settings.jwt_secret, self.settings.jwt_ttl_seconds)
        return self._tokens

    @property
    def passwords(self) -> Passwords:
        """The password hasher, with the configured Argon2id costs."""
        if self._passwords is None:
            from app.core.passwords import Passwords

            hashing = self.settings.password_hashing
            self._passwords = Passwords(
                time_cost=hashing.time_cost,
                memory_cost_kib=hashing.memory_cost_kib,
                parallelism=hashing.parallelism,
            )
        return self._passwords

    # The caller -------------------------------------------------------------------------

    def credentials(self, authorization: str | None) -> Caller | None:
        """The caller the Authorization header names, its token verified; None when no
        token was sent. A token that was sent but does not verify is an error, not
        anonymity. The database is not touched."""
        token = bearer_token(authorization)
        if token is None:
            return None
        return Caller(self.tokens.verify(token), token)

    def required(self, authorization: str | None) -> Caller:
        """`credentials()`, where a token is required."""
        caller = self.credentials(authorization)
        if caller is None:
            raise AuthenticationRequired("authorization is required")
        return caller

    def viewer_id(self, authorization: str | None, executor: Executor) -> int | None:
        """The caller's user id, or None when no credentials were sent; the account is
        looked up on the request's own `executor`. Credentials that do not verify, or
        name an account that is gone, are an error."""
        caller = self.credentials(authorization)
        if caller is None:
            return None
        from app.core.services._common import ensure_account

        ensure_account(executor, caller.user_id)
        return caller.user_id

    def caller_id(self, authorization: str | None, executor: Executor) -> int:
        """`viewer_id()`, where a token is required."""
        user_id = self.viewer_id(authorization, executor)
        if user_id is None:
            raise AuthenticationRequired("authorization is required")
        return user_id

    # Units of work ----------------------------------------------------------------------

    @contextmanager
    def writes(
        self, authorization: str | None, *, in_session: bool = False
    ) -> Iterator[tuple[Writer, Caller]]:
        """Where one request writes, as the caller it names: one transaction, committed on
        return, rolled back on any exception; and the caller. A function writes on a Core
        connection (Database.core_transaction: no ORM to import); the monolith keeps its
        ORM session (`in_session`, Database.transaction), its unit of work from before the
        migration. The services take either.

        Credentials come first: none, or a token that does not verify, is a 401 before
        the database is touched. The account is then looked up inside the transaction,
        on its connection (one checkout per request)."""
        caller = self.required(authorization)
        unit = self.database.transaction() if in_session else self.database.core_transaction()
        with unit as writer:
            from app.core.services._common import ensure_account

            ensure_account(writer, caller.user_id)
            yield writer, caller

    @contextmanager
    def reads(self) -> Iterator[LazyConnection]:
        """Where one request reads: a connection taken on first use, given back after."""
        connection = LazyConnection(self.database)
        try:
            yield connection
        finally:
            connection.close()
