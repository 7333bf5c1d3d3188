"""Lambda handler of a pinned function in shadow state (README, "Cutting a route over").

The monolith's code answers, exactly as a pinned function's would (serverless-wsgi's
`wsgi_handler.handler`). Then, for a sampled share of reads, the request and that answer
are handed to the route's comparator (app/deploy/comparator.py) with an asynchronous
invoke: Lambda queues the event and returns, so the client waits only for the hand-off,
never for the comparison. Writes are never handed off. A hand-off that fails or is too
large is logged and dropped: the client's answer never depends on it.

The osls plugin scripts/serverless-dedicated-functions.js makes this the handler of every
entry with a `shadow:` and sets its environment:
- SHADOW_COMPARATOR: the comparator function's name;
- SHADOW_SAMPLE_RATE: the share of reads handed off (0 turns the shadow off), per stage;
- SHADOW_LAMBDA_ENDPOINT (stage local only): serverless-offline's Lambda port.

The payload holds the request as the function received it, Authorization header
included: it goes to the comparator only, which never logs it.
"""

from __future__ import annotations

import functools
import json
import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.platform.observability import logger

# Lambda takes at most 256 KB for an asynchronous invocation; leave room for the envelope.
MAX_PAYLOAD_BYTES = 250_000
# The hand-off is on the client's time: a Lambda API that does not answer at once is skipped.
HAND_OFF_CONNECT_TIMEOUT_SECONDS = 0.5
HAND_OFF_READ_TIMEOUT_SECONDS = 1.0
READ_METHODS = frozenset({"GET", "HEAD"})

Handler = Callable[[Any, Any], Any]


def method_of(event: Mapping[str, Any]) -> str:
    http = (event.get("requestContext") or {}).get("http") or {}
    return str(http.get("method", "")).upper()


@dataclass
class Sampler:
    """Hands a share (`rate`) of the reads and their answers to `comparator`."""

    comparator: str
    rate: float
    client: Any
    # Sampling, not security: any uniform draw in [0, 1) will do.
    draw: Callable[[], float] = field(default=random.random)

    def offer(self, event: Mapping[str, Any], answer: Any) -> bool:
        """Hand `event` and `answer` off if this read is sampled; True when handed off."""
        if self.rate <= 0 or method_of(event) not in READ_METHODS:
            return False
        if self.draw() >= self.rate:
            return False
        payload = json.dumps({"event": event, "answer": answer}, separators=(",", ":")).encode()
        if len(payload) > MAX_PAYLOAD_BYTES:
            logger.warning("shadow: request too large to hand off", size=len(payload))
            return False
        try:
            self.client.invoke(
                FunctionName=self.comparator, InvocationType="Event", Payload=payload
            )
        except Exception:  # whatever happens, the client gets its answer
            logger.warning("shadow: hand-off to the comparator failed", exc_info=True)
            return False
        return True


def lambda_client(endpoint: str | None, region: str | None) -> Any:
    """A Lambda client with short timeouts and no retries; unsigned when `endpoint` is
    serverless-offline's (it checks no signature, and there are no credentials)."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    config = Config(
        connect_timeout=HAND_OFF_CONNECT_TIMEOUT_SECONDS,
        read_timeout=HAND_OFF_READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "total_max_attempts": 1},
        **({"signature_version": UNSIGNED} if endpoint else {}),
    )
    return boto3.client(
        "lambda",
        endpoint_url=endpoint or None,
        region_name=region,
        config=config,
    )


def sampler_from_env(environ: Mapping[str, str] = os.environ) -> Sampler:
    rate = float(environ.get("SHADOW_SAMPLE_RATE", "0"))
    if not 0 <= rate <= 1:
        raise ValueError(f"SHADOW_SAMPLE_RATE must be within [0, 1], not {rate}")
    comparator = environ.get("SHADOW_COMPARATOR", "")
    if rate > 0 and not comparator:
        raise ValueError("SHADOW_SAMPLE_RATE is set but SHADOW_COMPARATOR is not")
    endpoint = environ.get("SHADOW_LAMBDA_ENDPOINT") or None
    # Made at init, not on the first sampled request: the client costs tens of ms to build.
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    client = lambda_client(endpoint, region) if rate > 0 else None
    return Sampler(comparator, rate, client)


@functools.cache
def monolith() -> Handler:
    """serverless-wsgi's handler (written into the package root by serverless-wsgi)."""
    from wsgi_handler import handler as wsgi

    return wsgi  # type: ignore[no-any-return]


sampler = sampler_from_env()
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    # In a Lambda runtime, load the monolith at init, as serverless-wsgi's handler does.
    monolith()


def handler(event: dict[str, Any], context: Any) -> Any:
    answer = monolith()(event, context)
    sampler.offer(event, answer)
    return answer
