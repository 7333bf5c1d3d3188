"""Schemathesis against `make run`'s server (the monolith, with the routes retired from it
served by their functions: scripts/local_api.py) on a fresh SQLite database: every
operation of the RealWorld spec (as amended in tests/support/fuzz_spec.py), with a registered
user's token, from two concurrent runs, for a bounded time.

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

from tests.support.fuzz_spec import DEVIATIONS, amended_spec
from tests.support.servers import REPO, serving_make_run

pytestmark = pytest.mark.e2e

BIN = REPO / ".venv" / "bin"
# Concurrent schemathesis runs, each over every operation, against the one server.
# Processes rather than `--workers` threads: Python 3.11's ast.parse is not safe to call
# from two threads at once, and Hypothesis calls it while it generates data.
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


def _schemathesis(spec: Path, api: str, token: str, report: Path) -> list[str]:
    return [
        str(BIN / "st"), "run", str(spec), "--url", api,
        "--header", f"Authorization: Token {token}",
        "--workers", "1",
        "--max-time", str(FUZZ_SECONDS),
        "--request-timeout", str(REQUEST_TIMEOUT_SECONDS),
        "--checks", ",".join(CHECKS),
        "--report", "json", "--report-json-path", str(report),
    ]  # fmt: skip


def test_every_operation_of_the_spec_holds_under_fuzzing(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.json"
    amended = amended_spec()
    spec.write_text(json.dumps(amended), encoding="utf-8")
    database = f"sqlite:///{tmp_path / 'conduit.db'}"
    with serving_make_run(database, tmp_path / "flask.log") as api:
        token = _register(api)
        workers = [
            subprocess.Popen(
                _schemathesis(spec, api, token, tmp_path / f"report{n}.json"),
                cwd=tmp_path,
                env={**os.environ, "NO_COLOR": "1"},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for n in range(WORKERS)
        ]
        outputs = [worker.communicate(timeout=FUZZ_SECONDS + 120)[0] for worker in workers]

    for n, (worker, output) in enumerate(zip(workers, outputs, strict=True)):
        result: dict[str, Any] = json.loads((tmp_path / f"report{n}.json").read_text())
        failures = {f"{f['code']} {f['title']}": f["count"] for f in result["failures"]}
        print(
            f"\nschemathesis {result['schemathesis_version']} worker {n} (seed {result['seed']}), "
            f"{result['running_time']:.0f} s: "
            f"{result['operations']['tested']}/{result['operations']['total']} operations, "
            f"{result['test_cases']['generated']} test cases, failures {failures or 'none'}, "
            f"errors {len(result['errors'])}; {len(DEVIATIONS)} recorded spec deviations"
        )
        assert worker.returncode == 0, output[-20000:]
        assert result["operations"]["tested"] == result["operations"]["total"] == 19
        assert result["errors"] == [] and failures == {}
