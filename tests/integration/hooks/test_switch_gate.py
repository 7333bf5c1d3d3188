"""The switch gate in the pre-traffic hook (app/deploy/gate.py): at a switch from the
monolith's code to new code, the route's shadow record (CloudWatch, moto) and parity of
both versions on live data decide; any other deployment is only smoke-tested."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from app.deploy.gate import (
    MONOLITH_HANDLERS,
    GateSettings,
    ShadowRecord,
    check_record,
    parity_paths,
    shadow_record,
)
from app.deploy.hooks import FAILED, SUCCEEDED, Hook, HookResult, run_hook
from app.deploy.registry import load_registry
from app.deploy.smoke import MISSING_USERNAME
from tests.support.codedeploy import (
    CURRENT_VERSION,
    REGION,
    TARGET_VERSION,
    LambdaDouble,
    MotoCodeDeploy,
    hook_event,
    http_answer,
)

FUNCTION = "conduit-prod-profileReader"
ROUTE = "GET /api/profiles/{username}"
MANIFEST = {
    "profileReader": {"routes": [ROUTE], "smoke": [], "code": "new"},
    "pinnedReader": {"routes": ["GET /api/tags"], "smoke": [], "code": "monolith"},
}
GATE = {"namespace": "Conduit", "windowMinutes": 60, "minComparisons": 100, "withoutShadow": False}
MONOLITH_CODE = "wsgi_handler.handler"
NEW_CODE = "app/functions/get_profile.handler"
ARTICLES = http_answer(
    200,
    {
        "articles": [
            {"slug": "dragons", "author": {"username": "jake"}},
            {"slug": "angular", "author": {"username": "jane"}},
        ],
        "articlesCount": 2,
    },
)
NOT_FOUND = http_answer(404, {"errors": {"body": ["profile not found"]}})


def profile(username: str, bio: str | None = None) -> dict[str, Any]:
    return http_answer(
        200, {"profile": {"username": username, "bio": bio, "image": None, "following": False}}
    )


@pytest.fixture(autouse=True)
def gated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDICATED_FUNCTIONS", json.dumps(MANIFEST))
    monkeypatch.setenv("SHADOW_GATE", json.dumps(GATE))


@pytest.fixture
def cloudwatch(mocked_aws: None) -> Any:
    return boto3.client("cloudwatch", region_name=REGION)


def record(cloudwatch: Any, compared: int, mismatched: int, route: str = ROUTE) -> None:
    for name, value in (("ShadowComparisons", compared), ("ShadowMismatches", mismatched)):
        cloudwatch.put_metric_data(
            Namespace="Conduit",
            MetricData=[
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": "route", "Value": route}],
                    "Value": value,
                    "Unit": "Count",
                }
            ],
        )


def pre_traffic(
    codedeploy: MotoCodeDeploy, lambda_: LambdaDouble, cloudwatch: Any, function: str = FUNCTION
) -> HookResult:
    return run_hook(
        Hook.BEFORE_ALLOW_TRAFFIC,
        hook_event(codedeploy.deploy(function)),
        codedeploy=codedeploy.client,
        lambda_client=lambda_.client,
        cloudwatch=cloudwatch,
    )


def a_switch(lambda_: LambdaDouble) -> None:
    lambda_.configuration(MONOLITH_CODE)
    lambda_.configuration(NEW_CODE)


def smoke_and_parity(lambda_: LambdaDouble, target_jane: dict[str, Any] | None = None) -> None:
    lambda_.answer(NOT_FOUND)  # the smoke check, on the target
    lambda_.answer(ARTICLES, executed_version=CURRENT_VERSION)  # live values
    lambda_.answer(profile("jake"), executed_version=CURRENT_VERSION)
    lambda_.answer(profile("jake"))
    lambda_.answer(profile("jane"), executed_version=CURRENT_VERSION)
    lambda_.answer(target_jane or profile("jane"))


def test_a_switch_whose_shadow_saw_mismatches_is_refused_naming_route_and_count(
    codedeploy: MotoCodeDeploy, lambda_: LambdaDouble, cloudwatch: Any
) -> None:
    record(cloudwatch, compared=1200, mismatched=3)
    a_switch(lambda_)
    result = pre_traffic(codedeploy, lambda_, cloudwatch)
    assert result.status == FAILED
    assert ROUTE in result.reason and "3 mismatch(es)" in result.reason
    assert codedeploy.statuses == [FAILED]
    assert lambda_.calls == []  # refused before any smoke request


def test_a_switch_whose_shadow_compared_too_little_is_refused(
    codedeploy: MotoCodeDeploy, lambda_: LambdaDouble, cloudwatch: Any
) -> None:
    record(cloudwatch, compared=40, mismatched=0)
    a_switch(lambda_)
    result = pre_traffic(codedeploy, lambda_, cloudwatch)
    assert result.status == FAILED
    assert "compared 40 read(s)" in result.reason and "fewer than the 100" in result.reason


def test_a_switch_with_a_clean_shadow_and_live_parity_goes_on(
    codedeploy: MotoCodeDeploy, lambda_: LambdaDouble, cloudwatch: Any
) -> None:
    record(cloudwatch, compared=150, mismatched=0)
    record(cloudwatch, compared=0, mismatched=9, route="GET /api/other")  # another route's
    a_switch(lambda_)
    smoke_and_parity(lambda_)
    result = pre_traffic(codedeploy, lambda_, cloudwatch)
    assert result.status == SUCCEEDED, result.reason
    assert "2 live request(s) answered alike" in result.reason
    lambda_.stubber.assert_no_pending_responses()
    paths = [
        (call["Qualifier"], event["rawPath"])
        for call, event in zip(lambda_.calls, lambda_.events, strict=True)
    ]
    assert paths[1:] == [
        (CURRENT_VERSION, "/api/articles"),
        (CURRENT_VERSION, "/api/profiles/jake"),
        (TARGET_VERSION, "/api/profiles/jake"),
        (CURRENT_VERSION, "/api/profiles/jane"),
        (TARGET_VERSION, "/api/profiles/jane"),
    ]
    assert lambda_.events[3]["routeKey"] == ROUTE  # the function's own route shape


def test_a_difference_on_live_data_that_persists_fails_the_switch(
    codedeploy: MotoCodeDeploy, lambda_: LambdaDouble, cloudwatch: Any
) -> None:
    record(cloudwatch, compared=150, mismatched=0)
    a_switch(lambda_)
    smoke_and_parity(lambda_, target_jane=profile("jane", bio="wrong"))
    # Asked again, each version answers as before.
    lambda_.answer(profile("jane"), executed_version=CURRENT_VERSION)
    lambda_.answer(profile("jane", bio="wrong"))
    result = pre_traffic(codedeploy, lambda_, cloudwatch)
    assert result.status == FAILED
    assert "/api/profiles/jane" in result.reason and "$.profile.bio" in result.reason
    lambda_.stubber.assert_no_pending_responses()


def test_a_difference_that_goes_away_when_asked_again_passes(
    codedeploy: MotoCodeDeploy, lambda_: LambdaDouble, cloudwatch: Any
) -> None:
    record(cloudwatch, compared=150, mismatched=0)
    a_switch(lambda_)
    smoke_and_parity(lambda_, target_jane=profile("jane", bio="just changed"))
    lambda_.answer(profile("jane", bio="just changed"), executed_version=CURRENT_VERSION)
    lambda_.answer(profile("jane", bio="just changed"))
    assert pre_traffic(codedeploy, lambda_, cloudwatch).status == SUCCEEDED


@pytest.mark.parametrize(("allowed", "status"), [(True, SUCCEEDED), (False, FAILED)])
def test_a_switch_never_shadowed_passes_only_where_the_stage_allows(
    codedeploy: MotoCodeDeploy,
    lambda_: LambdaDouble,
    cloudwatch: Any,
    monkeypatch: pytest.MonkeyPatch,
    allowed: bool,
    status: str,
) -> None:
    monkeypatch.setenv("SHADOW_GATE", json.dumps({**GATE, "withoutShadow": allowed}))
    a_switch(lambda_)
    if allowed:
        smoke_and_parity(lambda_)
    result = pre_traffic(codedeploy, lambda_, cloudwatch)
    assert result.status == status, result.reason
    if not allowed:
        assert "compared 0 read(s)" in result.reason


def test_a_deployment_of_new_code_over_new_code_is_only_smoke_tested(
    codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    lambda_.configuration(NEW_CODE)
    lambda_.configuration(NEW_CODE)
    lambda_.answer(NOT_FOUND)
    # No CloudWatch client: a switch would be refused for want of one.
    result = pre_traffic(codedeploy, lambda_, cloudwatch=None)
    assert result.status == SUCCEEDED, result.reason
    assert len(lambda_.calls) == 1


def test_a_pinned_function_is_never_gated(
    codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    lambda_.answer(http_answer(200, {"tags": []}))
    result = pre_traffic(codedeploy, lambda_, None, function="conduit-prod-pinnedReader")
    assert result.status == SUCCEEDED, result.reason
    lambda_.stubber.assert_no_pending_responses()


def test_a_switch_without_gate_settings_is_refused(
    codedeploy: MotoCodeDeploy,
    lambda_: LambdaDouble,
    cloudwatch: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SHADOW_GATE")
    a_switch(lambda_)
    result = pre_traffic(codedeploy, lambda_, cloudwatch)
    assert result.status == FAILED and "SHADOW_GATE is not set" in result.reason


def test_the_record_is_read_over_the_window_for_the_route(cloudwatch: Any) -> None:
    record(cloudwatch, compared=5, mismatched=1)
    record(cloudwatch, compared=7, mismatched=0)
    settings = GateSettings.from_env()
    assert shadow_record(cloudwatch, settings, ROUTE) == ShadowRecord(compared=12, mismatched=1)
    assert shadow_record(cloudwatch, settings, "GET /api/tags") == ShadowRecord(0, 0)
    later = datetime.now(UTC).replace(year=datetime.now(UTC).year + 1)
    assert shadow_record(cloudwatch, settings, ROUTE, now=later) == ShadowRecord(0, 0)


def test_check_record_takes_the_threshold_itself() -> None:
    settings = GateSettings("Conduit", 60, 100, without_shadow=False)
    check_record(ShadowRecord(100, 0), settings, ROUTE)
    with pytest.raises(Exception, match="99 read"):
        check_record(ShadowRecord(99, 0), settings, ROUTE)


def test_parity_requests_use_live_values_or_never_existing_ones() -> None:
    values = {"slug": ["dragons", "angular"], "username": ["jake"]}
    assert parity_paths(ROUTE, values) == ["/api/profiles/jake"]
    assert parity_paths("GET /api/articles/{slug}/comments", values) == [
        "/api/articles/dragons/comments",
        "/api/articles/angular/comments",
    ]
    assert parity_paths(ROUTE, {}) == [f"/api/profiles/{MISSING_USERNAME}"]
    assert parity_paths("GET /api/user", values) == ["/api/user"]


def test_the_gate_knows_the_shadow_wrapper_runs_the_monolith() -> None:
    shadow = load_registry().shadow_settings
    assert shadow["handler"] in MONOLITH_HANDLERS
    assert "wsgi_handler.handler" in MONOLITH_HANDLERS
