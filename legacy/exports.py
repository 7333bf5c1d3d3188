"""Data exports of the signed-in user (the feature itself: app/exports/).

GET  /user/export                  the document, streamed, synchronously (slow for big users)
POST /user/exports                 202: record a pending export, then hand it to the worker
GET  /user/exports/<id>            its status; when done a short-lived download URL
GET  /user/exports/<id>/download   inline (local) mode only: the finished document
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

from flask import Blueprint, Response, current_app, send_file, url_for

from app.exports import document
from app.exports.backend import ExportBackend, export_backend
from app.platform.http import JSON_CONTENT_TYPE

from .context import conduit, required_caller, respond

bp = Blueprint("exports", __name__)


def _backend() -> ExportBackend:
    """Made on first use, once per app: the EXPORTS_* settings are resolved then, and
    SQS/S3 clients are not created until needed. Each export route asks for it before it
    reads credentials, so the monolith's smoke check (a request without a token) fails
    the deployment when a setting is bad, where a user would otherwise meet it."""
    backend = current_app.extensions.get("conduit_exports")
    if backend is None:
        app = conduit()
        backend = export_backend(app.settings, app.database)
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
        chunks = document.export_document(session, caller.user_id)
    except BaseException:
        stack.close()
        raise

    def body() -> Iterator[str]:
        with stack:
            yield from chunks

    return Response(body(), content_type=JSON_CONTENT_TYPE)


@bp.post("/user/exports")
def request_export() -> Response:
    backend = _backend()  # the feature's settings first: a bad one is a 500, never a 401
    caller = required_caller()
    created = backend.request(caller.user_id)
    response = respond(created, 202)
    response.headers["Location"] = f"/api/user/exports/{created['export']['id']}"
    return response


@bp.get("/user/exports/<export_id>")
def show_export(export_id: str) -> Response:
    backend = _backend()
    caller = required_caller()

    def download_url(item_id: str) -> str:
        return url_for("exports.download_export", export_id=item_id, _external=True)

    response = respond(backend.show(caller.user_id, export_id, download_url=download_url))
    # The URL is a bearer credential for the document: nobody should cache it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/user/exports/<export_id>/download")
def download_export(export_id: str) -> Response:
    backend = _backend()
    caller = required_caller()
    return send_file(
        backend.local_file(caller.user_id, export_id),
        mimetype=document.CONTENT_TYPE,
        as_attachment=True,
        download_name=document.DOWNLOAD_NAME,
        max_age=0,
    )
