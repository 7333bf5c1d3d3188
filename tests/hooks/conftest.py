from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws

from tests.hooks.doubles import REGION, LambdaDouble, MotoCodeDeploy

# What the osls plugin puts in the hooks' DEDICATED_FUNCTIONS: the functions they test.
HOOK_MANIFEST = {
    "monolith": {"routes": ["$default"], "smoke": []},
    "tagsReader": {"routes": ["GET /api/tags"], "smoke": []},
}


@pytest.fixture(autouse=True)
def hook_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDICATED_FUNCTIONS", json.dumps(HOOK_MANIFEST))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials and moto; nothing leaves the machine."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


@pytest.fixture
def codedeploy(aws: None) -> MotoCodeDeploy:
    return MotoCodeDeploy()


@pytest.fixture
def lambda_(aws: None) -> LambdaDouble:
    return LambdaDouble()
