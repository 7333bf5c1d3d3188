"""Where a message goes: an SQS queue, or (local and test) a function called at once in
this process. Bodies are opaque text here; what they mean is the sender's business."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from app.platform.aws import aws_client, client_errors


class QueueUnavailable(RuntimeError):
    """The message could not be sent; nobody will receive it."""


class MessageQueue(Protocol):
    def send(self, body: str) -> None:
        """Hand the message over; QueueUnavailable when it could not be sent."""
        ...


class SqsQueue:
    def __init__(self, queue_url: str, *, client: Any = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            # Fail fast inside the request rather than hold the caller for long.
            self._client = aws_client("sqs", connect_timeout=2, read_timeout=5)
        return self._client

    def send(self, body: str) -> None:
        try:
            self.client.send_message(QueueUrl=self.queue_url, MessageBody=body)
        except client_errors() as error:
            raise QueueUnavailable(f"could not send to {self.queue_url}: {error}") from error


class InlineQueue:
    """No queue: `consume` receives each message at once, in the sender's process."""

    def __init__(self, consume: Callable[[str], None]) -> None:
        self.consume = consume

    def send(self, body: str) -> None:
        self.consume(body)
