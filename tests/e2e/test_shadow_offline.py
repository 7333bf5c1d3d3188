"""The shadow step for real, under serverless-offline (stage `local`, as `make offline`):
reads of each shadowed route are answered by the monolith's code and compared, through
an asynchronous invoke on the offline Lambda port, with the new code's answers.

Run twice: with the new handler as it is (every read compared, no mismatch), and in a
throwaway copy of the service whose shadow is deliberately wrong (every read a mismatch,
logged with its JSON paths and nothing secret; the switch gate then refuses)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest

from app.deploy.gate import GateSettings, check_record, shadow_record
from app.deploy.hooks import FAILED, Hook, run_hook
from app.deploy.registry import Function, load_registry
from tests.support.aws import REGION
from tests.support.codedeploy import LambdaDouble, MotoCodeDeploy, hook_event
from tests.support.servers import REPO, free_port, serving

pytestmark = pytest.mark.e2e

BIN = REPO / ".venv" / "bin"
SHADOWED = load_registry().shadowed
PASSWORD = "shadow-password-1"
# What the copy of the service runs as its shadow: every string in the answer reversed.
WRONG_SHADOW = '''"""A deliberately wrong new handler: the real one, with every string reversed."""

import importlib
import json

real = importlib.import_module("{module}").handler


def flip(value):
    if isinstance(value, str):
        return value[::-1]
    if isinstance(value, list):
        return [flip(item) for item in value]
    if isinstance(value, dict):
        return {{key: flip(item) for key, item in value.items()}}
    return value


def handler(event, context):
    answer = dict(real(event, context))
    answer["body"] = json.dumps(flip(json.loads(answer["body"])))
    return answer
'''


def call(url: str, *, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["authorization"] = token
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def lines(log: Path, message: str) -> list[dict[str, Any]]:
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if message in line and line.lstrip().startswith("{"):
            found.append(json.loads(line))
    return found


def comparisons(log: Path) -> list[dict[str, Any]]:
    return [m for m in lines(log, '"ShadowComparisons"') if "_aws" in m]


def wait_for(log: Path, count: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while len(comparisons(log)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(comparisons(log))} comparisons logged, expected {count}")
        time.sleep(0.2)


def copy_service(into: Path, shadowed: Function) -> Path:
    """The service, as scripts/package-stage.sh copies it, with a wrong shadow."""
    into.mkdir()
    for path in (
        "serverless.yml",
        "package.json",
        "alembic.ini",
        "app",
        "legacy",
        "migrations",
        "scripts",
    ):
        source = REPO / path
        if source.is_dir():
            shutil.copytree(source, into / path, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, into / path)
    (into / "node_modules").symlink_to(REPO / "node_modules")
    (into / ".venv").symlink_to(REPO / ".venv")
    (into / "app" / "functions" / "wrong_shadow.py").write_text(
        WRONG_SHADOW.format(module=shadowed.shadow_module)
    )
    config = into / "serverless.yml"
    text = config.read_text()
    line = f"    shadow: {shadowed.entry['shadow']}\n"
    assert line in text
    config.write_text(text.replace(line, "    shadow: app/functions/wrong_shadow.handler\n"))
    return into


def drive(root: Path, database_url: str, log: Path, shadowed: Function) -> dict[str, Any]:
    """Serve `root` offline, send reads to the shadowed route, wait for every comparison."""
    env = {
        "APP_ENV": "local",
        "DATABASE_URL": database_url,
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    subprocess.run(
        [str(BIN / "alembic"), "upgrade", "head"],
        cwd=root, env={**os.environ, **env}, check=True, capture_output=True,
    )  # fmt: skip
    port, lambda_port = free_port(), free_port()
    command = [
        "npx", "--no-install", "sls", "offline", "start", "--stage", "local",
        "--host", "127.0.0.1", "--httpPort", str(port), "--lambdaPort", str(lambda_port),
    ]  # fmt: skip
    path = shadowed.route.path
    with serving(command, port=port, env=env, log=log, timeout=120, cwd=root) as api:
        name = f"shadow{int(time.time() * 1000)}"
        status, registered = call(
            f"{api}/users",
            body={"user": {"username": name, "email": f"{name}@example.com", "password": PASSWORD}},
        )
        assert status == 201, registered
        user = registered["user"]
        auths = [f"Token {user['token']}"] * 8 + [None, None, "Token not.a.jwt"]
        answers = []
        for sent, auth in enumerate(auths, start=1):
            answers.append((auth, *call(f"http://127.0.0.1:{port}{path}", token=auth)))
            # One comparison at a time: offline starts a process per concurrent invoke.
            wait_for(log, sent)
    return {"user": user, "answers": answers, "sent": len(auths)}


def assert_monolith_answers(run: dict[str, Any]) -> None:
    for auth, status, body in run["answers"]:
        if auth == f"Token {run['user']['token']}":
            assert (status, body) == (200, {"user": run["user"]})
        else:
            assert status == 401 and body["errors"]["body"], body


def gate_metrics(cloudwatch: Any, log: Path) -> None:
    """What CloudWatch makes of the comparator's embedded-metric lines."""
    for line in comparisons(log):
        [directive] = line["_aws"]["CloudWatchMetrics"]
        dimensions = [{"Name": name, "Value": line[name]} for name in directive["Dimensions"][0]]
        cloudwatch.put_metric_data(
            Namespace=directive["Namespace"],
            MetricData=[
                {
                    "MetricName": m["Name"],
                    "Dimensions": dimensions,
                    "Value": line[m["Name"]],
                    "Unit": "Count",
                }
                for m in directive["Metrics"]
            ],
        )


