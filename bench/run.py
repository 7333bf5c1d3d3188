"""make bench: what each peeled route costs on Lambda, dedicated function vs monolith.

It measures what Lambda would run: the zip `sls package --stage dev` builds (with its
bytecode), unpacked into a read-only folder, imported by a fresh `python -I -S -B` that
sees nothing but that folder and the standard library. For every peeled route:

- cold: process start → first response served (import + init + first request), the
  median of --cold-runs fresh interpreters, for the dedicated function, for the monolith
  serving the same event through serverless-wsgi, and for the floor (bench/floor.py: only
  SQLAlchemy + the driver running the route's main query);
- warm: the median time per invocation over --warm invocations in one interpreter.

Both sides read the same SQLite database, seeded here. Also: the WSGI adapter alone,
serverless-wsgi vs apig-wsgi, turning the same event into the same Flask response.
Prints a table and writes bench/results.json (one record per route) and bench/adapter.json.
"""

from __future__ import annotations

import argparse
import json
import os
import py_compile
import shutil
import stat
import statistics
import subprocess
import sys
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.core import models  # noqa: E402
from app.core.tokens import TokenIssuer  # noqa: E402
from app.platform.schema import upgrade  # noqa: E402
from tests.lambda_support import LambdaContext, http_event  # noqa: E402

WORK = ROOT / "bench" / "work"
JWT_SECRET = "bench-secret-" + "x" * 32
SLUG = "article-0"
AUTHOR = "author0"

# route, the function that took it over, its module, and the request sent.
ROUTES = [
    ("GET /api/tags", "listTags", "app.functions.list_tags", ("/api/tags", None, False)),
    ("GET /api/articles", "listArticles", "app.functions.list_articles",
     ("/api/articles", {"limit": "20"}, False)),
    ("GET /api/articles/feed", "getFeed", "app.functions.feed",
     ("/api/articles/feed", None, True)),
    ("GET /api/articles/{slug}", "getArticle", "app.functions.get_article",
     (f"/api/articles/{SLUG}", None, False)),
    ("GET /api/articles/{slug}/comments", "listComments", "app.functions.list_comments",
     (f"/api/articles/{SLUG}/comments", None, False)),
    ("GET /api/profiles/{username}", "getProfile", "app.functions.get_profile",
     (f"/api/profiles/{AUTHOR}", None, True)),
]  # fmt: skip

TARGET_COLD_VS_MONOLITH = 0.60
TARGET_COLD_VS_FLOOR = 1.5
TARGET_WARM_VS_MONOLITH = 0.60


@dataclass
class Record:
    route: str
    function: str
    cold_ms: float
    monolith_cold_ms: float
    floor_cold_ms: float
    warm_us: float
    monolith_warm_us: float
    floor_warm_us: float
    cold_vs_monolith: float
    cold_vs_floor: float
    warm_vs_monolith: float


def package(stage: str) -> Path:
    out = WORK / "package"
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "package-stage.sh"), stage, str(out)], check=True
    )
    return out / "conduit.zip"


