"""Two standard-library packages that SQLAlchemy imports and a synchronous function never
uses, loaded on first use instead of at cold start.

SQLAlchemy 2.1 imports `asyncio` (for its asyncio extension and async drivers) and
`importlib.metadata` (for dialects named by entry points) while it is itself imported.
On this machine that is about 40 ms of a dedicated function's cold start (`python -X
importtime`): asyncio brings ssl, subprocess and concurrent.futures with it, and
importlib.metadata brings zipfile and importlib.resources. A function talks to its
database through a synchronous driver, with a dialect SQLAlchemy registers itself, so it
runs neither.

`install()` puts a stand-in module for each in `sys.modules`. The first attribute read
from a stand-in loads the real package into that same module object (as the standard
library's `importlib.util.LazyLoader` does), so code that imported it sees the real
package from then on. Two reads made while SQLAlchemy is imported are answered without
loading anything heavy:

- `asyncio.iscoroutine` (sqlalchemy/util/concurrency.py keeps a reference at import) is
  taken from `asyncio.coroutines`, the small module that defines it;
- the standard library's `logging` asks asyncio for the current task as it makes each
  record, whenever asyncio is in `sys.modules`; `install()` turns that off
  (`logging.logAsyncioTasks`): no asyncio task runs in a synchronous function.

A package already imported (by the runtime, or by code imported earlier) is left as it
is. The Lambda runtime's bootstrap (awslambdaric) imports neither before it imports the
handler module. Installed on Lambda only (`app/__init__.py`); bench/floor.py uses a copy.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import threading
import types
from typing import Any

PACKAGES = ("asyncio", "importlib.metadata")
# A name read from a stand-in before anything needs the package: served by the submodule
# that defines it, without loading the package.
_FROM_SUBMODULE = {("asyncio", "iscoroutine"): "asyncio.coroutines"}

_lock = threading.RLock()
_loading: set[str] = set()


class _Deferred(types.ModuleType):
    """A package not loaded yet: its spec, path and file, and nothing else."""

    def __getattr__(self, name: str) -> Any:
        spec = self.__spec__
        assert spec is not None and spec.loader is not None
        source = _FROM_SUBMODULE.get((spec.name, name))
        if source is not None:
            return getattr(importlib.import_module(source), name)
        with _lock:
            if spec.name in _loading:  # read by the package's own code as it loads
                raise AttributeError(f"partially loaded module {spec.name!r} has no {name!r}")
            if type(self) is _Deferred:
                _loading.add(spec.name)
                try:
                    spec.loader.exec_module(self)
                    self.__class__ = types.ModuleType  # type: ignore[assignment]
                finally:
                    _loading.discard(spec.name)
        return getattr(self, name)


def defer(name: str) -> bool:
    """Put a stand-in for the package `name` in sys.modules, unless it is imported
    already. True if it did."""
    if name in sys.modules:
        return False
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return False
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _Deferred
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        # `from importlib import metadata` reads the attribute of the parent package.
        setattr(sys.modules[parent], child, module)
    return True


def loaded(name: str) -> bool:
    """Whether the package `name` is imported and loaded (not a stand-in)."""
    module = sys.modules.get(name)
    return module is not None and type(module) is not _Deferred


def install() -> None:
    """Defer PACKAGES; to be called before SQLAlchemy is first imported."""
    logging.logAsyncioTasks = False  # type: ignore[attr-defined]  # Python 3.12+; not in the stubs
    for name in PACKAGES:
        defer(name)
