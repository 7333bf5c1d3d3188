"""The public RealWorld suite through serverless-offline (stage `local`): the Lambda
topology of serverless.yml, with its routes and handlers, on a fresh database."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from app.deploy.registry import load_registry
from tests.support.servers import REPO, assert_conforms, free_port, run_realworld_suite, serving

pytestmark = pytest.mark.e2e

BIN = REPO / ".venv" / "bin"


@contextmanager
def offline(database_url: str, log: Path) -> Iterator[str]:
    """`make offline` on a migrated database; yields the API base URL."""
    env = {
        "APP_ENV": "local",
        "DATABASE_URL": database_url,
        # The handlers run on the project's venv, as `make offline` does.
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    subprocess.run(
        [str(BIN / "alembic"), "upgrade", "head"],
        cwd=REPO,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    port, lambda_port = free_port(), free_port()
    command = [
        "npx", "--no-install", "sls", "offline", "start", "--stage", "local",
        "--host", "127.0.0.1", "--httpPort", str(port), "--lambdaPort", str(lambda_port),
    ]  # fmt: skip
    with serving(command, port=port, env=env, log=log, timeout=120) as api:
        yield api


def test_realworld_suite_passes_through_serverless_offline(
    backend: str, fresh_database_url: Any, tmp_path: Path
) -> None:
    with offline(fresh_database_url(backend), tmp_path / "offline.log") as api:
        result = run_realworld_suite(api, tmp_path / "newman.json")

    assert_conforms(result, f"via serverless-offline [{backend}]")
    # The suite went through the routes of serverless.yml: peeled routes to their
    # functions, the pinned one to its own alias, everything else to the monolith.
    served = set(re.findall(r"\(λ: (\w+)\) RequestId", (tmp_path / "offline.log").read_text()))
    expected = {function.name for function in load_registry().http_functions} | {"monolith"}
    assert expected <= served, expected - served


# JSON bodies that parse to a falsy value. serverless-offline used to hand such a body to
# the handler as that value rather than as text, and the request then waited for the
# function's timeout (patches/ corrects it).
FALSY_BODIES = ["false", "0", "null", '""', "[]", "{}"]
# The monolith answers these in milliseconds; a hung handler takes the 28 s timeout.
ANSWER_BOUND_SECONDS = 10.0


def test_a_falsy_json_body_is_a_422_through_serverless_offline(
    fresh_database_url: Any, tmp_path: Path
) -> None:
    answers = {}
    with offline(fresh_database_url("sqlite"), tmp_path / "offline.log") as api:
        for body in FALSY_BODIES:
            request = urllib.request.Request(  # noqa: S310 - loopback only
                f"{api}/users",
                data=body.encode(),
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=40) as response:  # noqa: S310
                    status, payload = response.status, response.read()
            except urllib.error.HTTPError as error:
                status, payload = error.code, error.read()
            answers[body] = (status, json.loads(payload), time.perf_counter() - started)

    print(
        "\n"
        + "\n".join(
            f"{body!r}: {status} in {took:.2f} s" for body, (status, _, took) in answers.items()
        )
    )
    for body, (status, payload, took) in answers.items():
        expected = "user is required" if body == "{}" else "request body must be a JSON object"
        assert (status, payload) == (422, {"errors": {"body": [expected]}}), body
        assert took < ANSWER_BOUND_SECONDS, f"{body!r} took {took:.1f} s"
