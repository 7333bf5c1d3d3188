"""The shadow step in process: the pinned function's sampling and hand-off
(app/deploy/shadow.py) and the comparator's double comparison, metric and log lines
(app/deploy/comparator.py). AWS calls go through botocore's Stubber."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.stub import ANY, Stubber

from app.deploy import comparator, shadow
from app.deploy.comparator import compare, metric_line, publish
from app.deploy.events import LambdaContext, http_event
from app.deploy.shadow import MAX_PAYLOAD_BYTES, Sampler, sampler_from_env

COMPARATOR = "conduit-test-getCurrentUserComparator"
ROUTE = "GET /api/user"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


def answer(body: Any, status: int = 200) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json; charset=utf-8"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


USER = answer({"user": {"username": "jake", "email": "jake@example.com", "token": JWT}})
READ = http_event("GET", "/api/user", route="/api/user", headers={"authorization": f"Token {JWT}"})


# --- sampling and hand-off ------------------------------------------------------------


class Lambda:
    """A real botocore Lambda client; Invoke answered by Stubber, each call recorded."""

    def __init__(self) -> None:
        self.client = boto3.client(
            "lambda",
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.calls: list[dict[str, Any]] = []
        self.client.meta.events.register(
            "before-parameter-build.lambda.Invoke", lambda params, **_: self.calls.append(params)
        )
        self.stubber = Stubber(self.client)
        self.stubber.activate()

    def accepts(self, times: int = 1) -> None:
        for _ in range(times):
            self.stubber.add_response(
                "invoke",
                {"StatusCode": 202},
                {"FunctionName": COMPARATOR, "InvocationType": "Event", "Payload": ANY},
            )


@pytest.fixture
def lambda_() -> Iterator[Lambda]:
    double = Lambda()
    yield double
    double.stubber.deactivate()


def draws(*values: float) -> Any:
    found = iter(values)
    return lambda: next(found)


def test_a_sampled_read_is_handed_off_asynchronously_with_the_monolith_answer(
    lambda_: Lambda,
) -> None:
    lambda_.accepts()
    sampler = Sampler(COMPARATOR, 1.0, lambda_.client)
    assert sampler.offer(READ, USER) is True
    lambda_.stubber.assert_no_pending_responses()
    [call] = lambda_.calls
    assert call["InvocationType"] == "Event"
    assert json.loads(call["Payload"]) == {"event": READ, "answer": USER}


def test_only_the_sampled_share_is_handed_off(lambda_: Lambda) -> None:
    lambda_.accepts(2)
    sampler = Sampler(COMPARATOR, 0.5, lambda_.client, draw=draws(0.1, 0.5, 0.9, 0.49))
    assert [sampler.offer(READ, USER) for _ in range(4)] == [True, False, False, True]
    assert len(lambda_.calls) == 2


def test_the_rate_holds_over_many_reads() -> None:
    class Counting:
        calls = 0

        def invoke(self, **_: Any) -> dict[str, int]:
            Counting.calls += 1
            return {"StatusCode": 202}

    seeded = random.Random(7)  # noqa: S311 - sampling, and seeded so the test repeats
    sampler = Sampler(COMPARATOR, 0.1, Counting(), draw=seeded.random)
    handed = sum(sampler.offer(READ, USER) for _ in range(5000))
    assert handed == Counting.calls
    assert 400 <= handed <= 600


def test_a_rate_of_zero_turns_the_shadow_off(lambda_: Lambda) -> None:
    sampler = Sampler(COMPARATOR, 0.0, lambda_.client, draw=lambda: 0.0)
    assert sampler.offer(READ, USER) is False
    assert lambda_.calls == []


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_writes_are_never_handed_off(lambda_: Lambda, method: str) -> None:
    sampler = Sampler(COMPARATOR, 1.0, lambda_.client)
    write = http_event(method, "/api/user", route="/api/user", body={"user": {"bio": "x"}})
    assert sampler.offer(write, USER) is False
    assert lambda_.calls == []


def test_a_failed_hand_off_is_dropped_and_the_client_still_gets_its_answer(
    lambda_: Lambda, monkeypatch: pytest.MonkeyPatch
) -> None:
    lambda_.stubber.add_client_error("invoke", "TooManyRequestsException", http_status_code=429)
    sampler = Sampler(COMPARATOR, 1.0, lambda_.client)
    monkeypatch.setattr(shadow, "sampler", sampler)
    monkeypatch.setattr(shadow, "monolith", lambda: lambda event, context: USER)
    assert shadow.handler(dict(READ), LambdaContext()) is USER
    assert len(lambda_.calls) == 1


def test_the_handler_answers_with_the_monolith_and_offers_the_same_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    offered: list[tuple[Any, Any]] = []

    class Recording(Sampler):
        def offer(self, event: Any, answer: Any) -> bool:
            offered.append((event, answer))
            return True

    monkeypatch.setattr(shadow, "sampler", Recording(COMPARATOR, 1.0, None))
    monkeypatch.setattr(shadow, "monolith", lambda: lambda event, context: USER)
    assert shadow.handler(dict(READ), LambdaContext()) is USER
    assert offered == [(READ, USER)]


def test_a_request_too_large_to_hand_off_is_dropped(lambda_: Lambda) -> None:
    sampler = Sampler(COMPARATOR, 1.0, lambda_.client)
    huge = answer({"body": "x" * MAX_PAYLOAD_BYTES})
    assert sampler.offer(READ, huge) is False
    assert lambda_.calls == []


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({"SHADOW_SAMPLE_RATE": "1.5", "SHADOW_COMPARATOR": COMPARATOR}, "within"),
        ({"SHADOW_SAMPLE_RATE": "-0.1", "SHADOW_COMPARATOR": COMPARATOR}, "within"),
        ({"SHADOW_SAMPLE_RATE": "0.5"}, "SHADOW_COMPARATOR"),
    ],
)
def test_bad_settings_fail_at_start(environ: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        sampler_from_env(environ)


def test_offline_the_client_talks_unsigned_to_the_lambda_port() -> None:
    sampler = sampler_from_env(
        {
            "SHADOW_SAMPLE_RATE": "1",
            "SHADOW_COMPARATOR": COMPARATOR,
            "SHADOW_LAMBDA_ENDPOINT": "http://127.0.0.1:3002",
            "AWS_REGION": "eu-west-1",
        }
    )
    assert sampler.client.meta.endpoint_url == "http://127.0.0.1:3002"
    assert sampler.client.meta.config.signature_version is UNSIGNED
    assert sampler.client.meta.config.retries["total_max_attempts"] == 1
    assert sampler_from_env({"SHADOW_SAMPLE_RATE": "0"}).client is None


# --- the comparator -------------------------------------------------------------------


class Scripted:
    """A handler that answers from a script, one answer per call."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self, event: Any, context: Any) -> Any:
        self.calls += 1
        found = self.answers.pop(0)
        if isinstance(found, Exception):
            raise found
        return found


