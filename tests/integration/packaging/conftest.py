"""Package the deployed stages once per test session (offline, no credentials) and
lint them; the template tests read the packaged CloudFormation."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from tests.support.servers import REPO
from tests.support.templates import IacCheck

STAGES = ("dev", "staging", "prod")


@pytest.fixture(scope="session")
def iac_check() -> IacCheck:
    """scripts/iac-check.sh: `sls package` per stage, then cfn-lint and checkov on each."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "iac-check.sh")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return IacCheck(result.returncode, result.stdout + result.stderr)


@pytest.fixture(scope="session", params=STAGES)
def stage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def template(iac_check: IacCheck, stage: str) -> dict[str, Any]:
    path = REPO / f".serverless-{stage}" / "cloudformation-template-update-stack.json"
    assert path.exists(), f"{stage} was not packaged:\n{iac_check.output[-3000:]}"
    return json.loads(path.read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]  # type: ignore[no-any-return]
