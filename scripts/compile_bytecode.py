"""Add compiled bytecode to a Lambda deployment zip.

Lambda's code folder is read-only, so Python cannot cache the bytecode it compiles: a
package without .pyc files compiles every module it imports from source on every cold
start. This adds a `__pycache__/<name>.cpython-313.pyc` beside each `.py` in the zip.

The .pyc files are *unchecked-hash* (PEP 552): the zip's timestamps are normalised, so
timestamp-checked .pyc files would look stale and be ignored. Compile with the same
Python minor version as the Lambda runtime (python3.13). Usage: compile_bytecode.py ZIP...
"""

from __future__ import annotations

import importlib.util
import os
import py_compile
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

LAMBDA_TASK_ROOT = "/var/task"


def _pyc_name(source: str) -> str:
    return importlib.util.cache_from_source(source)


def add_bytecode(archive: Path) -> int:
    with zipfile.ZipFile(archive) as original:
        entries = original.infolist()
        names = {entry.filename for entry in entries}
        payload = {entry.filename: original.read(entry) for entry in entries}

    added = 0
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "out.zip"
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as rebuilt:
            for entry in entries:
                rebuilt.writestr(entry, payload[entry.filename])
                if not entry.filename.endswith(".py"):
                    continue
                pyc = _pyc_name(entry.filename)
                if pyc in names:
                    continue
                source = Path(scratch) / "src" / entry.filename
                source.parent.mkdir(parents=True, exist_ok=True)
                source.write_bytes(payload[entry.filename])
                compiled = Path(scratch) / "pyc"
                try:
                    py_compile.compile(
                        str(source),
                        cfile=str(compiled),
                        # Tracebacks name the file where Lambda unpacks it.
                        dfile=str(PurePosixPath(LAMBDA_TASK_ROOT) / entry.filename),
                        doraise=True,
                        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                    )
                except py_compile.PyCompileError:
                    continue  # not importable Python (e.g. a template); leave it as it is
                info = zipfile.ZipInfo(pyc, date_time=entry.date_time)
                info.external_attr = entry.external_attr
                info.compress_type = zipfile.ZIP_DEFLATED
                rebuilt.writestr(info, compiled.read_bytes())
                added += 1
        os.replace(output, archive)
    return added


def main(paths: list[str]) -> int:
    if sys.version_info[:2] != (3, 13):
        print("compile_bytecode: run with python3.13, the Lambda runtime", file=sys.stderr)
        return 2
    for path in paths:
        print(f"compile_bytecode: {path}: {add_bytecode(Path(path))} .pyc files added")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
