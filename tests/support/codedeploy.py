"""Test doubles for the CodeDeploy hooks: real botocore clients, answers scripted.

- CodeDeploy: moto serves GetDeployment (it stores the revision as given). moto 5.2.5 has
  no PutLifecycleEventHookExecutionStatus, so `MotoCodeDeploy` answers that one operation
  itself, at botocore's `before-call` event, after botocore has validated and serialised
  the call, and records what went on the wire.
- Lambda: moto cannot run a function without Docker, so `LambdaDouble` answers Invoke (and
  GetFunctionConfiguration, for the switch gate) with botocore's Stubber and records every
  Invoke's parameters.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from app.deploy import hooks as deploy_hooks
from tests.support.aws import REGION

ACCOUNT = "123456789012"
APPLICATION = "conduit-prod-ConduitprodDeploymentApplication-ABC123"
CURRENT_VERSION = "6"
TARGET_VERSION = "7"
ALIAS = "Live"
EXECUTION_ID = "hook-execution-0001"


def appspec(
    function: str,
    *,
    alias: str = ALIAS,
    current: str = CURRENT_VERSION,
    target: str = TARGET_VERSION,
) -> str:
    """AppSpec content as CloudFormation writes it for a Lambda alias update."""
    return json.dumps(
        {
            "version": 0.0,
            "Resources": [
                {
                    f"{function}Alias": {
                        "Type": "AWS::Lambda::Function",
                        "Properties": {
                            "Name": function,
                            "Alias": alias,
                            "CurrentVersion": current,
                            "TargetVersion": target,
                        },
                    }
                }
            ],
        }
    )


def revision(content: str, *, shape: str = "AppSpecContent") -> dict[str, Any]:
    """A deployment revision in the current (`appSpecContent`) or legacy (`string`) shape."""
    if shape == "AppSpecContent":
        return {"revisionType": "AppSpecContent", "appSpecContent": {"content": content}}
    if shape == "String":
        return {"revisionType": "String", "string": {"content": content}}
    raise ValueError(shape)


def hook_event(deployment_id: str) -> dict[str, str]:
    return {"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": EXECUTION_ID}


class MotoCodeDeploy:
    """A moto-backed CodeDeploy client that also takes lifecycle hook reports."""

    def __init__(self) -> None:
        self.client = boto3.client(
            "codedeploy", region_name=REGION, config=deploy_hooks.CODEDEPLOY_CONFIG
        )
        self.reports: list[dict[str, Any]] = []
        self.report_error: Exception | None = None
        self.client.create_application(applicationName=APPLICATION, computePlatform="Lambda")
        self.client.meta.events.register(
            "before-call.codedeploy.PutLifecycleEventHookExecutionStatus", self._put
        )

    def _put(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        self.reports.append(json.loads(params["body"]))
        if self.report_error is not None:
            raise self.report_error
        sent = self.reports[-1]
        return AWSResponse(None, 200, {}, None), {
            "lifecycleEventHookExecutionId": sent["lifecycleEventHookExecutionId"]
        }

    def deploy(
        self, function: str, *, content: str | None = None, shape: str = "AppSpecContent"
    ) -> str:
        group = f"{function}-DeploymentGroup"
        self.client.create_deployment_group(
            applicationName=APPLICATION,
            deploymentGroupName=group,
            serviceRoleArn=f"arn:aws:iam::{ACCOUNT}:role/codedeploy",
            deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent5Minutes",
            deploymentStyle={
                "deploymentType": "BLUE_GREEN",
                "deploymentOption": "WITH_TRAFFIC_CONTROL",
            },
        )
        answer = self.client.create_deployment(
            applicationName=APPLICATION,
            deploymentGroupName=group,
            revision=revision(appspec(function) if content is None else content, shape=shape),
        )
        return str(answer["deploymentId"])

    @property
    def statuses(self) -> list[str]:
        return [report["status"] for report in self.reports]


def http_answer(
    status: int,
    body: Any,
    *,
    content_type: str = "application/json; charset=utf-8",
    base64_body: bool = False,
) -> dict[str, Any]:
    """A function's HTTP API (2.0) answer, as serverless-wsgi or Powertools return it."""
    text = body if isinstance(body, str) else json.dumps(body)
    if base64_body:
        text = base64.b64encode(text.encode()).decode()
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_type},
        "body": text,
        "isBase64Encoded": base64_body,
    }


class LambdaDouble:
    """A Lambda client whose Invoke answers are scripted (Stubber), calls recorded."""

    def __init__(self) -> None:
        self.client = boto3.client("lambda", region_name=REGION, config=deploy_hooks.INVOKE_CONFIG)
        self.calls: list[dict[str, Any]] = []
        self.client.meta.events.register("before-parameter-build.lambda.Invoke", self._record)
        self.stubber = Stubber(self.client)
        self.stubber.activate()

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.calls.append(dict(params))

    def answer(
        self,
        payload: dict[str, Any] | bytes,
        *,
        executed_version: str = TARGET_VERSION,
        function_error: str | None = None,
    ) -> None:
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        response: dict[str, Any] = {
            "StatusCode": 200,
            "ExecutedVersion": executed_version,
            "Payload": StreamingBody(io.BytesIO(raw), len(raw)),
        }
        if function_error is not None:
            response["FunctionError"] = function_error
        self.stubber.add_response(
            "invoke",
            response,
            {
                "FunctionName": ANY,
                "Qualifier": ANY,
                "InvocationType": "RequestResponse",
                "Payload": ANY,
            },
        )

    def configuration(self, handler: str) -> None:
        """The next GetFunctionConfiguration answers that the version runs `handler`."""
        self.stubber.add_response(
            "get_function_configuration",
            {"Handler": handler},
            {"FunctionName": ANY, "Qualifier": ANY},
        )

    def refuse(self, code: str = "TooManyRequestsException", status: int = 429) -> None:
        self.stubber.add_client_error(
            "invoke", service_error_code=code, service_message="refused", http_status_code=status
        )

    def hang(self) -> None:
        """Every Invoke times out reading the answer, as a hung version does."""
        self.stubber.deactivate()

        def read_timeout(**_: Any) -> None:
            raise ReadTimeoutError(endpoint_url="https://lambda.eu-west-1.amazonaws.com")

        self.client.meta.events.register("before-call.lambda.Invoke", read_timeout)

    @property
    def events(self) -> list[dict[str, Any]]:
        """The HTTP events sent, decoded."""
        return [json.loads(call["Payload"]) for call in self.calls]
