"""The monolith on Lambda logs JSON lines that name the invocation they belong to."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask import Flask

from app.core.services import profiles
from app.platform.observability import logger
from tests.support.lambdas import LambdaContext, http_event, invoke


def test_an_error_logged_on_lambda_carries_both_request_ids(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(profiles, "get_profile", broken)
    # The logger's handler holds the stdout of its import; read what it writes here.
    output = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(output)  # type: ignore[attr-defined]
    context = LambdaContext()
    event = http_event("GET", "/api/profiles/jake")

    try:
        response = invoke(app, event, context)
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]

    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"errors": {"body": ["internal server error"]}}
    assert "boom" not in response["body"]  # no stack trace in the answer
    lines = [json.loads(line) for line in output.getvalue().splitlines() if line]
    [error] = [line for line in lines if line.get("message") == "unhandled error"]
    assert error["level"] == "ERROR"
    assert error["function_request_id"] == context.aws_request_id
    assert error["correlation_id"] == event["requestContext"]["requestId"]
    assert "RuntimeError: boom" in error["exception"]
