"""Lambdas `preTrafficHook` and `postTrafficHook`: CodeDeploy lifecycle hooks for `Live`.

When a function gets a new version, CodeDeploy shifts its `Live` alias to it (canary or
linear, serverless-plugin-canary-deployments) and calls these hooks with
`{"DeploymentId": ..., "LifecycleEventHookExecutionId": ...}`:

- `pre_traffic` (BeforeAllowTraffic), before any traffic moves: smoke-tests the new
  version itself, invoked by version number (the AppSpec's TargetVersion);
- `post_traffic` (AfterAllowTraffic), once all traffic has moved: smoke-tests the alias.

At a switch (the current version runs the monolith's code, the target a handler of its
own), `pre_traffic` also applies the switch gate (app/deploy/gate.py): the route's shadow
record over the stage's window, and parity of both versions on requests built from live
data. A refusal reports Failed naming the route and what was found.

The deployment's AppSpec (codedeploy GetDeployment) names the function, its alias and
both versions; the function's smoke checks come from app/deploy/smoke.py. Each hook
reports Succeeded or Failed exactly once per invocation, whatever happens: an unknown
function, an unreadable deployment, a failing, hung or malformed answer, or any other
error all report Failed, and CodeDeploy rolls the alias back. Invocations of the version
have short timeouts and no retries, and no check starts without the time to finish it
and still report, so the hook reports before its own Lambda timeout.

The logic takes its clients as arguments (`run_hook`); the handlers only wire the
process-wide clients in.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.deploy.gate import (
    GateSettings,
    SwitchRefused,
    check_parity,
    check_record,
    invoker,
    is_switch,
    shadow_record,
)
from app.deploy.smoke import (
    SmokeCheck,
    checks_for,
    function_name_of,
    manifest_from_env,
    stamped,
)
from app.platform.observability import logger

SUCCEEDED = "Succeeded"
FAILED = "Failed"


class Hook(StrEnum):
    BEFORE_ALLOW_TRAFFIC = "BeforeAllowTraffic"
    AFTER_ALLOW_TRAFFIC = "AfterAllowTraffic"


# One smoke request to the version under test: a version that does not answer within
# this fails the check; it is never retried.
INVOKE_CONNECT_TIMEOUT_SECONDS = 3
INVOKE_READ_TIMEOUT_SECONDS = 15
INVOKE_CONFIG = Config(
    connect_timeout=INVOKE_CONNECT_TIMEOUT_SECONDS,
    read_timeout=INVOKE_READ_TIMEOUT_SECONDS,
    retries={"mode": "standard", "total_max_attempts": 1},
)

# CodeDeploy calls: the report must get through, so one retry, but a bounded one.
CODEDEPLOY_CONNECT_TIMEOUT_SECONDS = 3
CODEDEPLOY_READ_TIMEOUT_SECONDS = 5
CODEDEPLOY_MAX_ATTEMPTS = 2
CODEDEPLOY_CONFIG = Config(
    connect_timeout=CODEDEPLOY_CONNECT_TIMEOUT_SECONDS,
    read_timeout=CODEDEPLOY_READ_TIMEOUT_SECONDS,
    retries={"mode": "standard", "total_max_attempts": CODEDEPLOY_MAX_ATTEMPTS},
)

# The longest one check can take, and the time always kept back for the report.
CHECK_BUDGET_SECONDS = INVOKE_CONNECT_TIMEOUT_SECONDS + INVOKE_READ_TIMEOUT_SECONDS + 1
REPORT_RESERVE_SECONDS = (
    CODEDEPLOY_MAX_ATTEMPTS * (CODEDEPLOY_CONNECT_TIMEOUT_SECONDS + CODEDEPLOY_READ_TIMEOUT_SECONDS)
    + 2
)

_EXCERPT_CHARS = 300


class HookFailed(Exception):
    """The deployment must not go on; the message says why."""


@dataclass(frozen=True)
class ShiftTarget:
    """What a Lambda deployment shifts: from the AppSpec's one AWS::Lambda::Function."""

    function_name: str
    alias: str
    current_version: str
    target_version: str