def unpack(archive: Path) -> Path:
    """The zip as Lambda lays it out in /var/task, plus the floor handler; read-only."""
    task = WORK / "task"
    if task.exists():
        _make_writable(task)
        shutil.rmtree(task)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(task)
    shutil.copy(ROOT / "bench" / "floor.py", task / "floor.py")
    py_compile.compile(
        str(task / "floor.py"),
        cfile=str(task / "__pycache__" / f"floor.{sys.implementation.cache_tag}.pyc"),
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    for path in [task, *task.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return task


def _make_writable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def seed(path: Path) -> str:
    """A fresh SQLite database with a realistic amount of data."""
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.connect() as connection:
        upgrade(connection)
    now = models.utcnow()
    with Session(engine) as session, session.begin():
        session.execute(
            insert(models.User),
            [
                {"username": f"author{i}", "email": f"author{i}@example.com",
                 "password_hash": "x", "bio": f"bio {i}", "image": None,
                 "created_at": now, "updated_at": now}
                for i in range(50)
            ],
        )  # fmt: skip
        session.execute(insert(models.Tag), [{"name": f"tag{i}"} for i in range(30)])
        session.execute(
            insert(models.Article),
            [
                {"slug": f"article-{i}", "title": f"Article {i}", "description": "About it",
                 "body": "Lorem ipsum dolor sit amet. " * 40, "author_id": 1 + i % 50,
                 "created_at": now, "updated_at": now}
                for i in range(1000)
            ],
        )  # fmt: skip
        session.execute(
            insert(models.article_tags),
            [
                {"article_id": 1 + i, "tag_id": 1 + (i + k) % 30}
                for i in range(1000)
                for k in range(3)
            ],
        )
        session.execute(
            insert(models.Comment),
            [
                {"body": f"Comment {i}", "article_id": 1, "author_id": 1 + i % 50,
                 "created_at": now, "updated_at": now}
                for i in range(20)
            ],
        )  # fmt: skip
        session.execute(
            insert(models.favorites),
            [{"user_id": 1 + u, "article_id": 1 + a} for u in range(50) for a in range(0, 40, 3)],
        )
        session.execute(
            insert(models.follows), [{"follower_id": 1, "followed_id": 2 + i} for i in range(10)]
        )
    engine.dispose()
    return url


def run_job(task: Path, env: dict[str, str], module: str, event: dict[str, Any], warm: int) -> Any:
    job = {"package": str(task), "module": module, "handler": "handler", "event": event,
           "warm": warm}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-B", str(ROOT / "bench" / "runner.py")],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        env=env,
        cwd=task,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def cold_ms(
    task: Path, env: dict[str, str], module: str, event: dict[str, Any], runs: int
) -> float:
    """Median wall time from process start to the first response served."""
    samples = []
    for _ in range(runs):
        tick = time.perf_counter()
        run_job(task, env, module, event, warm=0)
        samples.append((time.perf_counter() - tick) * 1000)
    return statistics.median(samples)


def warm_us(task: Path, env: dict[str, str], module: str, event: dict[str, Any], count: int) -> Any:
    result = run_job(task, env, module, event, warm=count)
    return statistics.median(result["warm_us"]), result


def adapter_comparison(invocations: int) -> dict[str, float]:
    """serverless-wsgi vs apig-wsgi: the same event, the same Flask response."""
    import apig_wsgi
    import serverless_wsgi
    from flask import Flask, Response

    app = Flask("adapter")
    body = json.dumps({"tags": [f"tag{i}" for i in range(30)]})

    @app.get("/api/tags")
    def tags() -> Response:
        return Response(body, content_type="application/json; charset=utf-8")

    event = http_event("GET", "/api/tags", headers={"Authorization": "Token abc"})
    apig = apig_wsgi.make_lambda_handler(app)
    timings: dict[str, float] = {}
    for name, call in (
        ("serverless_wsgi_us", lambda: serverless_wsgi.handle_request(app, event, LambdaContext())),
        ("apig_wsgi_us", lambda: apig(event, LambdaContext())),
    ):
        response = call()
        assert response["statusCode"] == 200 and json.loads(response["body"]) == json.loads(body)
        samples = []
        for _ in range(invocations):
            tick = time.perf_counter_ns()
            call()
            samples.append((time.perf_counter_ns() - tick) / 1000)
        timings[name] = statistics.median(samples)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cold-runs", type=int, default=10)
    parser.add_argument("--warm", type=int, default=1000)
    parser.add_argument("--adapter-invocations", type=int, default=1000)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--zip", type=Path, help="measure this packaged zip instead of packaging")
    parser.add_argument("--output-dir", type=Path, default=ROOT / "bench")
    args = parser.parse_args(argv)

    WORK.mkdir(parents=True, exist_ok=True)
    archive = args.zip or package(args.stage)
    task = unpack(archive)
    url = seed(WORK / "bench.db")
    token = TokenIssuer(JWT_SECRET, 3600).issue(1)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "APP_ENV": "dev",
        "DATABASE_URL": url,
        "JWT_SECRET": JWT_SECRET,
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        # Lambda sets this; Powertools' Tracer reads it to know it runs on Lambda.
        "LAMBDA_TASK_ROOT": str(task),
        "AWS_REGION": "eu-west-1",
        "POWERTOOLS_SERVICE_NAME": "conduit",
        "POWERTOOLS_METRICS_NAMESPACE": "Conduit",
        # No X-Ray daemon here; the monolith carries no tracer either.
        "POWERTOOLS_TRACE_DISABLED": "true",
        "LOG_LEVEL": "INFO",
        # Deployed stages require the export settings; nothing here talks to AWS.
        "EXPORTS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/bench",
        "EXPORTS_BUCKET": "bench-exports",
        "EXPORTS_KMS_KEY_ID": "alias/bench",
    }

    records = []
    for route, function, module, (path, query, with_token) in ROUTES:
        headers = {"Authorization": f"Token {token}"} if with_token else None
        event = http_event("GET", path, query=query, headers=headers)
        cold = {m: cold_ms(task, env, m, event, args.cold_runs)
                for m in (module, "wsgi_handler", "floor")}  # fmt: skip
        warm = {
            m: warm_us(task, env, m, event, args.warm) for m in (module, "wsgi_handler", "floor")
        }
        dedicated, monolith = warm[module][1], warm["wsgi_handler"][1]
        if (dedicated["status"], json.loads(dedicated["body"])) != (
            monolith["status"],
            json.loads(monolith["body"]),
        ):
            raise SystemExit(f"{route}: the function and the monolith answer differently")
        if dedicated["status"] != 200:
            raise SystemExit(f"{route}: status {dedicated['status']}: {dedicated['body'][:300]}")
        records.append(
            Record(
                route=route,
                function=function,
                cold_ms=round(cold[module], 1),
                monolith_cold_ms=round(cold["wsgi_handler"], 1),
                floor_cold_ms=round(cold["floor"], 1),
                warm_us=round(warm[module][0], 1),
                monolith_warm_us=round(warm["wsgi_handler"][0], 1),
                floor_warm_us=round(warm["floor"][0], 1),
                cold_vs_monolith=round(cold[module] / cold["wsgi_handler"], 2),
                cold_vs_floor=round(cold[module] / cold["floor"], 2),
                warm_vs_monolith=round(warm[module][0] / warm["wsgi_handler"][0], 2),
            )
        )
        print(f"measured {route}", file=sys.stderr)

    adapter = adapter_comparison(args.adapter_invocations)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "results.json").write_text(
        json.dumps([asdict(r) for r in records], indent=2) + "\n"
    )
    (args.output_dir / "adapter.json").write_text(json.dumps(adapter, indent=2) + "\n")
    print_table(records, adapter, args)
    return 0


