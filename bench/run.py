"""make bench: what each dedicated route costs on Lambda, function vs monolith vs floor.

It measures what Lambda would run: the zip `sls package --stage dev` builds (with its
bytecode), unpacked into a read-only folder, run by a fresh `python -I -S -B` that sees
that folder, what the Lambda runtime adds (boto3, botocore) and the standard library.

The routes are those of every dedicated function that runs its own code (the registry
read from serverless.yml), reads and writes; path parameters are filled from the data
seeded here. Three sides serve each route's event: the function; the monolith through
serverless-wsgi; the floor (bench/floor.py: SQLAlchemy, the driver, the IAM token and the
route's main query). On SQLite and on MariaDB.

- cold: process start to the first response (import, init, the IAM token, one request);
  not to the interpreter's exit, which Lambda never charges to a request;
- warm: the median time of one invocation over --warm invocations in that process
  (--write-warm for a write route, each invocation a request of its own: bench/writes.py);
- memory: the peak RSS of that process after the warm run.

In each round the (backend, route) cells come in a shuffled order, and the sides of a
cell run one after another in a shuffled order, so the processes a ratio compares run
seconds apart and load on this shared machine falls on all sides alike; each ratio is the
median over rounds of that round's ratio.
Writes bench/out/results.json, bench/out/results.md and bench/out/bench.svg.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import py_compile
import random
import shutil
import stat
import statistics
import subprocess
import sys
import sysconfig
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

from app.core import tables
from app.core.tokens import TokenIssuer
from app.deploy.events import http_event
from app.deploy.registry import load_registry
from app.platform.schema import upgrade
from bench import writes
from bench.chart import render_svg

ROOT = Path(__file__).resolve().parents[1]

WORK = ROOT / "bench" / "work"
JWT_SECRET = "bench-secret-" + "x" * 32
MARIADB_ADMIN_URL = "mysql+pymysql://root@127.0.0.1:3306"
# One per run: two runs on one server (two checkouts, say) never share a database.
MARIADB_DATABASE = f"conduit_bench_{os.getpid()}"
# Where Lambda's Python runtime keeps what it adds to every function's path.
LAMBDA_RUNTIME_PACKAGES = ("boto3", "botocore", "jmespath", "dateutil", "s3transfer", "urllib3",
                           "six.py")  # fmt: skip
# Fixed fake credentials: the IAM token is signed for real, and sent nowhere.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIDBENCHEXAMPLE0000",
    "AWS_SECRET_ACCESS_KEY": "bench/secret/key/0000000000000000000000",
    "AWS_SESSION_TOKEN": "bench-session-token",
}
# The proxy the SQLite runs sign a token for (nothing listens there).
SQLITE_TOKEN_TARGET = {"host": "conduit-bench.proxy-example.eu-west-1.rds.amazonaws.com",
                       "port": 3306, "user": "conduit_app"}  # fmt: skip
# "restore": the function's init, then a SnapStart restore simulated by a fork.
SIDES = ("function", "monolith", "floor", "restore")
# After a simulated restore: (hooks + first request) / cold start, and the first request /
# a warm one; a route meets them at or under each.
RESTORE_TARGETS = (0.10, 3.0)

# Acceptance, per kind of route: (cold vs monolith, cold vs floor, warm vs monolith,
# warm vs floor, peak RSS vs monolith); a route meets it at or under each.
TARGETS = {"read": (0.60, 1.25, 0.70, 6.0, 0.85), "write": (0.75, 1.5, 0.90, 6.0, 0.85)}


@dataclass(frozen=True)
class Target:
    """One dedicated route of a function that runs its own code."""

    route: str  # "GET /api/articles/{slug}", as in serverless.yml
    method: str
    path: str
    function: str
    module: str

    @property
    def kind(self) -> str:
        return "read" if self.method in ("GET", "HEAD") else "write"


@dataclass
class Record:
    route: str
    function: str
    backend: str
    cold_ms: float
    monolith_cold_ms: float
    floor_cold_ms: float
    warm_us: float
    monolith_warm_us: float
    floor_warm_us: float
    rss_mib: float
    monolith_rss_mib: float
    # SnapStart, simulated by a fork: the after-restore hooks plus the first request.
    restore_ms: float
    restore_first_us: float


def targets() -> list[Target]:
    """The routes measured: those that run new code and that the monolith still serves,
    reads and writes (a retired route has no monolith code left to compare with)."""
    registry = load_registry()
    retired = set(registry.declared("retired"))
    found = []
    for function in registry.switched:
        assert function.module is not None
        for route in function.routes:
            if route in retired:
                continue
            found.append(
                Target(route.key, route.method, route.path, function.name, function.module)
            )
    if not found:
        raise SystemExit("bench: no dedicated function runs its own code yet")
    return found


# --- the package ----------------------------------------------------------------------


def package(stage: str) -> Path:
    out = WORK / "package"
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "package-stage.sh"), stage, str(out)], check=True
    )
    return out / "conduit.zip"


def _compile_beside(source: Path, target: Path) -> None:
    shutil.copy(source, target)
    py_compile.compile(
        str(target),
        cfile=str(
            target.parent / "__pycache__" / f"{target.stem}.{sys.implementation.cache_tag}.pyc"
        ),
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )


def unpack(archive: Path) -> tuple[Path, Path]:
    """The zip as Lambda lays it out in /var/task, plus the floor; and what the runtime
    adds (/var/runtime). Both read-only."""
    task, runtime = WORK / "task", WORK / "runtime"
    for folder in (task, runtime):
        if folder.exists():
            _make_writable(folder)
            shutil.rmtree(folder)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(task)
    _compile_beside(ROOT / "bench" / "floor.py", task / "floor.py")
    _compile_beside(ROOT / "app" / "platform" / "rds_iam.py", task / "floor_rds_iam.py")
    _compile_beside(
        ROOT / "app" / "platform" / "deferred_imports.py", task / "floor_deferred_imports.py"
    )
    runtime.mkdir(parents=True)
    site = Path(sysconfig.get_paths()["purelib"])
    for name in LAMBDA_RUNTIME_PACKAGES:
        (runtime / name).symlink_to(site / name)
    for path in [task, *task.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return task, runtime


def _make_writable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


# --- the data -------------------------------------------------------------------------

USERS, ARTICLES, TAGS, COMMENTS = 50, 1000, 30, 20
# Path parameters of the routes, filled from the seeded data: the first article (it has
# the comments) and its author. The viewer is user 1 (author0), who follows ten authors.
PARAMETERS = {"slug": "article-0", "username": "author0"}
VIEWER_ID = 1


def seed(url: str) -> None:
    """A migrated database with a realistic amount of data."""
    engine = create_engine(url)
    with engine.connect() as connection:
        upgrade(connection)
    now = tables.utcnow()
    with engine.begin() as connection:
        connection.execute(insert(tables.users), [
            {"username": f"author{i}", "email": f"author{i}@example.com", "password_hash": "x",
             "bio": f"bio {i}", "image": None, "created_at": now, "updated_at": now}
            for i in range(USERS)
        ])  # fmt: skip
        connection.execute(insert(tables.tags), [{"name": f"tag{i}"} for i in range(TAGS)])
        connection.execute(insert(tables.articles), [
            {"slug": f"article-{i}", "title": f"Article {i}", "description": "About it",
             "body": "Lorem ipsum dolor sit amet. " * 40, "author_id": 1 + i % USERS,
             "created_at": now, "updated_at": now}
            for i in range(ARTICLES)
        ])  # fmt: skip
        connection.execute(insert(tables.article_tags), [
            {"article_id": 1 + i, "tag_id": 1 + (i + k) % TAGS}
            for i in range(ARTICLES) for k in range(3)
        ])  # fmt: skip
        connection.execute(insert(tables.comments), [
            {"body": f"Comment {i}", "article_id": 1, "author_id": 1 + i % USERS,
             "created_at": now, "updated_at": now}
            for i in range(COMMENTS)
        ])  # fmt: skip
        connection.execute(insert(tables.favorites), [
            {"user_id": 1 + u, "article_id": 1 + a} for u in range(USERS) for a in range(0, 40, 3)
        ])  # fmt: skip
        connection.execute(insert(tables.follows), [
            {"follower_id": VIEWER_ID, "followed_id": 2 + i} for i in range(10)
        ])  # fmt: skip
        writes.seed_writer(connection)
        if engine.dialect.name != "sqlite":
            # Fresh statistics, as a database in service has: MySQL plans on them.
            connection.execute(text(f"ANALYZE TABLE {', '.join(tables.metadata.tables)}"))
    engine.dispose()


def _drop_bench_database() -> None:
    admin = create_engine(MARIADB_ADMIN_URL)
    with admin.begin() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {MARIADB_DATABASE}"))
    admin.dispose()


# Each seeded backend's URL, for the bench's own writes around a write route's runs.
BACKEND_URLS: dict[str, str] = {}


def seeded_backends(backends: list[str]) -> dict[str, dict[str, str]]:
    """Each backend seeded, and the environment that points a process at it."""
    prepared: dict[str, dict[str, str]] = {}
    if "sqlite" in backends:
        path = WORK / "bench.db"
        path.unlink(missing_ok=True)
        BACKEND_URLS["sqlite"] = f"sqlite:///{path}"
        seed(BACKEND_URLS["sqlite"])
        prepared["sqlite"] = {"DATABASE_URL": f"sqlite:///{path}"}
    if "mysql" in backends:
        admin = create_engine(MARIADB_ADMIN_URL)
        with admin.begin() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {MARIADB_DATABASE}"))
            connection.execute(
                text(
                    f"CREATE DATABASE {MARIADB_DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                )
            )
        admin.dispose()
        atexit.register(_drop_bench_database)
        BACKEND_URLS["mysql"] = f"{MARIADB_ADMIN_URL}/{MARIADB_DATABASE}"
        seed(BACKEND_URLS["mysql"])
        # The production path: RDS Proxy settings, IAM auth, the token as the password.
        prepared["mysql"] = {
            "DB_HOST": "127.0.0.1", "DB_PORT": "3306", "DB_USER": "root",
            "DB_NAME": MARIADB_DATABASE, "DB_IAM_AUTH": "true", "DB_TLS": "false",
        }  # fmt: skip
    for backend, url in BACKEND_URLS.items():
        engine = create_engine(url)
        with engine.connect() as connection:
            prepared[backend]["BENCH_WRITER_ID"] = str(writes.writer_id(connection))
        engine.dispose()
    return prepared


# --- running one side -----------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    cold_ms: float
    warm_us: float
    rss_mib: float
    status: int
    body: str
    # A simulated SnapStart restore (side "restore"): the after-restore hooks, and then
    # the first request, in a forked copy of the initialised function.
    after_restore_us: float = 0.0
    restore_first_us: float = 0.0


def event_for(target: Target, token: str | None) -> dict[str, Any]:
    path = target.path
    for name in (p.strip("{}") for p in target.path.split("/") if p.startswith("{")):
        if name not in PARAMETERS:
            raise SystemExit(f"bench: {target.route}: no seeded value for {{{name}}}")
        path = path.replace("{" + name + "}", PARAMETERS[name])
    headers = {"Authorization": f"Token {token}"} if token else None
    return http_event(target.method, path, headers=headers, route=target.path)


def token_prefix(host: str, port: int | str, user: str) -> str:
    """How an IAM auth token for this database begins."""
    return f"{host}:{port}/?Action=connect&DBUser={user}&"


def run_side(
    side: str, target: Target, event: dict[str, Any] | list[dict[str, Any]], backend: str,
    env: dict[str, str], task: Path, runtime: Path, warm: int,
) -> Run:  # fmt: skip
    """One process serving `event` 1 + `warm` times, or each of a list of events once."""
    module, handler = {
        "function": (target.module, "handler"),
        "restore": (target.module, "handler"),
        "monolith": ("wsgi_handler", "handler"),
        "floor": ("floor", "handler"),
    }[side]
    if backend == "mysql":
        prefix = token_prefix(env["DB_HOST"], env["DB_PORT"], env["DB_USER"])
        token = {"kind": "driver", "local_password": "", "prefix": prefix}
    else:
        token = {"kind": "explicit", **SQLITE_TOKEN_TARGET,
                 "module": "floor_rds_iam" if side == "floor" else "app.platform.rds_iam",
                 "prefix": token_prefix(**SQLITE_TOKEN_TARGET)}  # fmt: skip
    job = {"package": str(task), "runtime": str(runtime), "module": module, "handler": handler,
           "token": token, "restore": side == "restore"}  # fmt: skip
    job |= {"events": event} if isinstance(event, list) else {"event": event, "warm": warm}
    env = env | {"PYTHONPATH": f"{task}{os.pathsep}{runtime}"}
    if side == "restore":
        env = env | {"SNAPSTART": "PublishedVersions"}
    started = time.monotonic()
    result = subprocess.run(
        # As Lambda does: the code, then the runtime's packages, by PYTHONPATH; -P keeps
        # this script's folder off the path, -s -S the site-packages, -B the bytecode.
        [sys.executable, "-P", "-s", "-S", "-B", str(ROOT / "bench" / "runner.py")],
        input=json.dumps(job), capture_output=True, text=True, env=env, cwd=task, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"{side} {target.route} on {backend} failed:\n{result.stderr[-3000:]}")
    out = json.loads(result.stdout.strip().splitlines()[-1])
    if out.get("failed"):
        raise RuntimeError(f"{side} {target.route} on {backend}: warm answers {out['failed']}")
    restored = out.get("restored") or {}
    if restored and restored.get("value") != out["status"]:
        raise RuntimeError(f"restore {target.route} on {backend}: {restored} vs {out['status']}")
    return Run(
        cold_ms=(out["first_response"] - started) * 1000,
        warm_us=statistics.median(out["warm_us"]) if out["warm_us"] else 0.0,
        rss_mib=out["rss_kib"] / 1024,
        status=out["status"],
        body=out["body"],
        after_restore_us=float(restored.get("after_restore_us", 0.0)),
        restore_first_us=float(restored.get("first_request_us", 0.0)),
    )


def base_env(task: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "APP_ENV": "dev",
        "JWT_SECRET": JWT_SECRET,
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        # Lambda sets this; Powertools reads it to know it runs on Lambda.
        "LAMBDA_TASK_ROOT": str(task),
        "AWS_REGION": "eu-west-1",
        **FAKE_CREDENTIALS,
        "POWERTOOLS_SERVICE_NAME": "conduit",
        "POWERTOOLS_METRICS_NAMESPACE": "Conduit",
        # No X-Ray daemon here (a package that still carries an SDK tracer skips it).
        "POWERTOOLS_TRACE_DISABLED": "true",
        "LOG_LEVEL": "INFO",
        # Deployed stages require the export settings; nothing here talks to AWS.
        "EXPORTS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/bench",
        "EXPORTS_BUCKET": "bench-exports",
        "EXPORTS_KMS_KEY_ID": "alias/bench",
    }


# --- the run --------------------------------------------------------------------------


def same_answer(first: Run, second: Run) -> bool:
    return (first.status, json.loads(first.body)) == (second.status, json.loads(second.body))


_bench_engines: dict[str, Any] = {}


def _bench_engine(backend: str) -> Any:
    if backend not in _bench_engines:
        _bench_engines[backend] = create_engine(BACKEND_URLS[backend])
    return _bench_engines[backend]


def write_events(target: Target, backend: str, token: str, count: int) -> list[dict[str, Any]]:
    """`count` requests to a write route by the writer, each valid in turn (what they need
    is put in place now, untimed)."""
    with _bench_engine(backend).begin() as connection:
        requests = writes.prepare(connection, target.route, count)
    headers = {"Authorization": f"Token {token}"}
    return [http_event(target.method, path, headers=headers, body=body, route=target.path)
            for path, body in requests]  # fmt: skip


def undo_writes(backend: str) -> None:
    with _bench_engine(backend).begin() as connection:
        writes.undo(connection)


def check_write(
    target: Target, backend: str, env: dict[str, str], token: str, task: Path, runtime: Path
) -> None:
    """Before anything is timed: one request to a write route succeeds on every side, with
    the same status from the function and the monolith."""
    statuses = {}
    for side in ("function", "monolith", "floor"):
        events = write_events(target, backend, token, 1)
        try:
            answer = run_side(side, target, events, backend, env, task, runtime, 0)
        finally:
            undo_writes(backend)
        if answer.status >= 300:
            raise SystemExit(f"bench: {target.route} on {backend}: {side} answers "
                             f"{answer.status} {answer.body[:300]}")  # fmt: skip
        statuses[side] = answer.status
    if statuses["function"] != statuses["monolith"]:
        raise SystemExit(f"bench: {target.route} on {backend}: the function and the monolith "
                         f"answer {statuses['function']} and {statuses['monolith']}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    # Sized so that the whole run (30 route-backend cells, four sides each, plus packaging
    # and the checks before timing) stays within 10 minutes on 2 shared cores.
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--warm", type=int, default=60)
    parser.add_argument(
        "--write-warm", type=int, default=30, help="warm invocations of a write route"
    )
    parser.add_argument("--backends", default="sqlite,mysql")
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--zip", type=Path, help="measure this packaged zip instead of packaging")
    parser.add_argument("--output-dir", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--seed", type=int, default=None, help="of the shuffle")
    args = parser.parse_args(argv)
    began = time.monotonic()

    routes = targets()
    WORK.mkdir(parents=True, exist_ok=True)
    archive = args.zip or package(args.stage)
    task, runtime = unpack(archive)
    backends = seeded_backends(args.backends.split(","))
    token = TokenIssuer(JWT_SECRET, 3600).issue(VIEWER_ID)
    writer_tokens = {
        backend: TokenIssuer(JWT_SECRET, 3600).issue(int(env["BENCH_WRITER_ID"]))
        for backend, env in backends.items()
    }

    # Each route's event: anonymous, unless the function asks for credentials. Both
    # answers must agree and succeed before anything is timed.
    events: dict[tuple[str, str], dict[str, Any]] = {}
    for backend, backend_env in backends.items():
        env = base_env(task) | backend_env
        for target in routes:
            if target.kind == "write":
                check_write(target, backend, env, writer_tokens[backend], task, runtime)
                continue
            event = event_for(target, None)
            answer = run_side("function", target, event, backend, env, task, runtime, 0)
            if answer.status == 401:
                event = event_for(target, token)
                answer = run_side("function", target, event, backend, env, task, runtime, 0)
            monolith = run_side("monolith", target, event, backend, env, task, runtime, 0)
            if not same_answer(answer, monolith):
                raise SystemExit(f"bench: {target.route} on {backend}: the function and the "
                                 f"monolith answer differently")  # fmt: skip
            if answer.status >= 300:
                raise SystemExit(
                    f"bench: {target.route} on {backend}: {answer.status} {answer.body[:300]}"
                )
            events[(backend, target.route)] = event

    shuffle = random.Random(args.seed)  # noqa: S311 - an order, not a secret
    runs: dict[tuple[str, str, str], list[Run]] = {}
    for round_number in range(args.rounds):
        # The (backend, route) cells in a shuffled order, and the sides of each one after
        # another, in a shuffled order too: the processes a ratio compares run within
        # seconds of each other, under the same load (a round takes about a minute).
        cells = [(b, t) for b in backends for t in routes]
        shuffle.shuffle(cells)
        jobs = [(b, t, s) for b, t in cells for s in shuffle.sample(SIDES, len(SIDES))]
        for backend, target, side in jobs:
            env = base_env(task) | backends[backend] | {"AWS_LAMBDA_FUNCTION_NAME": f"bench-{side}"}
            if target.kind == "read":
                run = run_side(side, target, events[(backend, target.route)], backend, env, task,
                               runtime, args.warm)  # fmt: skip
            else:
                # The first request, the warm ones, and the restored copy's first.
                count = 1 + args.write_warm + (side == "restore")
                requests = write_events(target, backend, writer_tokens[backend], count)
                try:
                    run = run_side(side, target, requests, backend, env, task, runtime, 0)
                finally:
                    undo_writes(backend)
            runs.setdefault((backend, target.route, side), []).append(run)
        print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr)

    for engine in _bench_engines.values():
        engine.dispose()
    records, ratios = summarize(routes, list(backends), runs)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "results.json").write_text(
        json.dumps([asdict(r) for r in records], indent=2) + "\n"
    )
    table = markdown_table(records, ratios, routes, args, time.monotonic() - began)
    (args.output_dir / "results.md").write_text(table)
    (args.output_dir / "bench.svg").write_text(render_svg([asdict(r) for r in records]))
    print(table, end="")
    return 0


Ratios = dict[str, float]


def summarize(
    routes: list[Target], backends: list[str], runs: dict[tuple[str, str, str], list[Run]]
) -> tuple[list[Record], dict[tuple[str, str], Ratios]]:
    records, ratios = [], {}
    for backend in backends:
        for target in routes:
            fn, mono, floor, restored = (runs[(backend, target.route, s)] for s in SIDES)

            def median(values: list[float]) -> float:
                return round(statistics.median(values), 1)

            records.append(Record(
                route=target.route, function=target.function, backend=backend,
                cold_ms=median([r.cold_ms for r in fn]),
                monolith_cold_ms=median([r.cold_ms for r in mono]),
                floor_cold_ms=median([r.cold_ms for r in floor]),
                warm_us=median([r.warm_us for r in fn]),
                monolith_warm_us=median([r.warm_us for r in mono]),
                floor_warm_us=median([r.warm_us for r in floor]),
                rss_mib=median([r.rss_mib for r in fn]),
                monolith_rss_mib=median([r.rss_mib for r in mono]),
                restore_ms=median([(r.after_restore_us + r.restore_first_us) / 1000
                                   for r in restored]),
                restore_first_us=median([r.restore_first_us for r in restored]),
            ))  # fmt: skip
            per_round = list(zip(fn, mono, floor, strict=True))
            ratios[(backend, target.route)] = {
                name: round(statistics.median(pick(f, m, fl) for f, m, fl in per_round), 2)
                for name, pick in (
                    ("cold/mono", lambda f, m, fl: f.cold_ms / m.cold_ms),
                    ("cold/floor", lambda f, m, fl: f.cold_ms / fl.cold_ms),
                    ("warm/mono", lambda f, m, fl: f.warm_us / m.warm_us),
                    ("warm/floor", lambda f, m, fl: f.warm_us / fl.warm_us),
                    ("rss/mono", lambda f, m, fl: f.rss_mib / m.rss_mib),
                )
            }
            ratios[(backend, target.route)] |= {
                "restore/cold": round(statistics.median(
                    (r.after_restore_us + r.restore_first_us) / 1000 / f.cold_ms
                    for f, r in zip(fn, restored, strict=True)), 2),
                "first/warm": round(statistics.median(
                    r.restore_first_us / r.warm_us for r in restored), 2),
            }  # fmt: skip
    return records, ratios


def markdown_table(
    records: list[Record], ratios: dict[tuple[str, str], Ratios], routes: list[Target],
    args: Any, seconds: float,
) -> str:  # fmt: skip
    kinds = {t.route: t.kind for t in routes}
    lines = [
        f"cold: process start to first response (ms), median of {args.rounds} rounds; warm: "
        f"median invocation (us) over {args.warm} per process ({args.write_warm} for a write, "
        "each a request of its own); RSS: peak after the warm run "
        "(MiB). Ratios: the median of each round's ratio (function / other side).",
        "",
        "| backend | route | cold ms fn / mono / floor | cold xmono | cold xfloor | "
        "warm µs fn / mono / floor | warm xmono | warm xfloor | RSS MiB fn / mono | RSS xmono "
        "| restore ms | restore xcold | first xwarm | targets |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    misses = 0
    for r in records:
        q = ratios[(r.backend, r.route)]
        limits = TARGETS[kinds[r.route]]
        values = (q["cold/mono"], q["cold/floor"], q["warm/mono"], q["warm/floor"], q["rss/mono"],
                  q["restore/cold"], q["first/warm"])  # fmt: skip
        marks = [
            "ok" if value <= limit else "MISS"
            for value, limit in zip(values, (*limits, *RESTORE_TARGETS), strict=True)
        ]
        misses += marks.count("MISS")
        lines.append(
            f"| {r.backend} | `{r.route}` | {r.cold_ms:.0f} / {r.monolith_cold_ms:.0f} / "
            f"{r.floor_cold_ms:.0f} | {q['cold/mono']:.2f} | {q['cold/floor']:.2f} | "
            f"{r.warm_us:.0f} / {r.monolith_warm_us:.0f} / {r.floor_warm_us:.0f} | "
            f"{q['warm/mono']:.2f} | {q['warm/floor']:.2f} | {r.rss_mib:.1f} / "
            f"{r.monolith_rss_mib:.1f} | {q['rss/mono']:.2f} | {r.restore_ms:.1f} | "
            f"{q['restore/cold']:.2f} | {q['first/warm']:.2f} | {' '.join(marks)} |"
        )
    read, write = TARGETS["read"], TARGETS["write"]
    lines += [
        "",
        f"targets (ok/MISS in column order): reads cold ≤ {read[0]}x monolith and ≤ {read[1]}x "
        f"floor, warm ≤ {read[2]}x monolith and ≤ {read[3]}x floor, RSS ≤ {read[4]}x monolith; "
        f"writes {write[0]}, {write[1]}, {write[2]}, {write[3]}, {write[4]}; after a simulated "
        f"SnapStart restore (a fork: Lambda also pages the snapshot in, which a fork does not), "
        f"hooks + first request ≤ {RESTORE_TARGETS[0]}x the cold start and the first request "
        f"≤ {RESTORE_TARGETS[1]}x a warm one. "
        f"{misses} missed. Took {seconds:.0f} s.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