@dataclass(frozen=True)
class HookResult:
    status: str
    reason: str
    function: str | None = None
    qualifier: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- the deployment -------------------------------------------------------------------


def _appspec_content(revision: Mapping[str, Any]) -> str:
    """The AppSpec text of a revision: `appSpecContent`, or the older `string` shape."""
    kind = revision.get("revisionType")
    if kind == "AppSpecContent":
        holders = [revision.get("appSpecContent")]
    elif kind == "String":
        holders = [revision.get("string")]
    else:
        holders = [revision.get("appSpecContent"), revision.get("string")]
    for holder in holders:
        if isinstance(holder, Mapping) and isinstance(holder.get("content"), str):
            return str(holder["content"])
    raise HookFailed(f"the deployment's revision (revisionType {kind!r}) has no AppSpec content")


def _text(properties: Mapping[str, Any], key: str) -> str:
    value = properties.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value) == "":
        raise HookFailed(f"the AppSpec's Lambda function has no {key}")
    return str(value)


def shift_target(deployment_info: Mapping[str, Any]) -> ShiftTarget:
    """The function, alias and versions from GetDeployment's `deploymentInfo`.

    AppSpec (JSON; CloudFormation writes it for CodeDeployLambdaAliasUpdate):
    {"version": 0.0, "Resources": [{"<name>": {"Type": "AWS::Lambda::Function",
     "Properties": {"Name", "Alias", "CurrentVersion", "TargetVersion"}}}], ...}
    """
    revision = deployment_info.get("revision")
    if not isinstance(revision, Mapping):
        raise HookFailed("the deployment has no revision")
    content = _appspec_content(revision)
    try:
        appspec = json.loads(content)
    except ValueError:
        raise HookFailed(
            "the AppSpec content is not JSON (YAML AppSpecs are not supported)"
        ) from None
    resources = appspec.get("Resources") if isinstance(appspec, Mapping) else None
    if not isinstance(resources, list):
        raise HookFailed("the AppSpec has no Resources list")
    functions = [
        spec.get("Properties")
        for entry in resources
        if isinstance(entry, Mapping)
        for spec in entry.values()
        if isinstance(spec, Mapping) and spec.get("Type") == "AWS::Lambda::Function"
    ]
    if len(functions) != 1 or not isinstance(functions[0], Mapping):
        raise HookFailed(
            f"expected one AWS::Lambda::Function in the AppSpec's Resources, found {len(functions)}"
        )
    properties = functions[0]
    return ShiftTarget(
        function_name=_text(properties, "Name"),
        alias=_text(properties, "Alias"),
        current_version=_text(properties, "CurrentVersion"),
        target_version=_text(properties, "TargetVersion"),
    )


def deployment_target(codedeploy: Any, deployment_id: str) -> ShiftTarget:
    try:
        answer = codedeploy.get_deployment(deploymentId=deployment_id)
    except (ClientError, BotoCoreError) as error:
        raise HookFailed(f"could not read deployment {deployment_id}: {error}") from error
    info = answer.get("deploymentInfo")
    if not isinstance(info, Mapping):
        raise HookFailed(f"deployment {deployment_id} came back without deploymentInfo")
    return shift_target(info)


# --- one smoke check ------------------------------------------------------------------


