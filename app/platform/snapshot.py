"""Lambda SnapStart: what runs before the snapshot and after each restore.

With SnapStart (staging and prod, `SNAPSTART` set by the dedicated-functions plugin),
Lambda runs a function's init once per published version, snapshots the memory and
restores every later execution environment from that snapshot. So whatever init leaves
behind is shared by every restored copy, and must be safe to share:

- no database connection: a TCP connection is dead after a restore. Nothing connects
  during init, and the pool is disposed before the snapshot all the same;
- no IAM auth token or cached credential: each restore drops them (a token signed at
  init would be an hour old in a copy restored an hour later);
- no shared random state: `random` is reseeded after each restore (the `secrets` and
  `uuid` modules read the OS's generator and need nothing);
- logs that do not depend on AWS_LAMBDA_LOG_GROUP_NAME / AWS_LAMBDA_LOG_STREAM_NAME,
  which SnapStart leaves unset (app.platform.observability reads neither).

Code that makes such a thing at init registers a hook here; `install()` hands the hooks
to the runtime's `snapshot_restore_py` (present in the managed python3.13 runtime) when it
is there, and is a no-op elsewhere. `prime()` does, before the snapshot, what the first
request would otherwise pay for: lazily imported modules, the ORM's mappers, the SQL of
the services the function imported, compiled for MySQL. The engine's own statement cache
can only be filled after the restore, once its dialect has met the server:
`fill_statement_cache()`, called by the reconnect hook (app.platform.db), compiles that
SQL into it, so the first request compiles none of it. A fork stands in for a restore in
`bench/runner.py` and the tests (tests/integration/test_snapshot_restore.py).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import random
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine, Executable

Hook = Callable[[], None]

_before_snapshot: list[Hook] = []
_after_restore: list[Hook] = []
_installed = False

# What the first request of a dedicated function imports lazily: the token module (the
# first token), the MySQL driver and dialect (the first connection).
LAZY_IMPORTS = ("app.core.tokens", "pymysql", "sqlalchemy.dialects.mysql.pymysql")


def enabled() -> bool:
    """SnapStart is on for this function (the plugin sets SNAPSTART on such functions)."""
    return bool(os.environ.get("SNAPSTART"))


def before_snapshot(hook: Hook) -> Hook:
    """Run `hook` before the snapshot is taken (usable as a decorator)."""
    _before_snapshot.append(hook)
    return hook


def after_restore(hook: Hook) -> Hook:
    """Run `hook` after each restore, before the first request (usable as a decorator)."""
    _after_restore.append(hook)
    return hook


def run_before_snapshot() -> None:
    for hook in list(_before_snapshot):
        hook()


def run_after_restore() -> None:
    for hook in list(_after_restore):
        hook()


@after_restore
def reseed_random() -> None:
    random.seed()


def install() -> bool:
    """Hand the hooks to the Lambda runtime, once. False where there is no such runtime."""
    global _installed
    if _installed:
        return True
    try:
        import snapshot_restore_py  # type: ignore[import-not-found]
    except ImportError:
        return False
    snapshot_restore_py.register_before_snapshot(run_before_snapshot)
    snapshot_restore_py.register_after_restore(run_after_restore)
    _installed = True
    return True


def _statements(modules: Iterable[str]) -> list[Executable]:
    from sqlalchemy.sql.base import Executable

    found: list[Executable] = []
    for name in modules:
        module = sys.modules.get(name)
        for value in vars(module).values() if module is not None else ():
            if isinstance(value, Executable):
                found.append(value)
    return found


def _ours(value: object) -> bool:
    return str(getattr(value, "__module__", "") or getattr(value, "__name__", "")).startswith(
        "app."
    )


def _held(value: object) -> list[Executable]:
    """The statements an object keeps in its attributes, in containers one level down."""
    from sqlalchemy.sql.base import Executable

    held: list[Executable] = []
    for attribute in getattr(value, "__dict__", {}).values():
        items = attribute.values() if isinstance(attribute, dict) else [attribute]
        for item in items:
            for element in item if isinstance(item, tuple | list) else (item,):
                if isinstance(element, Executable):
                    held.append(element)
    return held


def reachable_statements(module_name: str) -> list[Executable]:
    """The module-level statements a handler module can reach: its code and that of every
    function of this project it names, followed by name through the modules, classes and
    objects of this project they name (and the classes of the objects those objects hold),
    down to the statements they name or those objects keep (a cache of statements built at
    import). A name is looked up wherever it could resolve, so this may find a statement
    too many; one built per call is found by none, and is compiled by its first use."""
    import inspect
    import types

    from sqlalchemy.sql.base import Executable

    spec = importlib.util.find_spec(module_name)
    code = spec.loader.get_code(module_name) if spec and spec.loader else None  # type: ignore[attr-defined]
    if code is None:
        return []
    scopes: list[object] = []  # where a name may resolve
    found: dict[int, Executable] = {}
    seen: set[types.CodeType] = set()
    met: set[int] = set()  # the objects of ours met so far
    stack: list[tuple[types.CodeType, object]] = [(code, sys.modules[module_name])]
    while stack:
        current, home = stack.pop()  # a code object, and the module it belongs to
        if current in seen:
            continue
        seen.add(current)
        if home not in scopes:
            scopes.append(home)
        stack.extend((c, home) for c in current.co_consts if isinstance(c, types.CodeType))
        for name in current.co_names:
            imported = sys.modules.get(name)  # `import a.b` / `from a.b import c` in a body
            if imported is not None and _ours(imported) and imported not in scopes:
                scopes.append(imported)
            for scope in list(scopes):
                value = inspect.unwrap(getattr(scope, name, None))  # type: ignore[arg-type]
                if isinstance(value, Executable):
                    found[id(value)] = value
                elif isinstance(value, types.FunctionType) and _ours(value):
                    stack.append((value.__code__, sys.modules[value.__module__]))
                elif isinstance(value, (types.ModuleType, type)) and _ours(value):
                    if value not in scopes:
                        scopes.append(value)
                elif _ours(type(value)) and id(value) not in met:  # an object of ours
                    met.add(id(value))
                    for held in _held(value):  # statements it built and keeps (a cache)
                        found[id(held)] = held
                    # Its class, and those of the objects of ours it holds (a runtime's
                    # database): their methods are named through it.
                    for part in (value, *getattr(value, "__dict__", {}).values()):
                        if _ours(type(part)) and type(part) not in scopes:
                            scopes.append(type(part))
    return list(found.values())


# What prime() found: each statement, with the names of the parameters it is executed
# with (its bound parameters that have no value of their own).
_primed: list[tuple[Executable, tuple[str, ...]]] = []


def _parameter_names(statement: Executable) -> tuple[str, ...]:
    cache_key = statement._generate_cache_key()  # type: ignore[attr-defined]
    if cache_key is None:
        return ()
    return tuple(sorted({bind.key for bind in cache_key.bindparams if bind.required}))


def prime(entry: str | None = None) -> int:
    """Before the snapshot, warm what the first request would pay for, without touching the
    database: for a function, the statements its handler module `entry` can reach; for the
    monolith (no entry), every service's. Returns how many statements were compiled."""
    for name in LAZY_IMPORTS:
        importlib.import_module(name)
    # The first token a copy verifies would pay for compiling the token module's patterns
    # and its first HMAC: a throwaway token, signed with a throwaway secret and then
    # dropped, pays for them here.
    from app.core.tokens import TokenIssuer

    throwaway = TokenIssuer("snapshot-priming-" + "x" * 32, 60)
    throwaway.verify(throwaway.issue(1))
    if "sqlalchemy.orm" in sys.modules:
        from sqlalchemy.orm import configure_mappers

        configure_mappers()
    from sqlalchemy.dialects import mysql

    dialect = mysql.pymysql.dialect()
    if entry is None:
        statements = _statements(n for n in sys.modules if n.startswith("app.core.services."))
    else:
        statements = reachable_statements(entry)
    for statement in statements:
        statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    # The cache keys are made once per statement and kept on it (no dialect involved).
    _primed[:] = [(statement, _parameter_names(statement)) for statement in statements]
    return len(statements)


