"""Init hygiene: on Lambda, no garbage collection runs while a handler module is imported
and its singletons are built; what init made is frozen afterwards and the collector's
usual thresholds come back. Each handler module runs in a fresh interpreter."""

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


def import_fresh(module: str, *, on_lambda: bool) -> dict[str, Any]:
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
        [sys.executable, "-c", CHILD, module],
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