def _excerpt(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "..."


def response_problem(raw: bytes, check: SmokeCheck) -> str | None:
    """What is wrong with a function's HTTP API (2.0) answer to `check`, or None."""
    try:
        result = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return f"the payload is not JSON: {_excerpt(raw)!r}"
    if not isinstance(result, Mapping):
        return f"the payload is not a JSON object: {_excerpt(raw)!r}"
    status = result.get("statusCode")
    if isinstance(status, bool) or not isinstance(status, int):
        return f"the payload has no integer statusCode: {_excerpt(raw)!r}"
    body = result.get("body")
    if status not in check.statuses:
        expected = " or ".join(map(str, check.statuses))
        return f"status {status}, expected {expected}: {_excerpt(str(body))!r}"
    headers = result.get("headers")
    content_type = (
        {str(key).lower(): value for key, value in headers.items()}.get("content-type")
        if isinstance(headers, Mapping)
        else None
    )
    if not isinstance(content_type, str) or not content_type.lower().startswith("application/json"):
        return f"content-type {content_type!r}, expected application/json"
    if not isinstance(body, str):
        return "the payload has no string body"
    if result.get("isBase64Encoded") is True:
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return "the body is marked base64 but does not decode to UTF-8 text"
    try:
        parsed = json.loads(body)
    except ValueError:
        return f"the body is not JSON: {_excerpt(body)!r}"
    return check.shape(parsed)


def run_check(
    lambda_client: Any,
    function_name: str,
    qualifier: str,
    expected_version: str,
    check: SmokeCheck,
) -> None:
    """Invoke `function_name:qualifier` with the check's request; HookFailed if it fails."""
    where = f"{check.name} on {function_name}:{qualifier}"
    try:
        response = lambda_client.invoke(
            FunctionName=function_name,
            Qualifier=qualifier,
            InvocationType="RequestResponse",
            Payload=json.dumps(stamped(check.event)).encode(),
        )
        raw = response["Payload"].read()
    except (ClientError, BotoCoreError) as error:
        raise HookFailed(f"{where}: the invocation failed: {error}") from error
    function_error = response.get("FunctionError")
    if function_error:
        raise HookFailed(f"{where}: function error {function_error}: {_excerpt(raw)!r}")
    if response.get("StatusCode") != 200:
        raise HookFailed(f"{where}: invoke status {response.get('StatusCode')}, expected 200")
    executed = response.get("ExecutedVersion")
    if executed != expected_version:
        raise HookFailed(f"{where}: version {executed!r} answered, expected {expected_version!r}")
    problem = response_problem(raw, check)
    if problem is not None:
        raise HookFailed(f"{where}: {problem}")
    logger.info("smoke check passed", check=check.name, function=function_name, qualifier=qualifier)


# --- the hook -------------------------------------------------------------------------


def _verdict(
    hook: Hook,
    deployment_id: str,
    *,
    codedeploy: Any,
    lambda_client: Any,
    cloudwatch: Any,
    remaining: Callable[[], float] | None,
) -> HookResult:
    target = deployment_target(codedeploy, deployment_id)
    found = checks_for(target.function_name, manifest_from_env())
    qualifier = target.target_version if hook is Hook.BEFORE_ALLOW_TRAFFIC else target.alias
    if found is None or not found[1]:
        raise HookFailed(
            f"no smoke checks for function {function_name_of(target.function_name)!r}: "
            "give its entry in serverless.yml a `smoke:` check"
        )
    logical, checks = found
    logger.info(
        "smoke testing",
        hook=hook.value,
        function=target.function_name,
        logical_name=logical,
        qualifier=qualifier,
        current_version=target.current_version,
        target_version=target.target_version,
    )

    def has_time() -> bool:
        return remaining is None or remaining() >= CHECK_BUDGET_SECONDS + REPORT_RESERVE_SECONDS

    entry = manifest_from_env().get(logical) or {}
    switch = (
        hook is Hook.BEFORE_ALLOW_TRAFFIC
        and entry.get("code") == "new"
        and _is_switch(lambda_client, target)
    )
    routes = entry.get("routes") or []
    if switch:
        if cloudwatch is None:
            raise HookFailed("a switch needs the shadow record, and no CloudWatch client was given")
        try:
            settings = GateSettings.from_env()
            for route in routes:
                record = shadow_record(cloudwatch, settings, route)
                check_record(record, settings, route)
                logger.info("shadow record holds", route=route, compared=record.compared)
        except SwitchRefused as refusal:
            raise HookFailed(f"switch refused: {refusal}") from None
    for check in checks:
        if not has_time():
            raise HookFailed(f"out of time before {check.name!r}: raise the hook's timeout")
        run_check(lambda_client, target.function_name, qualifier, target.target_version, check)
    reason = f"{len(checks)} smoke check(s) passed"
    if switch:
        invoke = invoker(lambda_client, target.function_name)
        try:
            compared = sum(
                check_parity(invoke, route, target.current_version, target.target_version, has_time)
                for route in routes
            )
        except SwitchRefused as refusal:
            raise HookFailed(f"switch refused: {refusal}") from None
        reason += f"; switch: shadow record holds, {compared} live request(s) answered alike"
    return HookResult(SUCCEEDED, reason, function=target.function_name, qualifier=qualifier)


def _is_switch(lambda_client: Any, target: ShiftTarget) -> bool:
    try:
        return is_switch(
            lambda_client, target.function_name, target.current_version, target.target_version
        )
    except SwitchRefused as refusal:
        raise HookFailed(str(refusal)) from None


def report(codedeploy: Any, deployment_id: str, execution_id: str, status: str) -> None:
    """PutLifecycleEventHookExecutionStatus, once.

    A failed report is raised: the invocation fails and Lambda's asynchronous retry runs
    the hook again. A report CodeDeploy already has (an earlier attempt got through) is
    not an error.
    """
    try:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id,
            lifecycleEventHookExecutionId=execution_id,
            status=status,
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "LifecycleEventAlreadyCompletedException":
            logger.warning("lifecycle event already completed", deployment_id=deployment_id)
            return
        logger.exception("could not report to CodeDeploy", deployment_id=deployment_id)
        raise
    except BotoCoreError:
        logger.exception("could not report to CodeDeploy", deployment_id=deployment_id)
        raise


def run_hook(
    hook: Hook,
    event: Any,
    *,
    codedeploy: Any,
    lambda_client: Any,
    cloudwatch: Any = None,
    remaining: Callable[[], float] | None = None,
) -> HookResult:
    """Smoke-test what the deployment in `event` shifts and report the verdict once.

    `remaining` gives the seconds left before the hook's own timeout; `cloudwatch` reads
    the shadow record at a switch (a switch without it is refused).
    """
    ids = event if isinstance(event, Mapping) else {}
    deployment_id, execution_id = ids.get("DeploymentId"), ids.get("LifecycleEventHookExecutionId")
    if not (isinstance(deployment_id, str) and deployment_id):
        raise ValueError("not a CodeDeploy lifecycle hook event: no DeploymentId")
    if not (isinstance(execution_id, str) and execution_id):
        raise ValueError("not a CodeDeploy lifecycle hook event: no LifecycleEventHookExecutionId")
    logger.append_keys(deployment_id=deployment_id, hook=hook.value)
    try:
        result = _verdict(
            hook,
            deployment_id,
            codedeploy=codedeploy,
            lambda_client=lambda_client,
            cloudwatch=cloudwatch,
            remaining=remaining,
        )
    except HookFailed as failure:
        result = HookResult(FAILED, str(failure))
    except Exception as error:
        # Whatever went wrong, the deployment must not go on untested.
        logger.exception("unexpected error in the hook")
        result = HookResult(FAILED, f"unexpected error: {type(error).__name__}: {error}")
    if result.status == SUCCEEDED:
        logger.info("hook succeeded", **result.as_dict())
    else:
        logger.error("hook failed", **result.as_dict())
    report(codedeploy, deployment_id, execution_id, result.status)
    return result


# --- Lambda handlers ------------------------------------------------------------------


@functools.cache
def codedeploy_client() -> Any:
    return boto3.client("codedeploy", config=CODEDEPLOY_CONFIG)


@functools.cache
def cloudwatch_client() -> Any:
    return boto3.client("cloudwatch", config=CODEDEPLOY_CONFIG)


@functools.cache
def lambda_client() -> Any:
    return boto3.client("lambda", config=INVOKE_CONFIG)


def _remaining_seconds(context: Any) -> Callable[[], float] | None:
    millis = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(millis):
        return None
    return lambda: float(millis()) / 1000


def _handle(hook: Hook, event: Any, context: Any) -> dict[str, Any]:
    return run_hook(
        hook,
        event,
        codedeploy=codedeploy_client(),
        lambda_client=lambda_client(),
        cloudwatch=cloudwatch_client(),
        remaining=_remaining_seconds(context),
    ).as_dict()


@logger.inject_lambda_context(log_event=True, clear_state=True)
def pre_traffic(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _handle(Hook.BEFORE_ALLOW_TRAFFIC, event, context)


@logger.inject_lambda_context(log_event=True, clear_state=True)
def post_traffic(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _handle(Hook.AFTER_ALLOW_TRAFFIC, event, context)
