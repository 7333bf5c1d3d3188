"""The CodeDeploy lifecycle hooks: one report per invocation, Failed unless all is well."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from app.deploy import hooks as deploy_hooks
from app.deploy.hooks import FAILED, SUCCEEDED, Hook, HookResult, run_hook
from tests.support.codedeploy import (
    ALIAS,
    CURRENT_VERSION,
    EXECUTION_ID,
    REGION,
    TARGET_VERSION,
    LambdaDouble,
    MotoCodeDeploy,
    appspec,
    hook_event,
    http_answer,
)

HOOKS = [Hook.BEFORE_ALLOW_TRAFFIC, Hook.AFTER_ALLOW_TRAFFIC]
GET_TAGS = "conduit-prod-tagsReader"
MONOLITH = "conduit-prod-monolith"
TAGS_OK = http_answer(200, {"tags": ["angular", "dragons"]})
ARTICLES_OK = http_answer(200, {"articles": [], "articlesCount": 0})
NOT_FOUND = http_answer(404, {"errors": {"body": ["article not found"]}})
UNPROCESSABLE = http_answer(422, {"errors": {"body": ["email can't be blank"]}})
UNAUTHORIZED = http_answer(401, {"errors": {"body": ["token is invalid"]}})


def qualifier_for(hook: Hook) -> str:
    return TARGET_VERSION if hook is Hook.BEFORE_ALLOW_TRAFFIC else ALIAS


def run(
    hook: Hook,
    codedeploy: MotoCodeDeploy,
    lambda_client: Any,
    deployment_id: str,
    **options: Any,
) -> HookResult:
    return run_hook(
        hook,
        hook_event(deployment_id),
        codedeploy=codedeploy.client,
        lambda_client=lambda_client,
        **options,
    )


def report(deployment_id: str, status: str) -> dict[str, str]:
    return {
        "deploymentId": deployment_id,
        "lifecycleEventHookExecutionId": EXECUTION_ID,
        "status": status,
    }


# --- healthy ----------------------------------------------------------------------------


@pytest.mark.parametrize("hook", HOOKS)
def test_a_healthy_function_is_reported_succeeded_once(
    hook: Hook, codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS)
    lambda_.answer(TAGS_OK)

    result = run(hook, codedeploy, lambda_.client, deployment)

    assert codedeploy.reports == [report(deployment, SUCCEEDED)]
    assert result.status == SUCCEEDED
    lambda_.stubber.assert_no_pending_responses()


def test_pre_traffic_invokes_the_target_version(
    codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS)
    lambda_.answer(TAGS_OK)

    run(Hook.BEFORE_ALLOW_TRAFFIC, codedeploy, lambda_.client, deployment)

    assert [(c["FunctionName"], c["Qualifier"], c["InvocationType"]) for c in lambda_.calls] == [
        (GET_TAGS, TARGET_VERSION, "RequestResponse")
    ]
    assert TARGET_VERSION != CURRENT_VERSION


def test_post_traffic_invokes_the_alias(codedeploy: MotoCodeDeploy, lambda_: LambdaDouble) -> None:
    deployment = codedeploy.deploy(GET_TAGS)
    lambda_.answer(TAGS_OK)

    run(Hook.AFTER_ALLOW_TRAFFIC, codedeploy, lambda_.client, deployment)

    assert [(c["FunctionName"], c["Qualifier"], c["InvocationType"]) for c in lambda_.calls] == [
        (GET_TAGS, ALIAS, "RequestResponse")
    ]


def test_the_function_gets_an_http_api_event(
    codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS)
    lambda_.answer(TAGS_OK)

    run(Hook.BEFORE_ALLOW_TRAFFIC, codedeploy, lambda_.client, deployment)

    [event] = lambda_.events
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /api/tags"
    assert event["rawPath"] == "/api/tags"
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["requestContext"]["requestId"].startswith("smoke-")


@pytest.mark.parametrize("hook", HOOKS)
def test_the_monolith_runs_all_its_checks(
    hook: Hook, codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(MONOLITH)
    for answer in (UNPROCESSABLE, NOT_FOUND, UNAUTHORIZED, UNAUTHORIZED):
        lambda_.answer(answer)

    result = run(hook, codedeploy, lambda_.client, deployment)

    assert codedeploy.statuses == [SUCCEEDED]
    assert result.status == SUCCEEDED
    assert [(e["rawPath"], e["requestContext"]["http"]["method"]) for e in lambda_.events] == [
        ("/api/users/login", "POST"),
        ("/api/no-such-route", "GET"),
        ("/api/user", "GET"),
        ("/api/user/exports", "POST"),
    ]
    assert {(c["FunctionName"], c["Qualifier"]) for c in lambda_.calls} == {
        (MONOLITH, qualifier_for(hook))
    }


def test_the_legacy_string_revision_shape_is_read(
    codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS, shape="String")
    lambda_.answer(TAGS_OK)

    result = run(Hook.BEFORE_ALLOW_TRAFFIC, codedeploy, lambda_.client, deployment)

    assert codedeploy.statuses == [SUCCEEDED]
    assert result.status == SUCCEEDED
    assert [(c["FunctionName"], c["Qualifier"]) for c in lambda_.calls] == [
        (GET_TAGS, TARGET_VERSION)
    ]


def test_a_base64_body_is_decoded(codedeploy: MotoCodeDeploy, lambda_: LambdaDouble) -> None:
    deployment = codedeploy.deploy(GET_TAGS)
    lambda_.answer(http_answer(200, {"tags": []}, base64_body=True))

    result = run(Hook.BEFORE_ALLOW_TRAFFIC, codedeploy, lambda_.client, deployment)

    assert codedeploy.statuses == [SUCCEEDED], result.reason


# --- the version answers wrongly ------------------------------------------------------


@pytest.mark.parametrize("hook", HOOKS)
def test_a_500_is_reported_failed_once(
    hook: Hook, codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS)
    lambda_.answer(http_answer(500, {"errors": {"body": ["internal server error"]}}))

    result = run(hook, codedeploy, lambda_.client, deployment)

    assert codedeploy.reports == [report(deployment, FAILED)]
    assert "status 500, expected 200" in result.reason


@pytest.mark.parametrize("hook", HOOKS)
def test_a_function_error_is_reported_failed_once(
    hook: Hook, codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS)
    lambda_.answer(
        {"errorMessage": "No module named 'app.functions.tags'", "errorType": "ImportError"},
        function_error="Unhandled",
    )

    result = run(hook, codedeploy, lambda_.client, deployment)

    assert codedeploy.reports == [report(deployment, FAILED)]
    assert "function error Unhandled" in result.reason
    assert "ImportError" in result.reason


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("TooManyRequestsException", 429),
        ("ResourceNotFoundException", 404),
        ("ServiceException", 500),
    ],
)
def test_an_invoke_client_error_is_reported_failed_once(
    hook: Hook, code: str, status: int, codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS)
    lambda_.refuse(code, status)

    result = run(hook, codedeploy, lambda_.client, deployment)

    assert codedeploy.reports == [report(deployment, FAILED)]
    assert result.reason.startswith(
        f"GET /api/tags on {GET_TAGS}:{qualifier_for(hook)}: the invocation"
    )
    assert code in result.reason


MALFORMED: dict[str, Any] = {
    "payload not JSON": b"Task timed out after 28.00 seconds",
    "payload not an object": b"[1, 2]",
    "no statusCode": {"headers": {"content-type": "application/json"}, "body": '{"tags": []}'},
    "statusCode not an integer": {
        "statusCode": "200",
        "headers": {"content-type": "application/json"},
        "body": '{"tags": []}',
    },
    "no body": {"statusCode": 200, "headers": {"content-type": "application/json"}},
    "body not JSON": http_answer(200, "<html>oops</html>"),
    "body not base64": {**http_answer(200, {"tags": []}), "isBase64Encoded": True, "body": "%%"},
    "not a JSON content type": http_answer(200, {"tags": []}, content_type="text/html"),
    "no headers": {"statusCode": 200, "body": '{"tags": []}'},
    "tags missing": http_answer(200, {"tag": ["dragons"]}),
    "tags not a list": http_answer(200, {"tags": "dragons"}),
    "tags not strings": http_answer(200, {"tags": [1, 2]}),
}


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("payload", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_answer_is_reported_failed_once(
    hook: Hook, payload: Any, codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS)
    lambda_.answer(payload)

    result = run(hook, codedeploy, lambda_.client, deployment)

    assert codedeploy.reports == [report(deployment, FAILED)]
    assert result.reason.startswith(f"GET /api/tags on {GET_TAGS}:{qualifier_for(hook)}: ")


@pytest.mark.parametrize("hook", HOOKS)
def test_an_answer_from_another_version_is_reported_failed(
    hook: Hook, codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS)
    lambda_.answer(TAGS_OK, executed_version=CURRENT_VERSION)

    result = run(hook, codedeploy, lambda_.client, deployment)

    assert codedeploy.statuses == [FAILED]
    assert f"version '{CURRENT_VERSION}' answered, expected '{TARGET_VERSION}'" in result.reason


def test_the_first_failing_check_ends_the_run(
    codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(MONOLITH)
    lambda_.answer(http_answer(200, {"user": {}}))
    lambda_.answer(NOT_FOUND)

    result = run(Hook.BEFORE_ALLOW_TRAFFIC, codedeploy, lambda_.client, deployment)

    assert codedeploy.statuses == [FAILED]
    assert result.reason.startswith("login with an empty body on ")
    assert len(lambda_.calls) == 1


# --- the version does not answer ------------------------------------------------------


@pytest.mark.parametrize("hook", HOOKS)
def test_a_read_timeout_is_reported_failed_once(
    hook: Hook, codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS)
    lambda_.hang()

    result = run(hook, codedeploy, lambda_.client, deployment)

    assert codedeploy.reports == [report(deployment, FAILED)]
    assert result.reason.startswith(
        f"GET /api/tags on {GET_TAGS}:{qualifier_for(hook)}: the invocation"
    )
    assert "Read timeout" in result.reason


@pytest.fixture
def hung_endpoint() -> Iterator[tuple[str, list[socket.socket]]]:
    """An endpoint that accepts connections and never answers, like a hung invocation."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            accepted.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", accepted
    server.close()
    for connection in accepted:
        connection.close()