def fill_statement_cache(engine: Engine) -> int:
    """After a restore, once the engine's dialect has met the server (its first connection
    ran the dialect's initialisation: server version, SQL mode, quoting): compile what
    prime() found into the engine's statement cache, under the key its first execution
    looks up, so that the first request finds it compiled. No database round trip.
    Before the snapshot this could not be done: the dialect had not met the server, and
    what it compiles depends on what it learns then. Returns how many were compiled."""
    from sqlalchemy.sql import compiler

    from app.core.services._common import MANY_ROWS

    dialect = engine.dialect
    cache = engine._compiled_cache
    if cache is None or not dialect._supports_statement_cache:
        return 0
    compiled = 0
    for statement, names in _primed:
        # As Connection._execute_clauseelement compiles a statement executed with one set
        # of parameters named `names`, on a connection with no schema translation; one
        # marked MANY_ROWS also as it compiles it executed with several (an executemany:
        # the tag links of an article).
        many_rows = statement.get_execution_options().get(MANY_ROWS, False)
        for many in (False, True) if many_rows else (False,):
            statement._compile_w_cache(
                dialect,
                compiled_cache=cache,
                column_keys=list(names),
                for_executemany=many,
                schema_translate_map=None,
                linting=dialect.compiler_linting | compiler.WARN_LINTING,
            )
            compiled += 1
    return compiled


def init_done(entry: str | None = None) -> None:
    """End of a SnapStart function's init (`entry`: its handler module; None for the
    monolith): prime, and register the hooks with the runtime."""
    if enabled():
        prime(entry)
        install()


def fork_restore(first_request: Callable[[], object], copies: int = 1) -> list[dict[str, object]]:
    """A local stand-in for snapshot and restore, for the bench and the tests: run the
    before-snapshot hooks here, then fork `copies` children; each runs the after-restore
    hooks and `first_request()`, and reports what that cost and what it returned (which
    must be JSON). A fork is not a real restore: Lambda also pages the snapshot's memory in.
    """
    import json
    import time

    run_before_snapshot()
    results: list[dict[str, object]] = []
    for _ in range(copies):
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # the restored copy
            os.close(reader)
            status = 0
            try:
                start = time.perf_counter_ns()
                run_after_restore()
                restored = time.perf_counter_ns()
                value = first_request()
                served = time.perf_counter_ns()
                report = {
                    "after_restore_us": (restored - start) / 1000,
                    "first_request_us": (served - restored) / 1000,
                    "value": value,
                }
            except BaseException as error:
                report, status = {"error": f"{type(error).__name__}: {error}"}, 1
            with os.fdopen(writer, "w") as out:
                out.write(json.dumps(report, default=str))
            os._exit(status)
        os.close(writer)
        with os.fdopen(reader) as incoming:
            report = json.loads(incoming.read() or "{}")
        os.waitpid(pid, 0)
        if "error" in report:
            raise RuntimeError(f"restored copy failed: {report['error']}")
        results.append(report)
    return results
