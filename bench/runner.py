"""Runs inside a fresh `python -I -S -B` interpreter, the way Lambda would run a handler:
the unpacked (read-only) package is the only thing on sys.path besides the standard
library, and no bytecode can be written.

Reads a job from stdin: {"package", "module", "handler", "event", "warm"}; imports the
handler, serves the event once, then `warm` more times, and prints one JSON line:
{"import_ms", "first_ms", "status", "body", "warm_us": [...]}.
"""

import importlib
import io
import json
import sys
import time
import uuid

started = time.perf_counter()
job = json.loads(sys.stdin.read())
sys.path.insert(0, job["package"])
real_stdout = sys.stdout
# Logs and metrics (EMF) go to stdout on Lambda; keep them out of the result line.
sys.stdout = io.StringIO()


class Context:
    function_name = "bench"
    function_version = "1"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def __init__(self):
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self):
        return 28_000


handler = getattr(importlib.import_module(job["module"]), job["handler"])
imported = time.perf_counter()
response = handler(job["event"], Context())
first = time.perf_counter()

warm = []
for _ in range(job["warm"]):
    context = Context()
    sys.stdout.seek(0)
    sys.stdout.truncate()
    tick = time.perf_counter_ns()
    handler(job["event"], context)
    warm.append((time.perf_counter_ns() - tick) / 1000)

sys.stdout = real_stdout
print(
    json.dumps(
        {
            "import_ms": (imported - started) * 1000,
            "first_ms": (first - started) * 1000,
            "status": response.get("statusCode"),
            "body": response.get("body"),
            "warm_us": warm,
        }
    )
)
