"""The dependency rules hold for the export code: the worker cold-starts without Flask or
the monolith; the feature (app/exports/) and the platform's blob store and queue adapters
import boto3 only when a client is first needed; the document, the lifecycle and the
message know nothing of boto3, web frameworks or Lambda; and neither app/core nor
app/platform imports the feature."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

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


WEB = {"flask", "werkzeug", "legacy"}
# What builds and runs: the SDK only when a client is first needed.
WIRED = WEB | {"boto3"}
# What decides: no AWS SDK and no Lambda tooling at all.
PURE = WIRED | {"botocore", "aws_lambda_powertools"}


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("app.functions.export_worker", WEB),
        ("app.platform.blobs", WIRED),
        ("app.platform.queues", WIRED),
        ("app.exports.backend", WIRED),
        ("app.exports.runner", WIRED),
        ("app.exports.settings", PURE),
        ("app.exports.document", PURE),
        ("app.exports.lifecycle", PURE),
        ("app.exports.message", PURE),
    ],
)
def test_module_imports_stay_inside_their_layer(module: str, forbidden: set[str]) -> None:
    assert loaded_by(module) & forbidden == set()


def imported_by(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", ["app/core", "app/platform"])
def test_the_shared_layers_know_nothing_of_the_export_feature(layer: str) -> None:
    """The feature uses the core and the platform; neither of them uses the feature, so
    no export rule can hide in them."""
    sources = sorted((REPO / layer).rglob("*.py"))
    assert sources
    offenders = {
        str(path.relative_to(REPO)): sorted(
            name for name in imported_by(path) if name.split(".")[:2] == ["app", "exports"]
        )
        for path in sources
    }
    assert {path: names for path, names in offenders.items() if names} == {}
