"""Fake AWS for the tests (a pytest plugin, loaded by tests/conftest.py): one set of fake
credentials and one region, with nothing left that could point boto3 at a real endpoint,
and moto in place of every service. Nothing leaves the machine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

REGION = "eu-west-1"

# Anything in the environment that could send boto3 to a real account or endpoint.
_REAL_AWS = (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_LAMBDA",
    "AWS_ENDPOINT_URL_CLOUDWATCH",
)


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region; no profile or endpoint from the machine."""
    for name in _REAL_AWS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)


@pytest.fixture
def mocked_aws(aws_credentials: None) -> Iterator[None]:
    """The fake credentials, and moto answering for every AWS service."""
    with mock_aws():
        yield
