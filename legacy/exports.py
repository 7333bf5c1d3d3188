"""Data exports of the signed-in user.

GET  /user/export                  the document, streamed, synchronously (slow for big users)
POST /user/exports                 202: record a pending export, then hand it to the worker
GET  /user/exports/<id>            its status; when done a short-lived download URL
GET  /user/exports/<id>/download   inline (local) mode only: the finished document
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

from flask import Blueprint, Response, current_app, send_file, url_for

from app.core.errors import NotFound, TemporarilyUnavailable
from app.core.services import exports
from app.platform.exports import NOT_QUEUED_REASON, ExportBackend, QueueUnavailable, export_backend
from app.platform.http import JSON_CONTENT_TYPE
from app.platform.observability import logger

from .context import conduit, required_caller, respond

bp = Blueprint("exports", __name__)


def _backend() -> ExportBackend:
    """Made on first use, once per app: SQS/S3 clients are not created until needed."""
    backend = current_app.extensions.get("conduit_exports")
    if backend is None:
        app = conduit()
        backend = export_backend(app.settings.exports, app.database)
        current_app.extensions["conduit_exports"] = backend
    assert isinstance(backend, ExportBackend)
    return backend


@bp.get("/user/export")
def export_now() -> Response:
    caller = required_caller()
    stack = ExitStack()
    session = stack.enter_context(conduit().database.read())
    try:
        # Checks the account now; the rows are read batch by batch as the body is sent.
        chunks = exports.export_document(session, caller.user_id)
    except BaseException:
        stack.close()
        raise

    def body() -> Iterator[str]:
        with stack:
            yield from chunks

    return Response(body(), content_type=JSON_CONTENT_TYPE)


@bp.post("/user/exports")
def request_export() -> Response:
    caller = required_caller()
    app = conduit()
    with app.database.transaction() as session:
        created = exports.request_export(session, caller.user_id)
    # Committed. Only now may the worker hear of it: a request that rolled back never
    # enqueues, and the worker never receives an id it cannot find.
    export_id = created["export"]["id"]
    try:
        _backend().queue.submit(export_id)
    except QueueUnavailable:
        logger.exception("export not queued", export_id=export_id)
        with app.database.transaction() as session:
            exports.mark_failed(session, export_id, NOT_QUEUED_REASON)
        raise TemporarilyUnavailable("the export could not be queued") from None
    response = respond(created, 202)
    response.headers["Location"] = f"/api/user/exports/{export_id}"
    return response


@bp.get("/user/exports/<export_id>")
def show_export(export_id: str) -> Response:
    caller = required_caller()
    backend = _backend()

    def link(item_id: str, key: str) -> str:
        if backend.inline:
            return url_for("exports.download_export", export_id=item_id, _external=True)
        return backend.presigned_url(key)

    with conduit().database.read() as session:
        response = respond(exports.get_export(session, caller.user_id, export_id, link=link))
    # The URL is a bearer credential for the document: nobody should cache it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/user/exports/<export_id>/download")
def download_export(export_id: str) -> Response:
    caller = required_caller()
    backend = _backend()
    if not backend.inline:
        raise NotFound("resource not found")
    with conduit().database.read() as session:
        key = exports.finished_object_key(session, caller.user_id, export_id)
    return send_file(
        backend.local_file(key),
        mimetype=JSON_CONTENT_TYPE,
        as_attachment=True,
        download_name="conduit-export.json",
        max_age=0,
    )