def test_a_hung_version_is_reported_failed_after_one_short_attempt(
    codedeploy: MotoCodeDeploy, hung_endpoint: tuple[str, list[socket.socket]]
) -> None:
    endpoint, accepted = hung_endpoint
    # The production client settings, with the read timeout cut short for the test.
    config = deploy_hooks.INVOKE_CONFIG.merge(Config(read_timeout=0.5))
    client = boto3.client("lambda", region_name=REGION, endpoint_url=endpoint, config=config)
    deployment = codedeploy.deploy(GET_TAGS)

    started = time.monotonic()
    result = run(Hook.BEFORE_ALLOW_TRAFFIC, codedeploy, client, deployment)
    elapsed = time.monotonic() - started

    assert codedeploy.reports == [report(deployment, FAILED)]
    assert result.reason.startswith(f"GET /api/tags on {GET_TAGS}:{TARGET_VERSION}: the invocation")
    assert "Read timeout" in result.reason
    assert len(accepted) == 1  # no retry
    assert elapsed < 5


def test_invocations_have_short_timeouts_and_no_retries(mocked_aws: None) -> None:
    deploy_hooks.lambda_client.cache_clear()
    try:
        config = deploy_hooks.lambda_client().meta.config
    finally:
        deploy_hooks.lambda_client.cache_clear()
    assert config.connect_timeout == deploy_hooks.INVOKE_CONNECT_TIMEOUT_SECONDS <= 5
    assert config.read_timeout == deploy_hooks.INVOKE_READ_TIMEOUT_SECONDS <= 20
    assert config.retries == {"mode": "standard", "total_max_attempts": 1}


