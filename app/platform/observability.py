"""Structured JSON logs (Powertools Logger), one logger per process.

Every line carries the Lambda request id (`function_request_id`) and the API Gateway
request id (`correlation_id`) of the invocation being served, in the monolith and in
every function alike, so one request can be followed across them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "conduit"))


def bind_invocation(event: Mapping[str, Any] | None, context: Any) -> None:
    """Put this invocation's ids on every following log line (replacing the last ones),
    under the keys the dedicated functions' Powertools decorators use: the Lambda request
    id as `function_request_id`, the API Gateway request id as `correlation_id`."""
    request_context = (event or {}).get("requestContext") or {}
    logger.append_keys(function_request_id=getattr(context, "aws_request_id", None))
    logger.set_correlation_id(request_context.get("requestId"))
