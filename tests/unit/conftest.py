"""Unit tests touch no database and no network: any socket is a failure."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from app.platform.observability import logger


@pytest.fixture(autouse=True)
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("unit tests must not open sockets")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the process logger writes (its handler holds the stdout of its import)."""
    output = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(output)  # type: ignore[attr-defined]
    try:
        yield output
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]