@pytest.mark.parametrize("hook", HOOKS)
def test_no_check_starts_without_the_time_to_finish_and_report(
    hook: Hook, codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS)
    needed = deploy_hooks.CHECK_BUDGET_SECONDS + deploy_hooks.REPORT_RESERVE_SECONDS

    result = run(hook, codedeploy, lambda_.client, deployment, remaining=lambda: needed - 1)

    assert codedeploy.reports == [report(deployment, FAILED)]
    assert "out of time" in result.reason
    assert lambda_.calls == []


def test_a_check_runs_when_there_is_time(codedeploy: MotoCodeDeploy, lambda_: LambdaDouble) -> None:
    deployment = codedeploy.deploy(GET_TAGS)
    lambda_.answer(TAGS_OK)
    needed = deploy_hooks.CHECK_BUDGET_SECONDS + deploy_hooks.REPORT_RESERVE_SECONDS

    run(Hook.BEFORE_ALLOW_TRAFFIC, codedeploy, lambda_.client, deployment, remaining=lambda: needed)

    assert codedeploy.statuses == [SUCCEEDED]


# --- the deployment cannot be read ----------------------------------------------------


@pytest.mark.parametrize("hook", HOOKS)
def test_an_unknown_deployment_is_reported_failed_once(
    hook: Hook, codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    result = run(hook, codedeploy, lambda_.client, "d-DOESNOTEXIST")

    assert codedeploy.reports == [report("d-DOESNOTEXIST", FAILED)]
    assert "DeploymentDoesNotExistException" in result.reason
    assert lambda_.calls == []


@pytest.mark.parametrize("hook", HOOKS)
def test_an_unreachable_codedeploy_is_still_reported_failed_once(
    hook: Hook, codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS)

    def unreachable(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://codedeploy.eu-west-1.amazonaws.com")

    codedeploy.client.meta.events.register("before-call.codedeploy.GetDeployment", unreachable)

    result = run(hook, codedeploy, lambda_.client, deployment)

    assert codedeploy.reports == [report(deployment, FAILED)]
    assert "could not read deployment" in result.reason
    assert lambda_.calls == []


def _lambda_resource(**properties: Any) -> str:
    resource = {"fn": {"Type": "AWS::Lambda::Function", "Properties": properties}}
    return json.dumps({"version": 0.0, "Resources": [resource]})


BAD_APPSPECS = {
    "YAML": "version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n",
    "no Resources": '{"version": 0.0}',
    "no Lambda function": '{"version": 0.0, "Resources": [{"svc": {"Type": "AWS::ECS::Service"}}]}',
    "two Lambda functions": json.dumps(
        {
            "version": 0.0,
            "Resources": [json.loads(appspec(GET_TAGS))["Resources"][0]] * 2,
        }
    ),
    "no TargetVersion": _lambda_resource(Name=GET_TAGS, Alias=ALIAS, CurrentVersion="6"),
    "no Alias": _lambda_resource(Name=GET_TAGS, CurrentVersion="6", TargetVersion="7"),
}


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("content", BAD_APPSPECS.values(), ids=BAD_APPSPECS.keys())
def test_an_unreadable_appspec_is_reported_failed_once(
    hook: Hook, content: str, codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS, content=content)

    result = run(hook, codedeploy, lambda_.client, deployment)

    assert codedeploy.reports == [report(deployment, FAILED)]
    assert "AppSpec" in result.reason
    assert lambda_.calls == []


@pytest.mark.parametrize("hook", HOOKS)
def test_a_function_without_checks_is_reported_failed_once(
    hook: Hook, codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy("conduit-prod-exportArticles")

    result = run(hook, codedeploy, lambda_.client, deployment)

    assert codedeploy.reports == [report(deployment, FAILED)]
    assert "no smoke checks for function 'conduit-prod-exportArticles'" in result.reason
    assert lambda_.calls == []


def test_anything_unexpected_is_reported_failed_once(
    codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS)

    class Broken:
        def invoke(self, **_: Any) -> Any:
            raise RuntimeError("something nobody thought of")

    result = run(Hook.BEFORE_ALLOW_TRAFFIC, codedeploy, Broken(), deployment)

    assert codedeploy.reports == [report(deployment, FAILED)]
    assert result.reason == "unexpected error: RuntimeError: something nobody thought of"


# --- reporting --------------------------------------------------------------------------


def test_a_failed_report_fails_the_invocation_after_one_attempt(
    codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS)
    lambda_.answer(TAGS_OK)
    codedeploy.report_error = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "no"}},
        "PutLifecycleEventHookExecutionStatus",
    )

    with pytest.raises(ClientError, match="AccessDeniedException"):
        run(Hook.BEFORE_ALLOW_TRAFFIC, codedeploy, lambda_.client, deployment)

    assert codedeploy.statuses == [SUCCEEDED]


