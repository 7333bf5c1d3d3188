"""The packaged topology of each deployed stage: routes, aliases, proxy, IAM, logs."""

from __future__ import annotations

import json
from typing import Any

from app.deploy.registry import load_registry
from tests.support.templates import IacCheck, of_type


def test_iac_check_finds_nothing(iac_check: IacCheck) -> None:
    """sls package, cfn-lint with the serverless rules, and checkov, on dev/staging/prod."""
    print(iac_check.output[-2000:])
    assert iac_check.returncode == 0, iac_check.output[-6000:]


def _integration_target(resources: dict[str, Any], route_key: str) -> str:
    routes = of_type(resources, "AWS::ApiGatewayV2::Route")
    [route] = [r for r in routes.values() if r["Properties"]["RouteKey"] == route_key]
    integration_ref = json.dumps(route["Properties"]["Target"])
    [integration] = [
        r
        for name, r in of_type(resources, "AWS::ApiGatewayV2::Integration").items()
        if f'"{name}"' in integration_ref
    ]
    return json.dumps(integration["Properties"]["IntegrationUri"])


def test_catch_all_route_reaches_the_monolith_live_alias(resources: dict[str, Any]) -> None:
    target = _integration_target(resources, "$default")
    assert '"MonolithLambdaFunctionAliasLive"' in target
    alias = resources["MonolithLambdaFunctionAliasLive"]
    assert alias["Type"] == "AWS::Lambda::Alias"
    assert alias["Properties"]["Name"] == "Live"


def test_rds_proxy_requires_tls_and_iam(resources: dict[str, Any]) -> None:
    [proxy] = of_type(resources, "AWS::RDS::DBProxy").values()
    props = proxy["Properties"]
    assert props["EngineFamily"] == "MYSQL"
    assert props["RequireTLS"] is True
    assert [auth["IAMAuth"] for auth in props["Auth"]] == ["REQUIRED"]
    assert props["VpcSubnetIds"]
    [group] = of_type(resources, "AWS::RDS::DBProxyTargetGroup").values()
    assert group["Properties"]["DBInstanceIdentifiers"]
    assert group["Properties"]["ConnectionPoolConfigurationInfo"]["MaxConnectionsPercent"] > 0


def test_database_credentials_live_in_secrets_manager(resources: dict[str, Any]) -> None:
    secrets = of_type(resources, "AWS::SecretsManager::Secret")
    [proxy] = of_type(resources, "AWS::RDS::DBProxy").values()
    secret_refs = json.dumps(proxy["Properties"]["Auth"])
    assert any(f'"{name}"' in secret_refs for name in secrets)
    for secret in secrets.values():
        assert "SecretString" not in secret["Properties"], "a secret value in the template"


def test_functions_are_traced_in_the_vpc_with_their_own_role(resources: dict[str, Any]) -> None:
    functions = of_type(resources, "AWS::Lambda::Function")
    assert {"MonolithLambdaFunction", "MigrateLambdaFunction"} <= set(functions)
    roles = set()
    for name, function in functions.items():
        props = function["Properties"]
        assert props["TracingConfig"] == {"Mode": "Active"}, name
        assert props["VpcConfig"]["SubnetIds"], name
        assert props["VpcConfig"]["SecurityGroupIds"], name
        assert props["LoggingConfig"]["LogFormat"] == "JSON", name
        roles.add(json.dumps(props["Role"]))
    assert len(roles) == len(functions), "functions share an IAM role"


def test_every_log_group_has_a_retention(resources: dict[str, Any]) -> None:
    groups = of_type(resources, "AWS::Logs::LogGroup")
    assert groups
    assert all(g["Properties"].get("RetentionInDays", 0) > 0 for g in groups.values())


def test_no_secret_values_in_function_environments(resources: dict[str, Any]) -> None:
    for name, function in of_type(resources, "AWS::Lambda::Function").items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        assert "JWT_SECRET" not in variables, name
        assert "DATABASE_URL" not in variables, name
        assert "JWT_SECRET_ID" in variables, name


def test_rds_db_connect_only_on_the_proxy_user(resources: dict[str, Any]) -> None:
    statements = []
    for role in of_type(resources, "AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            statements += policy["PolicyDocument"]["Statement"]
    connect = [s for s in statements if "rds-db:connect" in json.dumps(s.get("Action"))]
    assert connect, "no function may connect to the proxy"
    for statement in connect:
        assert statement["Effect"] == "Allow"
        resource = json.dumps(statement["Resource"])
        assert "dbuser:" in resource and "*" not in resource.replace("${", "")
        assert "prx-" not in resource  # derived from the proxy's ARN, not hard-coded


def test_migrate_function_is_not_routed(resources: dict[str, Any]) -> None:
    routes = json.dumps(of_type(resources, "AWS::ApiGatewayV2::Integration"))
    assert "MigrateLambdaFunction" not in routes


def test_a_dedicated_function_reads_the_signing_key_only_when_it_checks_tokens(
    resources: dict[str, Any],
) -> None:
    """Each dedicated function's role (derived from its entry) may read the JWT key only
    if the entry says it uses it, and none may reach the exports queue or bucket."""
    functions = load_registry().http_functions
    assert any(not function.route.is_read for function in functions)
    for function in functions:
        role = json.dumps(resources[f"{function.name[0].upper()}{function.name[1:]}Role"])
        reads_key = "secretsmanager:GetSecretValue" in role
        assert reads_key is ("signingKey" in function.uses), function.name
        assert "sqs:" not in role and "s3:" not in role, function.name
