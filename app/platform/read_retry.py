"""One more try for a read whose database connection was lost under it.

A connection can be cut while a request is using it: the server or the proxy restarts,
fails over, or kills it. The pool's pre-ping only catches a connection that died while
idle; one that dies mid-request fails that request. A request that only reads is safe to
run again, so it gets a second attempt on a fresh connection; a write never does, since
the first attempt may have been applied.

Each web layer wraps the code that serves a request in `retry_read` (the monolith around
its view, a function around its handler), after its own response-independent work such
as parsing the event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from app.platform.db import MYSQL_CONNECT_TIMEOUT_SECONDS
from app.platform.observability import logger

T = TypeVar("T")

# Methods whose requests change nothing (RFC 9110 safe methods).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# A second attempt must be able to open a connection and read within what is left of
# the request's time (on Lambda, the invocation's remaining time).
RETRY_RESERVE_SECONDS = MYSQL_CONNECT_TIMEOUT_SECONDS + 1.0


def is_lost_connection(error: BaseException) -> bool:
    """The database connection in use was lost: SQLAlchemy has invalidated it, so the
    pool opens a new one for the next attempt."""
    return isinstance(error, DBAPIError) and error.connection_invalidated


def is_timeout(error: BaseException) -> bool:
    """The driver gave up waiting for the server (a socket timeout underlies the error):
    the database is not answering, and a second attempt would only double the wait."""
    seen: set[int] = set()
    cause: BaseException | None = error.orig if isinstance(error, DBAPIError) else error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, TimeoutError):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def retry_read[T](
    method: str,
    attempt: Callable[[], T],
    *,
    remaining_seconds: Callable[[], float] | None = None,
) -> T:
    """`attempt()`; for a safe method whose attempt lost its connection (other than to
    a timeout), one more `attempt()` if the time left allows. Any other error, and the
    second attempt's, propagates unchanged.

    `attempt` must own its sessions (open and close them itself), so that the failed
    attempt has returned its connection to the pool before the second one starts.
    `remaining_seconds`: the time left to answer, when the platform bounds it."""
    if method.upper() not in SAFE_METHODS:
        return attempt()
    try:
        return attempt()
    except Exception as error:
        if not is_lost_connection(error):
            raise
        timed_out = is_timeout(error)
        if timed_out or (
            remaining_seconds is not None and remaining_seconds() < RETRY_RESERVE_SECONDS
        ):
            logger.warning(
                "database connection lost during a read; not retried",
                reason="the server did not answer in time" if timed_out else "too little time left",
                error=str(error),
            )
            raise
        logger.warning("database connection lost during a read; retrying once", error=str(error))
    return attempt()
