"""scripts/migration_status.py: the route ownership report and each rule that fails it."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
from flask import Flask

from scripts.migration_status import budget_report, flask_routes, route_report
from tests.support.servers import REPO


def _monolith() -> Flask:
    app = Flask(__name__)
    view = lambda **_: ""  # noqa: E731
    app.add_url_rule("/api/tags", "tags", view, methods=["GET"])
    app.add_url_rule("/api/articles/feed", "feed", view, methods=["GET"])
    app.add_url_rule("/api/articles/<slug>", "article", view, methods=["GET", "PUT"])
    app.add_url_rule("/api/articles/<slug>/comments/<int:id>", "comment", view, methods=["DELETE"])
    return app


def _config(*functions: tuple[str, str, list[Any]], **custom: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "functions": {
            "monolith": {"handler": "wsgi_handler.handler", "events": [{"httpApi": "*"}]}
        },
        "custom": {"migration": custom},
    }
    for name, handler, events in functions:
        config["functions"][name] = {"handler": handler, "events": events}
    return config


def _report(config: dict[str, Any]) -> Any:
    return route_report(flask_routes(_monolith()), config)


def test_everything_on_the_monolith_is_clean() -> None:
    report = _report(_config())
    assert report.errors == []
    assert "0 of 5 routes owned by dedicated functions" in report.lines[-1]


def test_peeled_and_pinned_routes_are_reported_with_their_owner() -> None:
    report = _report(
        _config(
            ("getTags", "app/functions/list_tags.handler", [{"httpApi": "GET /api/tags"}]),
            ("getFeed", "wsgi_handler.handler", [{"httpApi": "GET /api/articles/feed"}]),
            (
                "getArticle",
                "app/functions/get_article.handler",
                [{"httpApi": {"method": "GET", "path": "/api/articles/{slug}"}}],
            ),
        )
    )
    assert report.errors == []
    lines = "\n".join(report.lines)
    assert "GET     /api/tags" in lines and "new       getTags" in lines
    assert "pinned    getFeed" in lines
    assert report.lines[-1] == (
        "3 of 5 routes owned by dedicated functions (2 new, 1 pinned, 0 retired from the "
        "monolith), 2 still on the monolith; 0 writes switched to new code"
    )


def _without_tags() -> Flask:
    """The monolith once the view of GET /api/tags was deleted."""
    app = Flask(__name__)
    view = lambda **_: ""  # noqa: E731
    app.add_url_rule("/api/articles/<slug>", "article", view, methods=["GET", "PUT"])
    return app


TAGS_FUNCTION = ("listTags", "app/functions/list_tags.handler", [{"httpApi": "GET /api/tags"}])


def test_a_retired_route_counts_as_owned_by_its_function() -> None:
    config = _config(
        TAGS_FUNCTION,
        ("updateArticle", "app/functions/u.handler", [{"httpApi": "PUT /api/articles/{slug}"}]),
        retired=["GET /api/tags"],
    )
    report = route_report(flask_routes(_without_tags()), config)
    assert report.errors == []
    assert any(line.split() == ["GET", "/api/tags", "retired", "listTags"] for line in report.lines)
    assert report.lines[-1] == (
        "2 of 3 routes owned by dedicated functions (1 new, 0 pinned, 1 retired from the "
        "monolith), 1 still on the monolith; 1 writes switched to new code"
    )


def test_a_retired_route_must_be_gone_from_the_monolith() -> None:
    errors = _report(_config(TAGS_FUNCTION, retired=["GET /api/tags"])).errors
    assert errors == [
        "GET /api/tags is listed as retired but the monolith still serves it: delete its "
        "view, or take it off custom.migration.retired"
    ]


def test_a_function_whose_monolith_view_is_gone_must_be_declared_retired() -> None:
    errors = route_report(flask_routes(_without_tags()), _config(TAGS_FUNCTION)).errors
    assert errors == [
        "GET /api/tags of listTags matches no monolith route and is not declared in "
        "custom.migration.new or custom.migration.retired"
    ]


def test_a_route_is_lost_without_the_catch_all() -> None:
    config = _config(("getTags", "app/functions/list_tags.handler", [{"httpApi": "GET /api/tags"}]))
    del config["functions"]["monolith"]
    errors = _report(config).errors
    assert any(
        "PUT /api/articles/{slug} is served by the monolith but no route" in e for e in errors
    )


def test_a_broader_function_route_shadows_a_monolith_route() -> None:
    # Peeling GET /api/articles/{slug} without /feed hands the feed to getArticle.
    config = _config(
        (
            "getArticle",
            "app/functions/get_article.handler",
            [{"httpApi": "ANY /api/articles/{slug}"}],
        )
    )
    errors = _report(config).errors
    assert any(
        "GET /api/articles/feed is shadowed by ANY /api/articles/{slug}" in e for e in errors
    )
    assert any("PUT /api/articles/{slug} is shadowed" in e for e in errors)


def test_a_function_route_must_match_the_monolith_or_be_declared() -> None:
    route = {"httpApi": "POST /api/user/exports"}
    undeclared = _report(_config(("exports", "app/functions/exports.handler", [route])))
    assert any("POST /api/user/exports of exports matches no monolith route" in e
               for e in undeclared.errors)  # fmt: skip
    declared = _report(
        _config(
            ("exports", "app/functions/exports.handler", [route]), new=["POST /api/user/exports"]
        )
    )
    assert declared.errors == []


def test_two_functions_may_not_claim_one_route() -> None:
    report = _report(
        _config(
            ("a", "app/functions/a.handler", [{"httpApi": "GET /api/articles/{slug}"}]),
            ("b", "app/functions/b.handler", [{"httpApi": "GET /api/articles/{id}"}]),
        )
    )
    assert any("claimed by both a and b" in e for e in report.errors)


def test_a_typed_flask_converter_cannot_be_peeled_as_a_plain_parameter() -> None:
    route = {"httpApi": "DELETE /api/articles/{slug}/comments/{id}"}
    report = _report(_config(("deleteComment", "app/functions/comments.handler", [route])))
    assert any("<int:…> has no API Gateway equivalent" in e for e in report.errors)


BUDGET_PARAMS = {"default": {"dbMaxConnections": 100, "proxyMaxConnectionsPercent": 50}}


@pytest.mark.parametrize(
    ("reserved", "deployment", "expected", "over"),
    [
        (20, "AllAtOnce", 20 + 1, False),
        (20, "Canary10Percent5Minutes", 40 + 1, False),  # two versions warm mid-canary
        (25, "Linear10PercentEvery1Minute", 50 + 1, True),
        (49, "AllAtOnce", 49 + 1, True),
    ],
)
def test_connection_budget(reserved: int, deployment: str, expected: int, over: bool) -> None:
    config = {
        "params": BUDGET_PARAMS,
        "functions": {
            "getTags": {
                "reservedConcurrency": reserved,
                "deploymentSettings": {"type": deployment},
            },
            "migrate": {"reservedConcurrency": 1},
            "hook": {},
        },
        "custom": {"migration": {"withoutDatabase": ["hook"]}},
    }
    report = budget_report(config, "prod", connections_each=1)
    assert report.lines == [
        f"[prod] connections: {expected} of 50 the proxy may open (monolith 0, "
        f"0 dedicated functions 0, shadow comparators 0, other functions {expected})"
    ]
    assert bool(report.errors) is over


def test_a_database_function_without_reserved_concurrency_fails_the_budget() -> None:
    config = {"params": BUDGET_PARAMS, "functions": {"getTags": {}}}
    assert budget_report(config, "dev", connections_each=1).errors


def test_the_real_topology_passes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scripts.migration_status"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stderr
    summary = re.search(
        r"(\d+) of (\d+) routes owned by dedicated functions \((\d+) new, (\d+) pinned, "
        r"(?:\d+ shadow, )?(\d+) retired from the monolith\), (\d+) still on the monolith; "
        r"(\d+) writes switched",
        result.stdout,
    )
    assert summary is not None, result.stdout
    owned, total, _new, _pinned, retired, _left, writes = map(int, summary.groups())
    assert owned >= 17 and total == 23
    assert retired >= 1 and writes >= 10
    for stage in ("dev", "staging", "prod"):
        assert f"[{stage}] connections: " in result.stdout
