"""The RDS IAM auth token, signed without a boto3 client, is boto3's token byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import boto3
import pytest

from app.platform import rds_iam
from app.platform.rds_iam import Credentials, IamAuthToken, sign_auth_token

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKENS = [None, "IQoJb3JpZ2luX2VjEOr//////////wEaCWV1LXdlc3QtMSJH+token/=="]
HOSTS = [
    ("conduit-dev.proxy-c0ffee.eu-west-1.rds.amazonaws.com", 3306, "conduit_app", "eu-west-1"),
    ("127.0.0.1", 13306, "user.with+odd chars", "us-east-1"),
]
MOMENTS = [datetime(2026, 11, 29, 12, 0, 0), datetime(2024, 2, 29, 23, 59, 59)]


def boto3_token(
    host: str, port: int, user: str, region: str, session_token: str | None, at: datetime
) -> str:
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=session_token,
        region_name=region,
    )
    client = session.client("rds")
    with mock.patch("botocore.auth.get_current_datetime", return_value=at):
        token: str = client.generate_db_auth_token(
            DBHostname=host, Port=port, DBUsername=user, Region=region
        )
    return token


@pytest.mark.parametrize("session_token", SESSION_TOKENS)
@pytest.mark.parametrize(("host", "port", "user", "region"), HOSTS)
@pytest.mark.parametrize("at", MOMENTS)
def test_signed_token_is_boto3s(
    host: str, port: int, user: str, region: str, session_token: str | None, at: datetime
) -> None:
    ours = sign_auth_token(
        host=host,
        port=port,
        user=user,
        region=region,
        credentials=Credentials(ACCESS_KEY, SECRET_KEY, session_token),
        now=at.replace(tzinfo=UTC),
    )
    assert ours == boto3_token(host, port, user, region, session_token, at)


def test_a_different_secret_signs_differently() -> None:
    at = MOMENTS[0]
    host, port, user, region = HOSTS[0]
    ours = sign_auth_token(
        host=host,
        port=port,
        user=user,
        region=region,
        credentials=Credentials(ACCESS_KEY, SECRET_KEY[:-1] + "X"),
        now=at,
    )
    theirs = boto3_token(host, port, user, region, None, at)
    assert ours.split("X-Amz-Signature=")[0] == theirs.split("X-Amz-Signature=")[0]
    assert ours != theirs


def test_credentials_come_from_the_lambda_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session")
    assert rds_iam.credentials_from_environment() == Credentials(ACCESS_KEY, SECRET_KEY, "session")
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    assert rds_iam.credentials_from_environment() == Credentials(ACCESS_KEY, SECRET_KEY, None)


def test_issued_token_signs_now_with_the_environments_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    host, port, user, region = HOSTS[0]
    token = IamAuthToken(host=host, port=port, user=user, region=region)()
    stamp = token.split("X-Amz-Date=")[1][:16]
    at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")
    assert abs((datetime.now(UTC).replace(tzinfo=None) - at).total_seconds()) < 60
    assert token == boto3_token(host, port, user, region, None, at)