def print_table(records: list[Record], adapter: dict[str, float], args: Any) -> None:
    def mark(ok: bool) -> str:
        return "ok" if ok else "MISS"

    print(
        f"\ncold: median of {args.cold_runs} fresh interpreters, process start -> first "
        f"response (ms); warm: median of {args.warm} invocations (us)\n"
    )
    header = (
        f"{'route':<34} {'function':<13} {'cold':>7} {'mono':>7} {'floor':>7} "
        f"{'/mono':>6} {'/floor':>6} {'warm':>7} {'mono':>7} {'/mono':>6}  targets"
    )
    print(header)
    print("-" * len(header))
    for r in records:
        targets = " ".join(
            (
                mark(r.cold_vs_monolith <= TARGET_COLD_VS_MONOLITH),
                mark(r.cold_vs_floor <= TARGET_COLD_VS_FLOOR),
                mark(r.warm_vs_monolith <= TARGET_WARM_VS_MONOLITH),
            )
        )
        print(
            f"{r.route:<34} {r.function:<13} {r.cold_ms:>7.1f} {r.monolith_cold_ms:>7.1f} "
            f"{r.floor_cold_ms:>7.1f} {r.cold_vs_monolith:>6.2f} {r.cold_vs_floor:>6.2f} "
            f"{r.warm_us:>7.0f} {r.monolith_warm_us:>7.0f} {r.warm_vs_monolith:>6.2f}  {targets}"
        )
    print(
        f"\ntargets: cold <= {TARGET_COLD_VS_MONOLITH:.0%} of the monolith's, cold <= "
        f"{TARGET_COLD_VS_FLOOR}x the floor's, warm <= {TARGET_WARM_VS_MONOLITH:.0%} of the "
        "monolith's (ok/MISS in that order)"
    )
    print(
        f"adapter alone (median of {args.adapter_invocations}): serverless-wsgi "
        f"{adapter['serverless_wsgi_us']:.0f} us, apig-wsgi {adapter['apig_wsgi_us']:.0f} us "
        "per event -> Flask response"
    )


if __name__ == "__main__":
    sys.exit(main())
