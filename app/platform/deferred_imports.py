"""Two standard-library packages that SQLAlchemy imports and a synchronous function never
uses, kept out of a function's cold start.

SQLAlchemy 2.1 imports `asyncio` (for its asyncio extension and async drivers) and
`importlib.metadata` (for dialects named by entry points) while it is itself imported,
and again when an engine loads its dialect. On this machine that is about 40 ms of a
dedicated function's cold start (`python -X importtime`): asyncio brings ssl, subprocess
and concurrent.futures with it, and importlib.metadata brings zipfile and
importlib.resources. A function talks to its database through a synchronous driver, with
a dialect SQLAlchemy registers itself, so it runs neither.

`install()`, called before SQLAlchemy is imported, puts a stand-in module in
`sys.modules` for each; `end()`, called when init is over (`app.init_finished`), takes
them out again. From then on an import of either package is an ordinary one. Only the
modules imported in between (SQLAlchemy's) keep a stand-in, and it forwards every
attribute read to the real package, importing it first if nobody has. A read that needs
the real package before `end()` ends the stand-in's time early the same way.

Three names that SQLAlchemy reads do not need the package while it is not imported:
`asyncio.iscoroutine` (sqlalchemy/util/concurrency.py keeps a reference at import), and
`asyncio.CancelledError` and `asyncio.TimeoutError` (read each time a database error is
classified). A stand-in serves them from `asyncio.coroutines` and `asyncio.exceptions`,
small modules with no imports of their own package, loaded under it at `install()`. While
the stand-in is in `sys.modules`, the standard library's `logging` would ask it for the
current task as it makes each record, so `install()` turns that off
(`logging.logAsyncioTasks`) until `end()`.

Between `install()` and `end()`, code that imports a submodule of asyncio before the
package itself (`import asyncio.tasks`) would find it half made: nothing imported during
this project's init does (SQLAlchemy, PyMySQL, Powertools). A package already
imported (by the runtime, or by code imported earlier) is left as it is. The Lambda
runtime's bootstrap (awslambdaric) imports neither before it imports the handler module.
Installed on Lambda only (`app/__init__.py`); bench/floor.py uses a copy.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import types
from typing import Any

PACKAGES = ("asyncio", "importlib.metadata")
# Per package: the names a stand-in serves without the package, and the small submodule
# that defines each.
_SMALL_PARTS = {
    "asyncio": {
        "iscoroutine": "asyncio.coroutines",
        "CancelledError": "asyncio.exceptions",
        "TimeoutError": "asyncio.exceptions",
    },
}
_parts: dict[str, types.ModuleType] = {}  # the small submodules, by name
_log_asyncio_tasks: list[bool] = []  # logging's setting before install()


class _StandIn(types.ModuleType):
    """A package's module object with nothing loaded: its spec, path and file."""

    def __getattr__(self, name: str) -> Any:
        package = self.__name__
        real = sys.modules.get(package)
        if real is None or real is self:  # the real package is not imported
            part = _SMALL_PARTS.get(package, {}).get(name)
            if part is not None and part in _parts:
                return getattr(_parts[part], name)
            real = _import_real(package)
        return getattr(real, name)


def _retire(name: str) -> None:
    """Take the stand-in for `name`, and what was loaded under it, out of sys.modules."""
    stand_in = sys.modules.get(name)
    if type(stand_in) is not _StandIn:
        return
    sys.modules.pop(name, None)
    for loaded_under_it in [key for key in sys.modules if key.startswith(name + ".")]:
        sys.modules.pop(loaded_under_it, None)
    parent, _, child = name.rpartition(".")
    if parent and getattr(sys.modules.get(parent), child, None) is stand_in:
        delattr(sys.modules[parent], child)
    if name == "asyncio" and _log_asyncio_tasks:
        logging.logAsyncioTasks = _log_asyncio_tasks.pop()  # type: ignore[attr-defined]


def _import_real(name: str) -> types.ModuleType:
    _retire(name)
    return importlib.import_module(name)


def _stand_in(name: str) -> bool:
    if name in sys.modules:
        return False
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return False
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _StandIn
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        # `from importlib import metadata` reads the attribute of the parent package.
        setattr(sys.modules[parent], child, module)
    for part in set(_SMALL_PARTS.get(name, {}).values()):
        _parts[part] = importlib.import_module(part)  # found through the stand-in's path
        module.__dict__.pop(part.rpartition(".")[2], None)  # read through it, not kept
    return True


def install() -> None:
    """Stand in for PACKAGES that are not imported yet; before SQLAlchemy is imported."""
    for name in PACKAGES:
        if _stand_in(name) and name == "asyncio":
            _log_asyncio_tasks.append(getattr(logging, "logAsyncioTasks", True))
            logging.logAsyncioTasks = False  # type: ignore[attr-defined]  # not in the stubs


def end() -> None:
    """Init is over: the stand-ins leave sys.modules (the modules that hold one keep it)."""
    for name in PACKAGES:
        _retire(name)


def standing_in(name: str) -> bool:
    """Whether a stand-in for the package `name` is in sys.modules."""
    return type(sys.modules.get(name)) is _StandIn
