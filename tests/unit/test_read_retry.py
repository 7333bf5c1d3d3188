"""The second attempt of a read whose database connection was lost."""

from __future__ import annotations

from collections.abc import Callable

import pymysql
import pytest
from sqlalchemy.exc import OperationalError

from app.platform import read_retry
from app.platform.read_retry import retry_read


def lost_connection() -> OperationalError:
    return OperationalError(
        "SELECT 1", {}, Exception("(2013, 'Lost connection to server during query')"), False, True
    )


def refused_connection() -> OperationalError:
    return OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))


class Attempts:
    """Fails with the given errors in turn, then answers "ok"; counts its calls."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "get"])
def test_a_read_that_lost_its_connection_runs_once_more(method: str) -> None:
    attempts = Attempts(lost_connection())
    assert retry_read(method, attempts) == "ok"
    assert attempts.calls == 2


def test_only_once() -> None:
    attempts = Attempts(lost_connection(), lost_connection())
    with pytest.raises(OperationalError):
        retry_read("GET", attempts)
    assert attempts.calls == 2


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_a_write_is_never_run_twice(method: str) -> None:
    attempts = Attempts(lost_connection())
    with pytest.raises(OperationalError):
        retry_read(method, attempts)
    assert attempts.calls == 1


@pytest.mark.parametrize(
    "error", [refused_connection(), RuntimeError("bug"), ValueError("lost connection")]
)
def test_other_errors_are_not_retried(error: Exception) -> None:
    attempts = Attempts(error)
    with pytest.raises(type(error)):
        retry_read("GET", attempts)
    assert attempts.calls == 1


def timed_out() -> OperationalError:
    """What PyMySQL raises when the socket times out, as SQLAlchemy wraps it."""
    try:
        try:
            raise TimeoutError("timed out")
        except TimeoutError as cause:
            raise pymysql.err.OperationalError(2013, f"Lost connection ({cause})")  # noqa: B904
    except pymysql.err.OperationalError as driver_error:
        return OperationalError("SELECT 1", {}, driver_error, False, True)


def test_a_connection_lost_to_a_timeout_is_not_retried() -> None:
    # The server did not answer: a second attempt would only double the wait.
    attempts = Attempts(timed_out())
    with pytest.raises(OperationalError):
        retry_read("GET", attempts)
    assert attempts.calls == 1


def test_a_timeout_is_told_from_a_cut_connection() -> None:
    assert read_retry.is_timeout(timed_out())
    assert not read_retry.is_timeout(lost_connection())
    assert not read_retry.is_timeout(refused_connection())


@pytest.mark.parametrize(
    ("remaining", "calls"), [(read_retry.RETRY_RESERVE_SECONDS + 1, 2), (1.0, 1)]
)
def test_a_retry_needs_time_left_to_connect(remaining: float, calls: int) -> None:
    attempts = Attempts(lost_connection())
    remaining_seconds: Callable[[], float] = lambda: remaining  # noqa: E731
    if calls == 2:
        assert retry_read("GET", attempts, remaining_seconds=remaining_seconds) == "ok"
    else:
        with pytest.raises(OperationalError):
            retry_read("GET", attempts, remaining_seconds=remaining_seconds)
    assert attempts.calls == calls
