from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from app.platform.observability import logger


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
