"""Init hygiene: on Lambda, no garbage collection runs while a handler module is imported
and its singletons are built; what init made is frozen afterwards and the collector's
usual thresholds come back. And the standard-library packages SQLAlchemy imports for its
asyncio support alone are not loaded while a function starts
(app.platform.deferred_imports), and behave as themselves once something uses them. Each
case runs in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.support.api import TEST_CONFIG
from tests.support.functions import FUNCTIONS
from tests.support.servers import REPO

# Counts the collections that start while the module is imported (from the moment the
# `app` package is, which is what raises the threshold), and reports the collector's
# state once it is.
CHILD = """
import gc, importlib, json, sys
default = gc.get_threshold()
import app
started = []
gc.callbacks.append(lambda phase, info: phase == "start" and started.append(info["generation"]))
importlib.import_module(sys.argv[1])
gc.callbacks.clear()
print(json.dumps({"collections": len(started), "frozen": gc.get_freeze_count(),
                  "threshold": gc.get_threshold(), "default": default}))
"""

HANDLER_MODULES = [
    *(function.module for function in FUNCTIONS),
    "app.functions.export_worker",
    "app.functions.migrate",
    "legacy.wsgi",
]

# Imports the handler module, then reports which of the packages are loaded (a stand-in
# is in sys.modules but not loaded).
IMPORT_HANDLER = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
def state(name):
    module = sys.modules.get(name)
    if module is None:
        return "absent"
    return "deferred" if type(module).__name__ == "_Deferred" else "loaded"
print(json.dumps({name: state(name) for name in ("asyncio", "importlib.metadata", "ssl")}))
"""

# Uses each deferred package as code that imported it early would, after SQLAlchemy.
USE_THEM = """
import json, sys
import app.functions.get_article
import sqlalchemy.util.concurrency as concurrency
import asyncio
early = asyncio
from importlib import metadata

async def answer():
    await asyncio.sleep(0)
    return 42

import asyncio.coroutines
result = {
    "iscoroutine_is_the_real_one": concurrency.iscoroutine is asyncio.coroutines.iscoroutine,
    "run": asyncio.run(answer()),
    "same_module": sys.modules["asyncio"] is early,
    "queue": type(asyncio.Queue()).__name__,
    "class": type(sys.modules["asyncio"]).__name__,
    "version": metadata.version("sqlalchemy"),
    "metadata_class": type(sys.modules["importlib.metadata"]).__name__,
}
from asyncio import Lock
result["lock"] = Lock.__name__
print(json.dumps(result))
"""


def import_fresh(module: str, *, on_lambda: bool) -> dict[str, Any]:
    return run_fresh(CHILD, module, on_lambda=on_lambda)


def run_fresh(code: str, *args: str, on_lambda: bool = True) -> dict[str, Any]:
    """Runs `code` in a fresh interpreter (with `args`); what it printed last, as JSON."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "DB_", "JWT_", "POWERTOOLS_", "EXPORTS_"))
    }
    env |= {
        "APP_ENV": "test",
        "DATABASE_URL": "sqlite://",
        "JWT_SECRET": TEST_CONFIG["JWT_SECRET"],
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if on_lambda:
        env["AWS_LAMBDA_FUNCTION_NAME"] = "conduit-test-init"
    completed = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_no_collection_during_init_then_frozen(module: str) -> None:
    state = import_fresh(module, on_lambda=True)
    assert state["collections"] == 0
    # Init made thousands of tracked objects; they are out of the collector's reach now.
    assert state["frozen"] > 10_000
    assert state["threshold"] == state["default"]


def test_off_lambda_the_collector_is_left_alone() -> None:
    state = import_fresh("app.functions.get_article", on_lambda=False)
    assert state["collections"] > 0
    assert state["frozen"] == 0
    assert state["threshold"] == state["default"]


@pytest.mark.parametrize("module", sorted({function.module for function in FUNCTIONS}))
def test_a_function_starts_without_them(module: str) -> None:
    state = run_fresh(IMPORT_HANDLER, module)
    assert state["asyncio"] == "deferred"
    assert state["importlib.metadata"] == "deferred"
    # On SQLite (no TLS) nothing needs ssl either: asyncio brought it before.
    assert state["ssl"] == "absent"


def test_off_lambda_nothing_is_deferred() -> None:
    state = run_fresh(IMPORT_HANDLER, "app.functions.get_article", on_lambda=False)
    assert state["asyncio"] == "loaded"
    assert state["importlib.metadata"] == "loaded"


def test_once_used_they_are_the_real_packages() -> None:
    result = run_fresh(USE_THEM)
    assert result == {
        "iscoroutine_is_the_real_one": True,
        "run": 42,
        "same_module": True,
        "queue": "Queue",
        "class": "module",
        "version": result["version"],
        "metadata_class": "module",
        "lock": "Lock",
    }
    assert result["version"].startswith("2.")


def test_a_package_imported_already_is_left_alone() -> None:
    code = """
import asyncio, json, sys
from app.platform import deferred_imports
print(json.dumps({"deferred": deferred_imports.defer("asyncio"),
                  "same": sys.modules["asyncio"] is asyncio,
                  "loaded": deferred_imports.loaded("asyncio")}))
"""
    assert run_fresh(code, on_lambda=False) == {"deferred": False, "same": True, "loaded": True}


def test_argon2_is_imported_at_the_first_hash_not_before() -> None:
    code = """
import json, sys
from app.core.passwords import Passwords
passwords = Passwords(time_cost=1, memory_cost_kib=8, parallelism=1)
before = "argon2" in sys.modules
hashed = passwords.hash("s3cret-passw0rd")
print(json.dumps({"before": before, "after": "argon2" in sys.modules,
                  "right": passwords.verify(hashed, "s3cret-passw0rd"),
                  "wrong": passwords.verify(hashed, "not-it"),
                  "rehash": passwords.needs_rehash(hashed)}))
"""
    assert run_fresh(code) == {
        "before": False,
        "after": True,
        "right": True,
        "wrong": False,
        "rehash": False,
    }
