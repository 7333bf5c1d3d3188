"""The dependency rules hold for the export code: the worker cold-starts without Flask or
the monolith, the platform module imports boto3 only when a client is first needed, and
the core service knows nothing of boto3, web frameworks or Lambda."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.servers import REPO

PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(sys.modules)))
"""


def loaded_by(module: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, module],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "APP_ENV": "test"},
    )
    return {name.split(".")[0] for name in json.loads(result.stdout)}


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("app.functions.export_worker", {"flask", "werkzeug", "legacy"}),
        ("app.platform.exports", {"flask", "werkzeug", "legacy", "boto3"}),
        (
            "app.core.services.exports",
            {"flask", "werkzeug", "legacy", "boto3", "botocore", "aws_lambda_powertools"},
        ),
    ],
)
def test_module_imports_stay_inside_their_layer(module: str, forbidden: set[str]) -> None:
    assert loaded_by(module) & forbidden == set()
