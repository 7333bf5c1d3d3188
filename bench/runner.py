"""Runs inside a fresh `python -P -s -S -B` interpreter, the way Lambda runs a handler:
PYTHONPATH names the unpacked (read-only) package first, then what the Lambda runtime
provides (boto3 and botocore); then the standard library; no bytecode can be written.

Reads a job from stdin: {"package", "runtime", "module", "handler", "event", "warm",
"token"}, or "events" instead of "event" and "warm": one event per invocation, in order
(a write route: each invocation changes the data, so each is a request of its own, made
valid by the bench beforehand). Measured from process start to the first response:
importing the handler module, the IAM auth token (see below), and serving the event once.
Then `warm` more invocations (or one per remaining event), each timed, and the peak RSS.
Prints one JSON line: {"first_response", "status", "body", "warm_us", "rss_kib",
"failed"}, where `first_response` is time.monotonic() (one clock for every process of this
machine) when the first response was back, and `failed` the statuses of warm invocations
that did not succeed (2xx).

The IAM token, generated on every side, no network, fixed fake credentials from the
environment:
- `token.explicit`: the job names the module whose IamAuthToken signs it; the child makes
  one token before the first invocation (SQLite: the app reaches no proxy there);
- `token.driver`: the app connects to MariaDB through its production path (DB_HOST,
  DB_IAM_AUTH) and hands the token to PyMySQL as the password; the shim below checks that
  it is a token for this host and user, and swaps in the local server's password.
"""

import importlib
import importlib.abc
import importlib.machinery
import io
import json
import os
import sys
import time
import uuid

job = json.loads(sys.stdin.read())
real_stdout = sys.stdout
# Logs and metrics (EMF) go to stdout on Lambda; keep them out of the result line.
sys.stdout = io.StringIO()
token_job = job.get("token") or {}


class _SwapTokenForLocalPassword(importlib.abc.MetaPathFinder):
    """When PyMySQL is imported (by whoever imports it, inside the measured path), wrap
    its connect(): the password it is handed must be an IAM token for this database."""

    def find_spec(self, name, path=None, target=None):
        if name != "pymysql":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None:
            return None
        loader = spec.loader
        execute = loader.exec_module

        def exec_module(module):
            execute(module)
            connect = module.connect
            prefix = token_job["prefix"]

            def swapped(*args, **kwargs):
                password = kwargs.get("password", "")
                if not password.startswith(prefix):
                    raise RuntimeError(f"expected an IAM token as the password, got {password!r}")
                kwargs["password"] = token_job["local_password"]
                return connect(*args, **kwargs)

            module.connect = swapped

        loader.exec_module = exec_module
        return spec


if token_job.get("kind") == "driver":
    sys.meta_path.insert(0, _SwapTokenForLocalPassword())


class Context:
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bench")
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
# One event per invocation (writes), or the one event served every time (reads).
_events = iter(job["events"]) if "events" in job else None


def next_event():
    return job["event"] if _events is None else next(_events)


def sign_token():
    if token_job.get("kind") == "explicit":
        signer = importlib.import_module(token_job["module"]).IamAuthToken(
            host=token_job["host"],
            port=token_job["port"],
            user=token_job["user"],
            region="eu-west-1",
        )
        if not signer().startswith(token_job["prefix"]):
            raise RuntimeError("the IAM token is not for this database")


restored = None
if job.get("restore"):
    # SnapStart, simulated (app.platform.snapshot.fork_restore): init is done (SNAPSTART
    # is set, so it primed); a forked copy runs the after-restore hooks and the first
    # request. This process then serves the warm requests to compare with.
    from app.platform import snapshot

    if token_job.get("kind") == "explicit":
        # On MariaDB the copy signs its token in an after-restore hook (the reconnect);
        # on SQLite, where the app signs none, the stand-in token is signed there too.
        snapshot.after_restore(sign_token)

    def first_request():
        return handler(next_event(), Context()).get("statusCode")

    [restored] = snapshot.fork_restore(first_request)
    if _events is not None:
        next(_events)  # served by the restored copy (the fork advanced its own iterator)
sign_token()
response = handler(next_event(), Context())
first_response = time.monotonic()

warm = []
failed = []
for event in [next_event() for _ in range(job["warm"])] if _events is None else _events:
    context = Context()
    sys.stdout.seek(0)
    sys.stdout.truncate()
    tick = time.perf_counter_ns()
    status = handler(event, context).get("statusCode")
    warm.append((time.perf_counter_ns() - tick) / 1000)
    if not 200 <= status < 300:
        failed.append(status)


def peak_rss_kib():
    # VmHWM belongs to this process's memory since exec; getrusage's ru_maxrss would
    # carry the high-water mark of the parent that forked it.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


sys.stdout = real_stdout
print(
    json.dumps(
        {
            "first_response": first_response,
            "status": response.get("statusCode"),
            "body": response.get("body"),
            "warm_us": warm,
            "rss_kib": peak_rss_kib(),
            "restored": restored,
            "failed": failed,
        }
    )
)