def test_a_report_codedeploy_already_has_is_not_an_error(
    codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS)
    lambda_.answer(TAGS_OK)
    codedeploy.report_error = ClientError(
        {"Error": {"Code": "LifecycleEventAlreadyCompletedException", "Message": "done"}},
        "PutLifecycleEventHookExecutionStatus",
    )

    result = run(Hook.BEFORE_ALLOW_TRAFFIC, codedeploy, lambda_.client, deployment)

    assert result.status == SUCCEEDED
    assert codedeploy.statuses == [SUCCEEDED]


@pytest.mark.parametrize(
    "event",
    [{}, {"DeploymentId": "d-1"}, {"LifecycleEventHookExecutionId": "e-1"}, None, "d-1"],
)
def test_an_event_without_ids_cannot_be_reported(
    event: Any, codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    with pytest.raises(ValueError, match="not a CodeDeploy lifecycle hook event"):
        run_hook(
            Hook.BEFORE_ALLOW_TRAFFIC,
            event,
            codedeploy=codedeploy.client,
            lambda_client=lambda_.client,
        )
    assert codedeploy.reports == []


# --- the Lambda handlers --------------------------------------------------------------


@dataclass
class FakeContext:
    remaining_ms: int = 90_000
    function_name: str = "conduit-prod-preTrafficHook"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = (
        "arn:aws:lambda:eu-west-1:123456789012:function:conduit-prod-preTrafficHook"
    )
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def wired(
    monkeypatch: pytest.MonkeyPatch, codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    monkeypatch.setattr(deploy_hooks, "codedeploy_client", lambda: codedeploy.client)
    monkeypatch.setattr(deploy_hooks, "lambda_client", lambda: lambda_.client)


@pytest.mark.usefixtures("wired")
@pytest.mark.parametrize(
    ("handler", "qualifier"),
    [(deploy_hooks.pre_traffic, TARGET_VERSION), (deploy_hooks.post_traffic, ALIAS)],
)
def test_the_handlers_report_once(
    handler: Any, qualifier: str, codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS)
    lambda_.answer(TAGS_OK)

    answer = handler(hook_event(deployment), FakeContext())

    assert codedeploy.reports == [report(deployment, SUCCEEDED)]
    assert answer["status"] == SUCCEEDED
    assert answer["qualifier"] == qualifier
    assert [c["Qualifier"] for c in lambda_.calls] == [qualifier]


@pytest.mark.usefixtures("wired")
def test_the_handler_uses_the_time_lambda_has_left(
    codedeploy: MotoCodeDeploy, lambda_: LambdaDouble
) -> None:
    deployment = codedeploy.deploy(GET_TAGS)

    answer = deploy_hooks.pre_traffic(hook_event(deployment), FakeContext(remaining_ms=5_000))

    assert codedeploy.reports == [report(deployment, FAILED)]
    assert "out of time" in answer["reason"]
    assert lambda_.calls == []


def test_the_appspec_double_matches_what_the_hook_reads() -> None:
    target = deploy_hooks.shift_target(
        {
            "revision": {
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": appspec(GET_TAGS)},
            }
        }
    )
    assert target == deploy_hooks.ShiftTarget(GET_TAGS, ALIAS, CURRENT_VERSION, TARGET_VERSION)


def test_the_hooks_cold_start_without_the_web_stack(repo_root: Any) -> None:
    """Only boto3, Powertools and the smoke registry: no Flask, Werkzeug, SQLAlchemy, legacy."""
    probe = (
        "import sys, app.deploy.hooks\n"
        "heavy = {'flask', 'werkzeug', 'sqlalchemy', 'legacy', 'jwt', 'argon2'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "AWS_DEFAULT_REGION": REGION},
    )
    assert done.stdout.strip() == "[]"