@pytest.fixture
def cloudwatch(mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto's CloudWatch, and the hooks' manifest."""
    monkeypatch.setenv("DEDICATED_FUNCTIONS", json.dumps(load_registry().manifest()))
    return boto3.client("cloudwatch", region_name=REGION)


@pytest.mark.parametrize("shadowed", SHADOWED, ids=[f.name for f in SHADOWED])
def test_the_shadow_compares_every_read_and_finds_no_mismatch(
    shadowed: Function, backend: str, fresh_database_url: Any, tmp_path: Path, cloudwatch: Any
) -> None:
    log = tmp_path / "offline.log"
    run = drive(REPO, fresh_database_url(backend), log, shadowed)
    assert_monolith_answers(run)
    found = comparisons(log)
    assert len(found) == run["sent"]
    assert {m["route"] for m in found} == {shadowed.route.key}
    assert sum(m["ShadowMismatches"] for m in found) == 0
    assert lines(log, '"shadow mismatch"') == []
    print(f"offline shadow [{backend}]: {len(found)} comparisons, 0 mismatches")
    gate_metrics(cloudwatch, log)
    settings = GateSettings("Conduit", 60, min_comparisons=run["sent"], without_shadow=False)
    record = shadow_record(cloudwatch, settings, shadowed.route.key)
    assert (record.compared, record.mismatched) == (run["sent"], 0)
    check_record(record, settings, shadowed.route.key)  # the gate lets it through


@pytest.mark.parametrize("shadowed", SHADOWED, ids=[f.name for f in SHADOWED])
def test_a_wrong_shadow_shows_as_mismatches_and_the_gate_refuses_the_switch(
    shadowed: Function, backend: str, fresh_database_url: Any, tmp_path: Path, cloudwatch: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    root = copy_service(tmp_path / "service", shadowed)
    log = tmp_path / "offline.log"
    run = drive(root, fresh_database_url(backend), log, shadowed)
    assert_monolith_answers(run)  # clients never see the shadow's answers

    mismatches = lines(log, '"shadow mismatch"')
    assert len(mismatches) == run["sent"] == len(comparisons(log))
    paths = {path for line in mismatches for path in line["paths"]}
    assert {"$.user.email", "$.user.token", "$.user.username", "$.errors.body[0]"} <= paths
    text = log.read_text(errors="replace")
    user = run["user"]
    for secret in (
        user["token"],
        user["token"][::-1],
        user["email"],
        user["email"][::-1],
        PASSWORD,
    ):
        assert secret not in text
    print(f"offline wrong shadow [{backend}]: {len(mismatches)} mismatches, paths {sorted(paths)}")

    gate_metrics(cloudwatch, log)
    monkeypatch.setenv(
        "SHADOW_GATE",
        json.dumps(
            {
                "namespace": "Conduit",
                "windowMinutes": 60,
                "minComparisons": 1,
                "withoutShadow": False,
            }
        ),
    )
    codedeploy, lambda_ = MotoCodeDeploy(), LambdaDouble()
    lambda_.configuration("wsgi_handler.handler")
    lambda_.configuration(shadowed.entry["shadow"])
    # The switch: the same entry, its handler now the new module.
    manifest = load_registry().manifest()
    manifest[shadowed.name]["code"] = "new"
    monkeypatch.setenv("DEDICATED_FUNCTIONS", json.dumps(manifest))
    result = run_hook(
        Hook.BEFORE_ALLOW_TRAFFIC,
        hook_event(codedeploy.deploy(f"conduit-prod-{shadowed.name}")),
        codedeploy=codedeploy.client,
        lambda_client=lambda_.client,
        cloudwatch=cloudwatch,
    )
    print(f"gate: {result.status}: {result.reason}")
    assert result.status == FAILED
    assert shadowed.route.key in result.reason
    assert f"{run['sent']} mismatch(es)" in result.reason
    assert codedeploy.statuses == [FAILED]
