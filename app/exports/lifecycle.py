"""An export's life: pending -> done, or pending -> failed with a reason its owner reads,
and failed -> pending again when its message is redriven from the dead-letter queue.

Every move is a conditional UPDATE (`... WHERE status = <from>`), so racing workers or a
duplicate delivery cannot make the same move twice. Functions here take a Session owned
by the caller and never commit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from app.core.errors import NotFound
from app.core.models import Export, utcnow
from app.core.services._common import ensure_account
from app.core.shapes import timestamp

PENDING, DONE, FAILED = "pending", "done", "failed"

# What the owner reads on GET /api/user/exports/<id> when an export failed.
GAVE_UP_REASON = (
    "your export could not be built after {attempts} attempts; "
    "please try again later by requesting a new export"
)
NOT_QUEUED_REASON = "your export could not be started; please request a new export"
INLINE_FAILED_REASON = "your export could not be built; please request a new export"
UNKNOWN_FAILURE_REASON = "the export failed"

_EXPORT_ID = re.compile(r"^[0-9a-f]{32}$")

# Given (export id, object key), the URL the owner downloads a finished export from.
Linker = Callable[[str, str], str]


def new_export_id() -> str:
    return uuid.uuid4().hex


def is_export_id(value: object) -> bool:
    return isinstance(value, str) and _EXPORT_ID.match(value) is not None


def object_key(user_id: int, export_id: str) -> str:
    """Where an export's document is stored. Deterministic, so a second delivery of the
    same message, or a second worker, can only ever address the same one object."""
    return f"exports/{user_id}/{export_id}.json"


# -- what the owner sees -------------------------------------------------------------------


def _shape(item: Export, link: Linker | None) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "id": item.id,
        "status": item.status,
        "createdAt": timestamp(item.created_at),
        "updatedAt": timestamp(item.updated_at),
    }
    if item.status == DONE and item.object_key is not None and link is not None:
        shape["url"] = link(item.id, item.object_key)
    if item.status == FAILED:
        shape["reason"] = item.failure_reason or UNKNOWN_FAILURE_REASON
    return shape


def request_export(session: Session, user_id: int) -> dict[str, Any]:
    """Record a pending export. The caller hands its id to the worker only after this
    transaction has committed."""
    ensure_account(session, user_id)
    item = Export(id=new_export_id(), user_id=user_id, status=PENDING)
    session.add(item)
    session.flush()
    return {"export": _shape(item, None)}


def _owned(session: Session, user_id: int, export_id: str) -> Export:
    """The caller's own export; another user's, an unknown or a malformed id all look alike."""
    item = None
    if is_export_id(export_id):
        item = session.scalar(
            select(Export).where(Export.id == export_id, Export.user_id == user_id)
        )
    if item is None:
        raise NotFound("export not found")
    return item


def get_export(session: Session, user_id: int, export_id: str, *, link: Linker) -> dict[str, Any]:
    ensure_account(session, user_id)
    return {"export": _shape(_owned(session, user_id, export_id), link)}


def finished_object_key(session: Session, user_id: int, export_id: str) -> str:
    """The stored document of the caller's finished export (local downloads)."""
    ensure_account(session, user_id)
    item = _owned(session, user_id, export_id)
    if item.status != DONE or item.object_key is None:
        raise NotFound("export is not ready")
    return item.object_key


# -- the runner's side ---------------------------------------------------------------------


@dataclass(frozen=True)
class ExportJob:
    export_id: str
    user_id: int
    status: str

    @property
    def object_key(self) -> str:
        return object_key(self.user_id, self.export_id)


def load_job(session: Session, export_id: str) -> ExportJob | None:
    row = session.execute(
        select(Export.id, Export.user_id, Export.status).where(Export.id == export_id)
    ).one_or_none()
    if row is None:
        return None
    return ExportJob(export_id=row.id, user_id=row.user_id, status=row.status)


def _transition(session: Session, export_id: str, source: str, **values: Any) -> bool:
    """Move one export out of `source`; False when it was not (or no longer) in it."""
    result = session.execute(
        update(Export)
        .where(Export.id == export_id, Export.status == source)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def mark_done(session: Session, export_id: str, key: str) -> bool:
    return _transition(
        session, export_id, PENDING, status=DONE, object_key=key, failure_reason=None
    )


def mark_failed(session: Session, export_id: str, reason: str) -> bool:
    return _transition(session, export_id, PENDING, status=FAILED, failure_reason=reason[:1000])


def reopen(session: Session, export_id: str) -> bool:
    """A failed export whose message came back (a redrive from the dead-letter queue)
    is pending again while it is retried."""
    return _transition(session, export_id, FAILED, status=PENDING, failure_reason=None)
