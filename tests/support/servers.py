"""Start a server process on a free loopback port, and run the public RealWorld suite
against it with newman (pinned in package.json)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.deploy.registry import Route

REPO = Path(__file__).resolve().parents[2]
COLLECTION = REPO.parent / "shared" / "realworld" / "Conduit.postman_collection.json"
NEWMAN = REPO / "node_modules" / ".bin" / "newman"
# A conforming server executes this many assertions and fails none.
REALWORLD_ASSERTIONS = 311


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@contextmanager
def serving(
    command: Sequence[str],
    *,
    port: int,
    env: dict[str, str],
    log: Path,
    timeout: float = 60,
    cwd: Path = REPO,
) -> Iterator[str]:
    """Run `command` in `cwd` until the block ends; yields the API base URL."""
    base = f"http://127.0.0.1:{port}/api"
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env={**os.environ, **env},
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        try:
            # A route both the monolith and the Lambda topology serve.
            _wait_until_serving(f"{base}/articles", process, timeout)
            yield base
        finally:
            os.killpg(process.pid, 15)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()


@dataclass(frozen=True)
class NewmanRun:
    assertions: int
    failed: int
    requests: int
    failures: list[str]


@contextmanager
def serving_make_run(database_url: str, log: Path) -> Iterator[str]:
    """What `make run` serves (scripts/local_api.py) on a free loopback port, on
    `database_url` migrated first; yields the API's base URL."""
    env = {"APP_ENV": "local", "DATABASE_URL": database_url}
    bin_dir = REPO / ".venv" / "bin"
    subprocess.run(
        [str(bin_dir / "alembic"), "upgrade", "head"],
        cwd=REPO,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    port = free_port()
    command = [str(bin_dir / "flask"), "--app", "scripts.local_api", "run",
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with serving(command, port=port, env=env, log=log) as api:
        yield api


def run_realworld_suite(api_url: str, report: Path) -> NewmanRun:
    """The public Postman collection against `api_url`, with fresh user names."""
    stamp = f"{int(time.time() * 1000)}{os.getpid()}"
    username = f"u{stamp}"
    subprocess.run(
        [
            str(NEWMAN),
            "run",
            str(COLLECTION),
            # --delay-request 0 makes newman run nothing: keep it at 1.
            "--delay-request",
            "1",
            "--global-var",
            f"APIURL={api_url}",
            "--global-var",
            f"USERNAME={username}",
            "--global-var",
            f"EMAIL={username}@example.com",
            "--global-var",
            "PASSWORD=password",
            "--reporters",
            "cli,json",
            "--reporter-json-export",
            str(report),
        ],
        cwd=REPO,
        check=False,
        capture_output=True,
        timeout=300,
    )
    stats = json.loads(report.read_text())["run"]
    failures = [
        f"{failure['source']['name']}: {failure['error']['message']}"
        for failure in stats.get("failures", [])
    ]
    return NewmanRun(
        assertions=stats["stats"]["assertions"]["total"],
        failed=stats["stats"]["assertions"]["failed"],
        requests=stats["stats"]["requests"]["total"],
        failures=failures,
    )


def assert_conforms(result: NewmanRun, label: str) -> None:
    """The verdict on a run of the public suite: every assertion ran, none failed."""
    print(
        f"newman {label}: {result.assertions} assertions, {result.failed} failed, "
        f"{result.requests} requests"
    )
    assert result.failures == []
    assert result.failed == 0
    assert result.assertions >= REALWORLD_ASSERTIONS


def realworld_requests_to(routes: Iterable[Route]) -> dict[str, int]:
    """The suite's requests that go to one of `routes`, by name ("All Tags"), with the
    number of assertions their test script makes (`tests[...] = ...` lines)."""
    wanted = list(routes)
    found: dict[str, int] = {}

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            walk(item.get("item") or [])
            request = item.get("request")
            if not request:
                continue
            raw = request["url"]["raw"] if isinstance(request["url"], dict) else request["url"]
            path = raw.replace("{{APIURL}}", "/api").split("?")[0].rstrip("/").split("/")
            for route in wanted:
                pattern = route.path.split("/")
                if (
                    request["method"] == route.method
                    and len(pattern) == len(path)
                    and all(p.startswith("{") or p == a for p, a in zip(pattern, path, strict=True))
                ):
                    script = [
                        line
                        for event in item.get("event") or []
                        if event.get("listen") == "test"
                        for line in event["script"]["exec"]
                    ]
                    found[item["name"]] = sum(line.strip().startswith("tests[") for line in script)

    walk(json.loads(COLLECTION.read_text())["item"])
    return found
