"""Structured JSON logs (Powertools Logger), one logger per process.

Every line carries the Lambda request id and the API Gateway request id of the
invocation being served, so one request can be followed across functions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "conduit"))


def bind_invocation(event: Mapping[str, Any] | None, context: Any) -> None:
    """Put this invocation's ids on every following log line (replacing the last ones)."""
    request_context = (event or {}).get("requestContext") or {}
    logger.append_keys(
        function_request_id=getattr(context, "aws_request_id", None),
        apigw_request_id=request_context.get("requestId"),
    )
