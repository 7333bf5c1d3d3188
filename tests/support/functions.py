"""The dedicated functions (from the registry), and how tests load them in this process.

Each function module builds its Runtime from the environment when imported; tests import
it under a harmless environment (an in-memory SQLite URL that is never connected to) and
then replace the module's `runtime` with one bound to the test's database.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

import pytest

from app.deploy.registry import load_registry
from app.platform.db import Database
from app.platform.lambda_http import Runtime
from app.platform.settings import Settings
from tests.support.api import TEST_CONFIG


@dataclass(frozen=True)
class Function:
    """A dedicated function running new code, as the tests see it."""

    name: str  # its handler module under app/functions/ (its sample event's name too)
    route: str  # the HTTP API route key, as in serverless.yml
    logical: str  # its name in serverless.yml

    @property
    def module(self) -> str:
        return f"app.functions.{self.name}"

    @property
    def event(self) -> str:
        return self.name


REGISTRY = load_registry()
# Every function's new code, switched or carried as a shadow, found through the registry:
# nothing here names one.
FUNCTIONS = [
    Function(str(function.module_name), function.route.key, function.name)
    for function in (*REGISTRY.switched, *REGISTRY.shadowed)
]
BY_NAME = {function.name: function for function in FUNCTIONS}

IMPORT_ENV = {"APP_ENV": "test", "DATABASE_URL": "sqlite://", **TEST_CONFIG}
UNSET_ON_IMPORT = ("AWS_LAMBDA_FUNCTION_NAME", "DB_HOST", "JWT_SECRET_ID")


def import_function(name: str) -> ModuleType:
    """app.functions.<name>, imported (once per process) under a harmless environment."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in IMPORT_ENV.items():
            patch.setenv(key, value)
        for key in UNSET_ON_IMPORT:
            patch.delenv(key, raising=False)
        return importlib.import_module(BY_NAME[name].module)


def runtime_on(database: Database, settings: Settings | None = None) -> Runtime:
    """A Runtime on `database` with the test settings (the monolith's, by default)."""
    if settings is None:
        settings = Settings.from_env(
            {"APP_ENV": "test", "DATABASE_URL": "sqlite://", **TEST_CONFIG}
        )
    return Runtime(settings, database)
