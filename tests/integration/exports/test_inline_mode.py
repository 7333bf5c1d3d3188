"""Local mode (`make run`, no queue): the export is built in-process after the commit,
written under EXPORTS_LOCAL_DIR and downloaded from the monolith by its owner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app.core.models import Export
from app.exports import document, lifecycle
from app.platform.db import Database
from tests.support.api import Actions, assert_error, delete_user, user_id_of
from tests.support.exports import (
    assert_jakes_export,
    populate,
    request_export,
    show,
    without_generated_at,
)
from tests.support.lambdas import API_HOST, http_event, invoke, response_json


def test_inline_export_is_built_and_downloadable_by_its_owner(
    inline_client: FlaskClient, inline_actions: Actions, export_dir: Path
) -> None:
    jake, jane = populate(inline_actions)
    created = request_export(inline_client, jake)
    # The answer describes the export as committed: the client polls, as with SQS.
    assert created["status"] == "pending"

    export = show(inline_client, jake, created["id"])
    assert export["status"] == "done"
    assert export["url"] == f"http://localhost/api/user/exports/{created['id']}/download"

    stored = export_dir / "exports" / str(user_id_of(jake)) / f"{created['id']}.json"
    assert stored.is_file()
    assert list(stored.parent.iterdir()) == [stored]  # no temporary file left behind

    with inline_client.get(export["url"], headers=jake.headers) as response:
        assert response.status_code == 200
        assert response.content_type == "application/json; charset=utf-8"
        assert "attachment" in response.headers["Content-Disposition"]
        document = json.loads(response.get_data())
    assert_jakes_export(document)

    # The same core service builds the synchronous export.
    with inline_client.get("/api/user/export", headers=jake.headers) as response:
        assert without_generated_at(json.loads(response.get_data())) == without_generated_at(
            document
        )

    assert_error(inline_client.get(export["url"], headers=jane.headers), 404)
    assert_error(inline_client.get(export["url"]), 401)


def test_the_download_url_on_lambda_is_at_the_root_of_the_api_domain(
    inline_client: FlaskClient, inline_actions: Actions
) -> None:
    """API Gateway serves the `$default` stage at the root: no URL may contain it."""
    jake = inline_actions.register("jake")
    created = request_export(inline_client, jake)
    response = invoke(
        inline_client.application,
        http_event("GET", f"/api/user/exports/{created['id']}", headers=jake.headers),
    )
    assert response["statusCode"] == 200, response
    url = response_json(response)["export"]["url"]
    assert url == f"https://{API_HOST}/api/user/exports/{created['id']}/download"


def test_download_of_an_unfinished_export_is_404(
    inline_client: FlaskClient, inline_actions: Actions, database: Database
) -> None:
    jake = inline_actions.register("jake")
    with database.transaction() as session:
        pending = lifecycle.request_export(session, user_id_of(jake))["export"]
    assert_error(
        inline_client.get(f"/api/user/exports/{pending['id']}/download", headers=jake.headers),
        404,
    )


def test_an_inline_failure_marks_the_export_failed(
    inline_client: FlaskClient,
    inline_actions: Actions,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    jake = inline_actions.register("jake")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(document, "export_document", broken)
    created = request_export(inline_client, jake)
    export = show(inline_client, jake, created["id"])
    assert export["status"] == "failed"
    assert export["reason"] == lifecycle.INLINE_FAILED_REASON
    with database.read() as session:
        assert session.scalars(select(Export.status)).all() == ["failed"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/user/export"),
        ("POST", "/api/user/exports"),
        ("GET", "/api/user/exports/{id}"),
        ("GET", "/api/user/exports/{id}/download"),
    ],
)
def test_a_token_of_an_account_gone_since_is_refused(
    inline_client: FlaskClient, inline_actions: Actions, database: Database, method: str, path: str
) -> None:
    """The account is looked up in the request's own session, as on every other route."""
    jake, _ = populate(inline_actions)
    export_id = request_export(inline_client, jake)["id"]
    delete_user(database, "jake")
    response = inline_client.open(path.format(id=export_id), method=method, headers=jake.headers)
    assert assert_error(response, 401) == ["token is invalid"]