def with_bio(bio: str | None) -> dict[str, Any]:
    return answer({"user": {"username": "jake", "email": "jake@example.com", "bio": bio}})


def run(candidate: Scripted, monolith: Scripted, first: Any = None) -> comparator.Verdict:
    return compare(
        ROUTE,
        READ,
        with_bio(None) if first is None else first,
        candidate=candidate,
        monolith=monolith,
        context=LambdaContext(),
    )


def test_agreeing_answers_are_compared_once() -> None:
    candidate, monolith = Scripted(with_bio(None)), Scripted()
    verdict = run(candidate, monolith)
    assert (verdict.mismatched, verdict.settled) == (False, False)
    assert (candidate.calls, monolith.calls) == (1, 0)


def test_a_difference_that_goes_away_on_the_second_reads_is_no_mismatch() -> None:
    # The bio changed between the monolith's read and the new code's.
    candidate = Scripted(with_bio("new bio"), with_bio("new bio"))
    monolith = Scripted(with_bio("new bio"))
    verdict = run(candidate, monolith)
    assert (verdict.mismatched, verdict.settled) == (False, True)
    assert (candidate.calls, monolith.calls) == (2, 1)


def test_a_difference_that_persists_is_a_mismatch_with_its_paths() -> None:
    candidate = Scripted(with_bio("wrong"), with_bio("wrong"))
    monolith = Scripted(with_bio(None))
    verdict = run(candidate, monolith)
    assert verdict.mismatched and not verdict.settled
    assert verdict.paths == ["$.user.bio"]


