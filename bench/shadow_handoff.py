"""What the shadow step adds to a client's request: the time of the hand-off.

Runs the shadowed route's pinned handler (app/deploy/shadow.py: the monolith through
serverless-wsgi, then the sampler) in this process, warm, on a SQLite database with one
user, and interleaves sampled requests (rate 1: handed off with an asynchronous invoke)
with unsampled ones (rate 0). The Lambda endpoint is, by default, a stub in a separate
process that answers Invoke as Lambda does for InvocationType=Event (202, no body); or
pass --endpoint http://127.0.0.1:3002 to hand off to `make offline`'s Lambda port (the
comparator then really runs, beside this process).

Prints the median and p90 of each, and of the hand-off (Sampler.offer) alone. Compare
the two columns of one run only: this machine is shared and noisy.

    .venv/bin/python bench/shadow_handoff.py [--requests 400] [--endpoint URL]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STUB = r"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Invoke(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(202)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Invoke)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="of each kind")
    parser.add_argument("--endpoint", help="a Lambda endpoint (default: a local stub)")
    args = parser.parse_args(argv)

    stub = None
    endpoint = args.endpoint
    if endpoint is None:
        stub = subprocess.Popen([sys.executable, "-c", STUB], stdout=subprocess.PIPE, text=True)
        assert stub.stdout is not None
        endpoint = f"http://127.0.0.1:{stub.stdout.readline().strip()}"
    try:
        return measure(args.requests, endpoint)
    finally:
        if stub is not None:
            stub.terminate()
            stub.wait()


def measure(requests: int, endpoint: str) -> int:
    import serverless_wsgi
    from sqlalchemy import create_engine

    from app.deploy import shadow
    from app.deploy.events import LambdaContext, http_event
    from app.deploy.registry import load_registry
    from app.platform.schema import upgrade
    from legacy import create_app

    [function] = load_registry().shadowed[:1] or [None]
    if function is None:
        print("no route in shadow state", file=sys.stderr)
        return 1
    database = Path(tempfile.mkdtemp()) / "shadow-bench.db"
    url = f"sqlite:///{database}"
    with create_engine(url).begin() as connection:
        upgrade(connection)
    app = create_app({"APP_ENV": "test", "DATABASE_URL": url, "JWT_SECRET": "x" * 40})
    registered = app.test_client().post(
        "/api/users",
        json={
            "user": {"username": "bench", "email": "bench@example.com", "password": "pw-12345678"}
        },
    )
    token = registered.get_json()["user"]["token"]
    route = function.route
    event = http_event(
        route.method, route.path, route=route.path, headers={"authorization": f"Token {token}"}
    )
    shadow.monolith = lambda: lambda e, c: serverless_wsgi.handle_request(app, e, c)
    os.environ.setdefault("AWS_REGION", "eu-west-1")
    client = shadow.lambda_client(endpoint, os.environ["AWS_REGION"])
    if not endpoint.startswith("http://127.0.0.1"):
        print("the endpoint must be on this machine", file=sys.stderr)
        return 2
    name = f"conduit-local-{function.name}Comparator"
    sampled = shadow.Sampler(name, 1.0, client)
    unsampled = shadow.Sampler(name, 0.0, None)
    offers: list[float] = []

    class Timed(shadow.Sampler):
        def offer(self, event: Any, answer: Any) -> bool:
            start = time.perf_counter()
            handed = sampled.offer(event, answer)
            offers.append(time.perf_counter() - start)
            if not handed:
                raise RuntimeError("a sampled request was not handed off")
            return handed

    timed = Timed(name, 1.0, client)
    times: dict[str, list[float]] = {"unsampled": [], "sampled": []}
    warmup = 30
    for index in range(warmup + requests):
        order = (("unsampled", unsampled), ("sampled", timed))
        for kind, sampler in order if index % 2 else order[::-1]:
            shadow.sampler = sampler
            start = time.perf_counter()
            answer = shadow.handler(dict(event), LambdaContext())
            elapsed = time.perf_counter() - start
            assert answer["statusCode"] == 200, answer
            if index >= warmup:
                times[kind].append(elapsed)
    offers[:] = offers[warmup:]

    ms = 1000.0
    print(
        f"route {route.key} ({function.name}), {requests} requests of each kind, warm, "
        f"interleaved; hand-off to {endpoint}"
    )
    print(f"{'':<28}{'median ms':>10}{'p90 ms':>10}")
    for label, values in (
        ("unsampled request", times["unsampled"]),
        ("sampled request", times["sampled"]),
        ("hand-off alone (offer)", offers),
    ):
        median, p90 = statistics.median(values) * ms, percentile(values, 0.9) * ms
        print(f"{label:<28}{median:>10.2f}{p90:>10.2f}")
    added = statistics.median(times["sampled"]) - statistics.median(times["unsampled"])
    print(f"added per sampled request (median difference): {added * ms:.2f} ms")
    print(
        json.dumps(
            {
                "added_ms": round(added * ms, 3),
                "offer_median_ms": round(statistics.median(offers) * ms, 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
