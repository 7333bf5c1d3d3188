"""Fixtures for the CodeDeploy hook tests: moto's CodeDeploy, a Lambda double, and the
functions manifest the osls plugin gives the hooks."""

from __future__ import annotations

import json

import pytest

from tests.support.codedeploy import LambdaDouble, MotoCodeDeploy

# What the osls plugin puts in the hooks' DEDICATED_FUNCTIONS: the functions they test.
HOOK_MANIFEST = {
    "monolith": {"routes": ["$default"], "smoke": []},
    "tagsReader": {"routes": ["GET /api/tags"], "smoke": []},
}


@pytest.fixture(autouse=True)
def hook_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDICATED_FUNCTIONS", json.dumps(HOOK_MANIFEST))


@pytest.fixture
def codedeploy(mocked_aws: None) -> MotoCodeDeploy:
    return MotoCodeDeploy()


@pytest.fixture
def lambda_(mocked_aws: None) -> LambdaDouble:
    return LambdaDouble()