def test_a_value_the_monolith_itself_changes_between_reads_is_left_out() -> None:
    first = answer({"user": {"username": "jake", "seen": 1, "bio": None}})
    monolith = Scripted(answer({"user": {"username": "jake", "seen": 2, "bio": None}}))
    candidate = Scripted(
        answer({"user": {"username": "jake", "seen": 3, "bio": None}}),
        answer({"user": {"username": "jake", "seen": 4, "bio": "x"}}),
    )
    verdict = run(candidate, monolith, first)
    assert verdict.paths == ["$.user.bio"]


def test_a_new_handler_that_raises_is_a_mismatch() -> None:
    candidate = Scripted(RuntimeError("boom"), RuntimeError("boom"))
    verdict = run(candidate, Scripted(with_bio(None)))
    assert verdict.mismatched and verdict.paths[0] == "status"


def test_the_metric_line_is_embedded_metric_format() -> None:
    verdict = comparator.Verdict(ROUTE, mismatched=True, settled=False)
    line = metric_line(verdict, "Conduit", now_ms=1_700_000_000_000)
    assert line == {
        "_aws": {
            "Timestamp": 1_700_000_000_000,
            "CloudWatchMetrics": [
                {
                    "Namespace": "Conduit",
                    "Dimensions": [["route"]],
                    "Metrics": [
                        {"Name": "ShadowComparisons", "Unit": "Count"},
                        {"Name": "ShadowMismatches", "Unit": "Count"},
                        {"Name": "ShadowSettled", "Unit": "Count"},
                    ],
                }
            ],
        },
        "route": ROUTE,
        "ShadowComparisons": 1,
        "ShadowMismatches": 1,
        "ShadowSettled": 0,
    }


def test_a_mismatch_log_line_names_the_paths_and_shows_no_secret(
    log_output: io.StringIO,
) -> None:
    other = answer({"user": {"username": "jane", "email": "jane@example.org", "token": JWT}})
    candidate = Scripted(other, other)
    verdict = run(candidate, Scripted(USER), first=USER)
    emitted: list[str] = []
    publish(verdict, "Conduit", emit=emitted.append)
    logged = log_output.getvalue()
    [line] = [json.loads(text) for text in logged.splitlines() if "shadow mismatch" in text]
    assert line["route"] == ROUTE
    assert line["paths"] == ["$.user.email", "$.user.username"]
    assert line["differences"][1] == {"path": "$.user.username", "monolith": "jake", "new": "jane"}
    for secret in ("@example", JWT, "eyJ"):
        assert secret not in logged + "".join(emitted)
    assert json.loads(emitted[0])["ShadowMismatches"] == 1


def test_the_handler_runs_the_configured_new_code_and_publishes(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], log_output: io.StringIO
) -> None:
    monkeypatch.setenv("SHADOW_ROUTE", ROUTE)
    monkeypatch.setenv("SHADOW_METRICS_NAMESPACE", "Conduit")
    monkeypatch.setattr(comparator, "candidate", lambda: Scripted(USER))
    monkeypatch.setattr(comparator, "monolith", lambda: Scripted())
    result = comparator.handler({"event": READ, "answer": USER}, LambdaContext())
    assert result == {"route": ROUTE, "mismatched": False, "paths": []}
    out = capfd.readouterr().out
    metrics = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    assert [m["ShadowComparisons"] for m in metrics] == [1]
    assert [m["ShadowMismatches"] for m in metrics] == [0]
    assert '"message":"shadow compared"' in log_output.getvalue()
    assert JWT not in out + log_output.getvalue()


def test_the_handler_refuses_what_is_no_hand_off() -> None:
    with pytest.raises(ValueError, match="not a shadow hand-off"):
        comparator.handler({"answer": USER}, LambdaContext())


def test_load_handler_reads_the_serverless_spelling() -> None:
    loaded = comparator.load_handler("app/deploy/shadow.handler")
    assert loaded is shadow.handler
    with pytest.raises(ValueError, match="not a handler"):
        comparator.load_handler("nohandler")
