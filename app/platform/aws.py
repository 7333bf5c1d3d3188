"""AWS clients for the adapters that need one, made on first use: boto3 is imported only
then, so a module that merely may call AWS does not pay for boto3 at cold start."""

from __future__ import annotations

from typing import Any


def aws_client(service: str, **config: Any) -> Any:
    import boto3
    from botocore.config import Config

    # A fresh session per client: boto3's default session is not thread-safe, and the
    # monolith serves requests on threads locally. Region and credentials come from the
    # usual places (AWS_REGION on Lambda; AWS_ENDPOINT_URL for a local emulator).
    session = boto3.session.Session()
    return session.client(
        service, config=Config(retries={"mode": "standard", "max_attempts": 3}, **config)
    )


def error_code(error: Exception) -> str:
    """The service's error code of a botocore error ("404", "PreconditionFailed", ...)."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def client_errors() -> tuple[type[Exception], ...]:
    """What a failed AWS call raises, for an `except` clause."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)
