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
    return "stand-in" if type(module).__name__ == "_StandIn" else "loaded"
print(json.dumps({name: state(name) for name in ("asyncio", "importlib.metadata", "ssl")}))
"""

# After init, what SQLAlchemy (which holds the stand-ins) and other code do with the
# packages: a database error classified, then each package used, its submodules first.
USE_THEM = """
import json, sys
import app.functions.get_article
import sqlalchemy.util.concurrency as concurrency
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

result = {"stand_ins_left": [n for n in ("asyncio", "importlib.metadata") if n in sys.modules]}
engine = create_engine("sqlite://")
with engine.connect() as connection:
    connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    connection.execute(text("INSERT INTO t VALUES (1)"))
    try:
        connection.execute(text("INSERT INTO t VALUES (1)"))
    except IntegrityError:
        result["integrity_error"] = True
result["asyncio_after_a_database_error"] = "asyncio" in sys.modules

async def answer():
    await asyncio.sleep(0)
    return 42

import asyncio.tasks  # a submodule first
import asyncio
result |= {
    "iscoroutine": concurrency.iscoroutine(answer.__code__) is False,
    "run": asyncio.run(answer()),
    "tasks": asyncio.tasks.sleep is asyncio.sleep,
    "class": type(sys.modules["asyncio"]).__name__,
    # the stand-in SQLAlchemy holds reads the real package now
    "forwards": sys.modules["sqlalchemy.util.concurrency"].asyncio.Queue is asyncio.Queue,
    "cancelled": concurrency.asyncio.CancelledError is asyncio.CancelledError,
}
from importlib import metadata
from asyncio import Lock
result |= {"version": metadata.version("sqlalchemy").split(".")[0], "lock": Lock.__name__,
           "metadata_class": type(sys.modules["importlib.metadata"]).__name__}
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
    # Neither loaded, and the stand-ins out of sys.modules once init is over.
    assert state["asyncio"] == "absent"
    assert state["importlib.metadata"] == "absent"
    # On SQLite (no TLS) nothing needs ssl either: asyncio brought it before.
    assert state["ssl"] == "absent"


def test_off_lambda_nothing_is_deferred() -> None:
    state = run_fresh(IMPORT_HANDLER, "app.functions.get_article", on_lambda=False)
    assert state["asyncio"] == "loaded"
    assert state["importlib.metadata"] == "loaded"


def test_after_init_they_load_when_used_and_are_the_real_packages() -> None:
    assert run_fresh(USE_THEM) == {
        "stand_ins_left": [],
        "integrity_error": True,
        "asyncio_after_a_database_error": False,
        "iscoroutine": True,
        "run": 42,
        "tasks": True,
        "class": "module",
        "forwards": True,
        "cancelled": True,
        "version": "2",
        "lock": "Lock",
        "metadata_class": "module",
    }


def test_a_read_that_needs_the_package_during_init_imports_it() -> None:
    code = """
import json, sys
from app.platform import deferred_imports
deferred_imports.install()
import asyncio
standing_in = deferred_imports.standing_in("asyncio")
queue = asyncio.Queue  # needs the package: the stand-in steps aside
print(json.dumps({"before": standing_in, "after": deferred_imports.standing_in("asyncio"),
                  "real": type(sys.modules["asyncio"]).__name__,
                  "same": queue is sys.modules["asyncio"].Queue}))
"""
    result = run_fresh(code, on_lambda=False)
    assert result == {"before": True, "after": False, "real": "module", "same": True}


def test_a_package_imported_already_is_left_alone() -> None:
    code = """
import asyncio, json, sys
from app.platform import deferred_imports
deferred_imports.install()
print(json.dumps({"stand_in": deferred_imports.standing_in("asyncio"),
                  "same": sys.modules["asyncio"] is asyncio}))
"""
    assert run_fresh(code, on_lambda=False) == {"stand_in": False, "same": True}


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
