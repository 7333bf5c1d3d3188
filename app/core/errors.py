"""Typed domain errors. Each web layer maps them to HTTP in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: carries the human-readable messages for the error body."""

    default_message = "request failed"

    def __init__(self, *messages: str) -> None:
        self.messages = list(messages) or [self.default_message]
        super().__init__("; ".join(self.messages))


class ValidationFailed(DomainError):
    """The input is malformed or breaks a rule (422)."""

    default_message = "invalid input"


class AuthenticationRequired(DomainError):
    """No credentials, or credentials that are not valid (401)."""

    default_message = "authentication required"


class PermissionDenied(DomainError):
    """Authenticated, but not allowed to act on this resource (403)."""

    default_message = "forbidden"


class NotFound(DomainError):
    """The addressed resource does not exist (404)."""

    default_message = "not found"


class TemporarilyUnavailable(Exception):
    """Something the request needs (a queue, a store) cannot serve it now; nothing was
    left half done, and the client may retry. Answered 503 with Retry-After."""
