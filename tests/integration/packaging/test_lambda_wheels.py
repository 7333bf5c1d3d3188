"""The packaged zip carries extensions built for Lambda's python3.13, not this machine's."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

from tests.support.servers import REPO
from tests.support.templates import IacCheck

# The python3.13 runtime runs on Amazon Linux 2023, whose glibc is 2.34.
LAMBDA_GLIBC = (2, 34)
EXTENSION = re.compile(r"\.(cpython-313-x86_64-linux-gnu|abi3)\.so$")


def glibc_needed(library: Path) -> tuple[int, int]:
    """The newest GLIBC_x.y symbol version the shared library asks for."""
    out = subprocess.run(
        ["readelf", "--version-info", "--wide", str(library)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    versions = [tuple(map(int, v)) for v in re.findall(r"GLIBC_(\d+)\.(\d+)", out)]
    return max(versions, default=(0, 0))  # type: ignore[return-value]


def test_every_extension_fits_the_lambda_runtime(iac_check: IacCheck, tmp_path: Path) -> None:
    archive = REPO / ".serverless-prod" / "conduit.zip"
    assert archive.exists(), iac_check.output[-3000:]
    with zipfile.ZipFile(archive) as zipped:
        libraries = [name for name in zipped.namelist() if name.endswith(".so")]
        assert libraries, "no compiled extension in the zip: were the requirements packed?"
        for name in libraries:
            assert EXTENSION.search(name) or ".libs/" in name, name
            path = Path(zipped.extract(name, tmp_path))
            assert glibc_needed(path) <= LAMBDA_GLIBC, name
