"""Canary cutover in the packaged templates: Live aliases shifted by CodeDeploy with the
stage's deployment configuration, smoke-test hooks, rollback alarms and a tight role."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.servers import REPO
from tests.support.templates import IacCheck, of_type

DEPLOYMENT_TYPE = {
    "dev": "AllAtOnce",
    "staging": "Linear10PercentEvery1Minute",
    "prod": "Canary10Percent5Minutes",
}


def _http_functions(resources: dict[str, Any]) -> set[str]:
    """Logical ids of the functions an HTTP API route integrates with."""
    found = set()
    for integration in of_type(resources, "AWS::ApiGatewayV2::Integration").values():
        uri = json.dumps(integration["Properties"]["IntegrationUri"])
        for name in of_type(resources, "AWS::Lambda::Function"):
            if f'"{name}AliasLive"' in uri or f'"{name}"' in uri:
                found.add(name)
    return found


def _deployed(resources: dict[str, Any]) -> set[str]:
    groups = of_type(resources, "AWS::CodeDeploy::DeploymentGroup")
    return {name.removesuffix("DeploymentGroup") for name in groups}


def test_every_http_function_and_the_worker_are_shifted_by_codedeploy(
    resources: dict[str, Any],
) -> None:
    http = _http_functions(resources)
    assert len(http) >= 8  # the monolith, six peeled routes and one pinned
    assert http | {"ExportWorkerLambdaFunction"} <= _deployed(resources)


def test_routes_integrate_with_the_live_alias_not_the_function(resources: dict[str, Any]) -> None:
    for integration in of_type(resources, "AWS::ApiGatewayV2::Integration").values():
        uri = json.dumps(integration["Properties"]["IntegrationUri"])
        assert "AliasLive" in uri, uri


def test_aliases_are_updated_by_codedeploy_with_both_hooks(resources: dict[str, Any]) -> None:
    for function in _http_functions(resources):
        alias = resources[f"{function}AliasLive"]
        assert alias["Properties"]["Name"] == "Live"
        update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
        assert update["DeploymentGroupName"] == {"Ref": f"{function}DeploymentGroup"}
        assert update["BeforeAllowTrafficHook"] == {"Ref": "PreTrafficHookLambdaFunction"}
        assert update["AfterAllowTrafficHook"] == {"Ref": "PostTrafficHookLambdaFunction"}


def test_deployment_groups_use_the_stage_configuration_and_roll_back_on_alarms(
    resources: dict[str, Any], stage: str
) -> None:
    for name, group in of_type(resources, "AWS::CodeDeploy::DeploymentGroup").items():
        props = group["Properties"]
        config = json.dumps(props["DeploymentConfigName"])
        assert f'"ConfigName": "{DEPLOYMENT_TYPE[stage]}"' in config, (name, config)
        assert props["ServiceRoleArn"] == {"Fn::GetAtt": ["CodeDeployServiceRoleConduit", "Arn"]}
        assert "DEPLOYMENT_STOP_ON_ALARM" in props["AutoRollbackConfiguration"]["Events"]
        assert props["AlarmConfiguration"]["Enabled"] is True
        alarms = {alarm["Name"]["Ref"] for alarm in props["AlarmConfiguration"]["Alarms"]}
        prefix = name.removesuffix("LambdaFunctionDeploymentGroup") + "Live"
        assert {
            f"{prefix}ErrorsAlarm",
            f"{prefix}ThrottlesAlarm",
            f"{prefix}P99DurationAlarm",
        } <= alarms


def test_alias_alarms_watch_the_alias(resources: dict[str, Any]) -> None:
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    p99 = {n: a for n, a in alarms.items() if n.endswith("LiveP99DurationAlarm")}
    assert len(p99) >= 9
    for name, alarm in p99.items():
        props = alarm["Properties"]
        assert props["ExtendedStatistic"] == "p99"
        assert props["Threshold"] > 0
        dimensions = {d["Name"]: d["Value"] for d in props["Dimensions"]}
        assert dimensions["Resource"] == f"{dimensions['FunctionName']}:Live", name


def test_the_codedeploy_role_is_tight(resources: dict[str, Any]) -> None:
    role = resources["CodeDeployServiceRoleConduit"]["Properties"]
    assert "ManagedPolicyArns" not in role
    text = json.dumps(role)
    assert "AWSLambda_FullAccess" not in text
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    for statement in statements:
        assert statement["Action"] != "*" and "lambda:*" not in json.dumps(statement["Action"])
    assert not any(
        "FullAccess" in json.dumps(r) for r in of_type(resources, "AWS::IAM::Role").values()
    )


def test_hooks_may_only_invoke_the_functions_they_test(resources: dict[str, Any]) -> None:
    for hook, qualifier in (("PreTrafficHookRole", ":*"), ("PostTrafficHookRole", ":Live")):
        statements = [
            s
            for p in resources[hook]["Properties"]["Policies"]
            for s in p["PolicyDocument"]["Statement"]
        ]
        [invoke] = [s for s in statements if s.get("Action") == "lambda:InvokeFunction"]
        targets = [r["Fn::Sub"] for r in invoke["Resource"]]
        assert len(targets) >= 8
        assert all(t.endswith(qualifier) for t in targets), targets
        assert not any("-migrate" in t or "TrafficHook" in t for t in targets)
        reports = [s for s in statements if "codedeploy:PutLifecycleEventHookExecutionStatus"
                   in json.dumps(s.get("Action"))]  # fmt: skip
        assert reports and "deploymentgroup:" in json.dumps(reports[0]["Resource"])


def test_the_worker_takes_batches_through_its_alias(resources: dict[str, Any]) -> None:
    [mapping] = of_type(resources, "AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["FunctionName"] == {"Ref": "ExportWorkerLambdaFunctionAliasLive"}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["ScalingConfig"]["MaximumConcurrency"] >= 2


# --- derived from the entries -------------------------------------------------------------

HANDWRITTEN = Path(__file__).parent / "fixtures" / "handwritten-prod.json"


def test_derived_resources_are_what_the_handwritten_ones_were(iac_check: IacCheck) -> None:
    """The prod template packaged from the short entries has, for every function that had
    hand-written resources, the same role (least privilege), log group, alarms, deployment
    group, function settings and hook rights. The fixture is the prod template as packaged
    before the entries were shortened."""
    path = REPO / ".serverless-prod" / "cloudformation-template-update-stack.json"
    assert path.exists(), iac_check.output[-3000:]
    resources = json.loads(path.read_text())["Resources"]
    handwritten = json.loads(HANDWRITTEN.read_text())
    hook_rights = handwritten.pop("_hookInvokeResources")
    for logical_id, expected in handwritten.items():
        actual = resources[logical_id]
        if actual["Type"] == "AWS::IAM::Role":
            # A function in shadow state may also hand reads to its comparator
            # (tests/integration/packaging/test_shadow_template.py): the one right added since.
            actual = json.loads(json.dumps(actual))
            for policy in actual["Properties"]["Policies"]:
                statements = policy["PolicyDocument"]["Statement"]
                statements[:] = [s for s in statements if s.get("Sid") != "HandOffToComparator"]
        if logical_id.endswith("LambdaFunction"):
            actual = {
                "Metadata": actual.get("Metadata"),
                "Properties": {k: actual["Properties"].get(k) for k in expected["Properties"]},
            }
            expected = {"Metadata": expected.get("Metadata"), **expected}
        assert actual == expected, logical_id
    for role, expected_resources in hook_rights.items():
        statement = next(
            s
            for p in resources[role]["Properties"]["Policies"]
            for s in p["PolicyDocument"]["Statement"]
            if s.get("Action") == "lambda:InvokeFunction"
        )
        assert all(r in statement["Resource"] for r in expected_resources), role


def test_every_tested_function_may_be_invoked_by_both_hooks(resources: dict[str, Any]) -> None:
    from app.deploy.registry import load_registry

    invoke = {
        role: json.dumps(
            [
                s
                for p in resources[role]["Properties"]["Policies"]
                for s in p["PolicyDocument"]["Statement"]
                if s.get("Action") == "lambda:InvokeFunction"
            ]
        )
        for role in ("PreTrafficHookRole", "PostTrafficHookRole")
    }
    for name in load_registry().manifest():
        assert f"-{name}:*" in invoke["PreTrafficHookRole"], name
        assert f"-{name}:Live" in invoke["PostTrafficHookRole"], name


def test_the_hooks_carry_the_registry_manifest(resources: dict[str, Any]) -> None:
    from app.deploy.registry import load_registry

    expected = load_registry().manifest()
    for hook in ("PreTrafficHookLambdaFunction", "PostTrafficHookLambdaFunction"):
        variables = resources[hook]["Properties"]["Environment"]["Variables"]
        assert json.loads(variables["DEDICATED_FUNCTIONS"]) == expected


def test_snapstart_on_every_shifted_function_in_staging_and_prod(
    stage: str, resources: dict[str, Any]
) -> None:
    functions = of_type(resources, "AWS::Lambda::Function")
    shifted = {
        group["Properties"]["DeploymentGroupName"]
        for group in of_type(resources, "AWS::CodeDeploy::DeploymentGroup").values()
    }
    assert shifted
    on = {name for name, f in functions.items() if "SnapStart" in f["Properties"]}
    if stage == "dev":
        assert on == set()
        return
    assert len(on) == len(shifted)
    for name in on:
        props = functions[name]["Properties"]
        assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        assert props["Runtime"] == "python3.13"
        # A new version is published when SnapStart is turned on or off: osls hashes the
        # environment into the version's name.
        assert props["Environment"]["Variables"]["SNAPSTART"] == "PublishedVersions"
        alias = f"{name}AliasLive"
        assert resources[alias]["Type"] == "AWS::Lambda::Alias"
    for alias in of_type(resources, "AWS::Lambda::Alias").values():
        assert "ProvisionedConcurrencyConfig" not in alias["Properties"]
    for permission in of_type(resources, "AWS::Lambda::Permission").values():
        target = json.dumps(permission["Properties"]["FunctionName"])
        if "apigateway" in json.dumps(permission["Properties"]["Principal"]):
            assert "AliasLive" in target, target
    for integration in of_type(resources, "AWS::ApiGatewayV2::Integration").values():
        assert "AliasLive" in json.dumps(integration["Properties"]["IntegrationUri"])
