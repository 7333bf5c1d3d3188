"""Schemathesis against the monolith (`flask run`, a fresh SQLite database): every
operation of the RealWorld spec (as amended in tests/fuzz/spec.py), with a registered
user's token, on two workers at once, for a bounded time.

It fails on any 5xx, on any answer that does not match the spec (status code, content
type, headers, body schema), and on any request that gets no answer in time.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.servers import REPO, free_port, serving
from tests.fuzz.spec import DEVIATIONS, amended_spec

pytestmark = pytest.mark.e2e

BIN = REPO / ".venv" / "bin"
WORKERS = 2
FUZZ_SECONDS = 45
REQUEST_TIMEOUT_SECONDS = 10
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
]


def _register(api: str) -> str:
    user = {"user": {"username": "fuzz", "email": "fuzz@example.com", "password": "password123"}}
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{api}/users",
        data=json.dumps(user).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return str(json.loads(response.read())["user"]["token"])


def test_every_operation_of_the_spec_holds_under_fuzzing(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(amended_spec()), encoding="utf-8")
    env = {"APP_ENV": "local", "DATABASE_URL": f"sqlite:///{tmp_path / 'conduit.db'}"}
    subprocess.run(
        [str(BIN / "alembic"), "upgrade", "head"],
        cwd=REPO,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = [str(BIN / "flask"), "--app", "legacy.wsgi", "run", "--host", "127.0.0.1",
              "--port", str(port)]  # fmt: skip
    report = tmp_path / "schemathesis.json"
    with serving(server, port=port, env=env, log=tmp_path / "flask.log") as api:
        token = _register(api)
        command = [
            str(BIN / "st"), "run", str(spec), "--url", api,
            "--header", f"Authorization: Token {token}",
            "--workers", str(WORKERS),
            "--max-time", str(FUZZ_SECONDS),
            "--request-timeout", str(REQUEST_TIMEOUT_SECONDS),
            "--checks", ",".join(CHECKS),
            "--report", "json", "--report-json-path", str(report),
        ]  # fmt: skip
        run = subprocess.run(
            command,
            cwd=tmp_path,
            env={**os.environ, "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=FUZZ_SECONDS + 120,
            check=False,
        )

    result: dict[str, Any] = json.loads(report.read_text())
    failures = {f"{f['code']} {f['title']}": f["count"] for f in result["failures"]}
    print(
        f"\nschemathesis {result['schemathesis_version']} (seed {result['seed']}), "
        f"{WORKERS} workers, {result['running_time']:.0f} s: "
        f"{result['operations']['tested']}/{result['operations']['total']} operations, "
        f"{result['test_cases']['generated']} test cases, failures {failures or 'none'}, "
        f"errors {len(result['errors'])}; {len(DEVIATIONS)} recorded spec deviations"
    )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert result["operations"]["tested"] == result["operations"]["total"] == 19
    assert result["errors"] == [] and failures == {}
