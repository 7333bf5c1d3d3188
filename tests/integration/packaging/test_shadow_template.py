"""The shadow step in the packaged templates: for each function in shadow state, its
comparator, the comparator's role (it invokes nothing), the pinned function's right to
invoke only its comparator, the parity alarm, and the switch gate in the pre-traffic hook."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.deploy.registry import Function, load_registry, resolve

REGISTRY = load_registry()
SHADOWED = REGISTRY.shadowed
SETTINGS = REGISTRY.shadow_settings


def test_the_repository_has_a_route_in_shadow_state() -> None:
    assert SHADOWED, "no dedicated function has a `shadow:`"


def logical(name: str) -> str:
    return name[0].upper() + name[1:]


def statements(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in resources[role]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def actions(statement: dict[str, Any]) -> list[str]:
    found = statement["Action"]
    return [found] if isinstance(found, str) else list(found)


@pytest.fixture(params=SHADOWED, ids=[f.name for f in SHADOWED])
def shadowed(request: pytest.FixtureRequest) -> Function:
    return request.param  # type: ignore[no-any-return]


def test_the_pinned_function_runs_the_wrapper_and_samples_per_stage(
    resources: dict[str, Any], shadowed: Function, stage: str
) -> None:
    props = resources[f"{logical(shadowed.name)}LambdaFunction"]["Properties"]
    assert props["Handler"] == SETTINGS["handler"]
    variables = props["Environment"]["Variables"]
    comparator = resources[f"{logical(shadowed.name)}ComparatorLambdaFunction"]["Properties"]
    assert variables["SHADOW_COMPARATOR"] == comparator["FunctionName"]
    rate = resolve("${param:shadowSampleRate}", REGISTRY.params(stage), stage)
    assert float(variables["SHADOW_SAMPLE_RATE"]) == float(rate)


def test_the_comparator_runs_the_new_handler_without_retries(
    resources: dict[str, Any], shadowed: Function, stage: str
) -> None:
    props = resources[f"{logical(shadowed.name)}ComparatorLambdaFunction"]["Properties"]
    assert props["Handler"] == SETTINGS["comparator"]["handler"]
    variables = props["Environment"]["Variables"]
    assert variables["SHADOW_HANDLER"] == shadowed.entry["shadow"]
    assert variables["SHADOW_ROUTE"] == shadowed.route.key
    assert variables["SHADOW_METRICS_NAMESPACE"] == SETTINGS["metricsNamespace"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] != SETTINGS["metricsNamespace"]
    concurrency = SETTINGS["comparator"]["concurrency"]
    assert props["ReservedConcurrentExecutions"] == concurrency.get(stage, concurrency["default"])
    assert props["VpcConfig"]["SubnetIds"]
    [config] = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
        and r["Properties"]["FunctionName"]
        == {"Ref": f"{logical(shadowed.name)}ComparatorLambdaFunction"}
    ]
    assert config["MaximumRetryAttempts"] == 0
    assert config["MaximumEventAgeInSeconds"] == SETTINGS["comparator"]["maximumEventAge"]


def test_the_comparator_may_invoke_nothing(resources: dict[str, Any], shadowed: Function) -> None:
    role = f"{logical(shadowed.name)}ComparatorRole"
    found = statements(resources, role)
    assert not [a for s in found for a in actions(s) if a.startswith("lambda:")]
    logs = json.dumps([s for s in found if "logs:PutLogEvents" in actions(s)])
    assert f"{shadowed.name}Comparator:*" in logs
    # It checks tokens as the new handler does: the pinned entry's `uses` carry over.
    assert any("secretsmanager:GetSecretValue" in actions(s) for s in found)


def test_the_pinned_function_may_invoke_only_its_comparator(
    resources: dict[str, Any], shadowed: Function
) -> None:
    found = statements(resources, f"{logical(shadowed.name)}Role")
    invokes = [s for s in found if any(a.startswith("lambda:") for a in actions(s))]
    [invoke] = invokes
    assert actions(invoke) == ["lambda:InvokeFunction"]
    assert invoke["Resource"]["Fn::Sub"].endswith(
        f":function:conduit-{_stage(resources)}-{shadowed.name}Comparator"
    )
    # And no other role may invoke the comparator.
    for name, resource in resources.items():
        if resource["Type"] != "AWS::IAM::Role" or name == f"{logical(shadowed.name)}Role":
            continue
        for statement in statements(resources, name):
            if "lambda:InvokeFunction" in actions(statement):
                assert f"{shadowed.name}Comparator" not in json.dumps(statement), name


def _stage(resources: dict[str, Any]) -> str:
    name = resources["MonolithLambdaFunction"]["Properties"]["FunctionName"]
    return str(name).split("-")[1]


def test_each_shadowed_route_has_a_parity_alarm(
    resources: dict[str, Any], shadowed: Function
) -> None:
    alarm = resources[f"{logical(shadowed.name)}ShadowMismatchAlarm"]["Properties"]
    assert alarm["Namespace"] == SETTINGS["metricsNamespace"]
    assert alarm["MetricName"] == "ShadowMismatches"
    assert alarm["Dimensions"] == [{"Name": "route", "Value": shadowed.route.key}]
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Sum",
        0,
        "GreaterThanThreshold",
    )


def test_the_pre_traffic_hook_carries_the_gate(resources: dict[str, Any], stage: str) -> None:
    variables = resources["PreTrafficHookLambdaFunction"]["Properties"]["Environment"]["Variables"]
    params = REGISTRY.params(stage)
    assert json.loads(variables["SHADOW_GATE"]) == {
        "namespace": SETTINGS["metricsNamespace"],
        "windowMinutes": params["shadowWindowMinutes"],
        "minComparisons": params["shadowMinComparisons"],
        "withoutShadow": params["switchWithoutShadow"],
    }
    found = {s.get("Sid"): s for s in statements(resources, "PreTrafficHookRole")}
    assert actions(found["ReadShadowMetrics"]) == ["cloudwatch:GetMetricStatistics"]
    versions = json.dumps(found["ReadSwitchedVersions"]["Resource"])
    assert actions(found["ReadSwitchedVersions"]) == ["lambda:GetFunctionConfiguration"]
    for function in REGISTRY.http_functions:
        assert (f"-{function.name}:*" in versions) == (function.module is not None), function.name


def test_only_dev_switches_without_shadow_history() -> None:
    allowed = {
        stage: bool(REGISTRY.params(stage)["switchWithoutShadow"])
        for stage in ("dev", "staging", "prod")
    }
    assert allowed == {"dev": True, "staging": False, "prod": False}
