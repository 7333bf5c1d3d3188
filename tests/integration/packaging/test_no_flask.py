"""Each dedicated function cold-starts and answers without Flask, Werkzeug or the monolith.

For every sample event (tests/support/events/), the function that owns its route runs in a fresh
interpreter, configured only through its environment as on Lambda, against a migrated
SQLite file; it serves the event, and then the modules it loaded are checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from app.core import validation
from app.core.passwords import Passwords
from app.core.services import articles, comments, profiles, users
from app.core.tokens import TokenIssuer
from app.platform.db import Database
from app.platform.schema import upgrade
from app.platform.settings import TEST_PASSWORD_HASHING
from tests.support.api import TEST_CONFIG
from tests.support.events import event_names, load_event
from tests.support.functions import FUNCTIONS
from tests.support.servers import REPO

# Runs in the child: invoke the handler on the event read from stdin, then report the
# response and every module loaded, to the file named on the command line.
CHILD = """
import importlib, json, sys, uuid

class Context:
    function_name = "conduit-test-" + sys.argv[1].rsplit(".", 1)[-1]
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:" + function_name
    aws_request_id = str(uuid.uuid4())
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = "2024/01/01/[$LATEST]0"

    def get_remaining_time_in_millis(self):
        return 28000

event = json.load(sys.stdin)
module = importlib.import_module(sys.argv[1])
response = module.handler(event, Context())
with open(sys.argv[2], "w") as out:
    json.dump({"response": response, "modules": sorted(sys.modules)}, out)
"""

FORBIDDEN_ROOTS = ("flask", "werkzeug", "legacy")


@dataclass(frozen=True)
class Seeded:
    url: str
    token: str


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """A migrated SQLite file holding what the sample events ask for."""
    url = f"sqlite:///{tmp_path_factory.mktemp('no-flask') / 'conduit.db'}"
    engine = create_engine(url)
    with engine.connect() as connection:
        upgrade(connection)
    engine.dispose()
    database = Database.from_url(url)
    passwords = Passwords(
        time_cost=TEST_PASSWORD_HASHING.time_cost,
        memory_cost_kib=TEST_PASSWORD_HASHING.memory_cost_kib,
        parallelism=TEST_PASSWORD_HASHING.parallelism,
    )
    tokens = TokenIssuer(TEST_CONFIG["JWT_SECRET"], 3600)
    with database.transaction() as session:
        jake = users.register(
            session, passwords, tokens, validation.NewUser("jake", "jake@example.com", "p" * 12)
        )["user"]
        jane = users.register(
            session, passwords, tokens, validation.NewUser("jane", "jane@example.com", "p" * 12)
        )["user"]
        jake_id, jane_id = tokens.verify(jake["token"]), tokens.verify(jane["token"])
        new = validation.NewArticle(
            "How to train your dragon", "Ever wonder how?", "It takes a Jacobian", ["dragons"]
        )
        slug = articles.create_article(session, jake_id, new)["article"]["slug"]
        assert slug == "how-to-train-your-dragon"
        # jane's own, for the sample events that change or delete an article of hers.
        for title in ("Jane's story", "Jane's draft"):
            own = validation.NewArticle(title, "About", "Text", [])
            articles.create_article(session, jane_id, own)
        comments.add_comment(session, slug, jane_id, "Nice!")
        profiles.follow(session, "jake", jane_id)
    database.dispose()
    yield Seeded(url=url, token=jane["token"])


FUNCTION_BY_ROUTE = {function.route: function for function in FUNCTIONS}


def sample_event(name: str, seeded: Seeded) -> dict[str, Any]:
    """The sample, with a real token where it carries a placeholder one."""
    event = load_event(name)
    if "authorization" in event["headers"]:
        event = load_event(name, headers={"authorization": f"Token {seeded.token}"})
    return event


def run_cold(module: str, event: dict[str, Any], url: str, out: Path) -> dict[str, Any]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "DB_", "JWT_", "POWERTOOLS_", "EXPORTS_"))
    }
    env |= {
        "APP_ENV": "test",
        "DATABASE_URL": url,
        "JWT_SECRET": TEST_CONFIG["JWT_SECRET"],
        "AWS_LAMBDA_FUNCTION_NAME": "conduit-test-" + module.rsplit(".", 1)[-1],
        "POWERTOOLS_SERVICE_NAME": "conduit",
        "POWERTOOLS_METRICS_NAMESPACE": "Conduit",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, module, str(out)],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(out.read_text())
    return result


@pytest.mark.parametrize("name", event_names())
def test_function_serves_its_sample_event_without_flask(
    name: str, seeded: Seeded, tmp_path: Path
) -> None:
    event = sample_event(name, seeded)
    function = FUNCTION_BY_ROUTE[event["routeKey"]]
    result = run_cold(function.module, event, seeded.url, tmp_path / "result.json")

    response = result["response"]
    # Each sample is a request that succeeds (the exact answers are the parity tests').
    assert response["statusCode"] in (200, 201, 204), response
    if response["statusCode"] == 204:
        assert "body" not in response
    else:
        assert response["headers"]["Content-Type"] == "application/json; charset=utf-8"
        json.loads(response["body"])

    loaded = result["modules"]
    forbidden = [
        name
        for name in loaded
        if name in FORBIDDEN_ROOTS or name.startswith(tuple(f"{root}." for root in FORBIDDEN_ROOTS))
    ]
    assert forbidden == []
    assert function.module in loaded
    # Nothing here calls AWS per request; tokens are signed and checked with the standard
    # library (app/core/tokens.py), never by PyJWT, whose import loads an HTTP client.
    assert "boto3" not in loaded
    assert "jwt" not in loaded
    # One route, no router: no Powertools, no tracing SDK.
    assert not [m for m in loaded if m.startswith(("aws_lambda_powertools", "aws_xray_sdk"))]
    # Reads and writes are Core statements: no ORM.
    orm = [m for m in loaded if m == "sqlalchemy.orm" or m.startswith("sqlalchemy.orm.")]
    assert orm == [], orm[:3]
    # On SQLite nothing loads the MySQL dialect (app.core.tables).
    assert not [m for m in loaded if m.startswith("sqlalchemy.dialects.mysql")]
    if "authorization" in event["headers"]:
        assert "app.core.tokens" in loaded
    # No HTTP client, no TLS: the token needs neither, and SQLite no connection.
    assert not {"http.client", "urllib.request", "ssl"} & set(loaded)
