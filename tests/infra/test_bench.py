"""make bench still runs: a tiny sample on the dev zip the infra tests packaged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from app.deploy.registry import load_registry
from tests.e2e.servers import REPO
from tests.infra.conftest import IacCheck

FIELDS = (
    "route", "function", "cold_ms", "monolith_cold_ms", "floor_cold_ms", "warm_us",
    "monolith_warm_us",
)  # fmt: skip


def test_the_benchmark_measures_every_peeled_route(iac_check: IacCheck, tmp_path: Path) -> None:
    archive = REPO / ".serverless-dev" / "conduit.zip"
    assert archive.exists(), iac_check.output[-3000:]
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--zip", str(archive), "--cold-runs", "1",
         "--warm", "3", "--adapter-invocations", "3", "--output-dir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    records = json.loads((tmp_path / "results.json").read_text())
    assert [r["function"] for r in records] == [f.name for f in load_registry().switched]
    for record in records:
        assert all(field in record for field in FIELDS)
        assert all(record[f] > 0 for f in FIELDS[2:]), record
    assert "targets:" in result.stdout and "adapter alone" in result.stdout
