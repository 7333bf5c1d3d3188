"""make bench still measures every dedicated route, reads and writes: a tiny run on the dev
zip the infra tests packaged, on every backend this test session uses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from app.deploy.registry import load_registry
from tests.support.api import BACKENDS
from tests.support.servers import REPO
from tests.support.templates import IacCheck

FIELDS = [
    "route", "function", "backend", "cold_ms", "monolith_cold_ms", "floor_cold_ms", "warm_us",
    "monolith_warm_us", "floor_warm_us", "rss_mib", "monolith_rss_mib", "restore_ms",
    "restore_first_us",
]  # fmt: skip


def test_the_benchmark_measures_every_dedicated_route(iac_check: IacCheck, tmp_path: Path) -> None:
    archive = REPO / ".serverless-dev" / "conduit.zip"
    assert archive.exists(), iac_check.output[-3000:]
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--zip", str(archive), "--rounds", "1", "--warm", "2",
         "--backends", ",".join(BACKENDS), "--output-dir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    records = json.loads((tmp_path / "results.json").read_text())
    registry = load_registry()
    retired = set(registry.declared("retired"))
    # The routes running new code that the monolith still serves, reads and writes.
    expected = [
        (route.key, function.name, backend)
        for backend in BACKENDS
        for function in registry.switched
        for route in function.routes
        if route not in retired
    ]
    assert len({route for route, _, _ in expected}) >= 15
    assert any(not key.startswith("GET ") for key, _, _ in expected)
    assert [(r["route"], r["function"], r["backend"]) for r in records] == expected
    for record in records:
        assert list(record) == FIELDS
        assert all(record[field] > 0 for field in FIELDS[3:]), record
    svg = (tmp_path / "bench.svg").read_text()
    assert svg.startswith("<svg") and all(route in svg for route, _, _ in expected)
    table = (tmp_path / "results.md").read_text()
    assert table == result.stdout
    assert table.count("\n| ") == len(records) + 1  # the header and one row per record
