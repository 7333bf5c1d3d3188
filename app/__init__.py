"""Conduit: the core, the platform adapters and the dedicated Lambda functions.

Init hygiene on Lambda: importing a handler's modules and building its singletons makes
some hundred thousand objects, and the garbage collector would walk them all several
times over while they are still being made, although none is garbage. So from the first
import of this package in an execution environment (AWS_LAMBDA_FUNCTION_NAME set), the
collector's generation-0 threshold is raised far above what any init allocates: no
collection runs during init. Each handler module calls `init_finished()` once its
singletons exist: everything made so far is frozen (moved out of the collector's reach
for good) and the usual thresholds come back. A handler module that never calls it still
gets a collection every `_INIT_THRESHOLD` allocations, never an unbounded heap.

Also on Lambda, from before anything imports SQLAlchemy to the end of init: the
standard-library packages it imports for its asyncio support alone are not loaded
(app.platform.deferred_imports).
"""

from __future__ import annotations

import gc
import os
import sys

# The monolith's init allocates ~130 000 objects the collector tracks; a function's fewer.
_INIT_THRESHOLD = 2_000_000
_thresholds = gc.get_threshold()
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    if gc.get_threshold()[0] < _INIT_THRESHOLD:
        gc.set_threshold(_INIT_THRESHOLD, *_thresholds[1:])
    # Before SQLAlchemy is imported: what it imports for asyncio alone is not loaded.
    from app.platform import deferred_imports

    deferred_imports.install()


def init_finished() -> None:
    """End of init: on a SnapStart function, prime what the first request would load and
    register the snapshot hooks (app.platform.snapshot); end the deferred imports' stand-ins
    (app.platform.deferred_imports); then freeze what init made and let the collector run
    as usual again."""
    if os.environ.get("SNAPSTART"):
        from app.platform import snapshot

        # The module that called: a function's handler module primes what it can reach.
        caller = sys._getframe(1).f_globals.get("__name__", "")
        snapshot.init_done(caller if caller.startswith("app.functions.") else None)
    if "app.platform.deferred_imports" in sys.modules:
        sys.modules["app.platform.deferred_imports"].end()
    if gc.get_threshold()[0] == _INIT_THRESHOLD:
        gc.freeze()
        gc.set_threshold(*_thresholds)
