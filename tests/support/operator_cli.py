"""The operator's command line (`anxin`) run against a test stack."""

from __future__ import annotations

import subprocess
import sys

from deploy.engines import REPO_ROOT
from deploy.stack import Stack


def anxin(stack: Stack, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`anxin ARGS` against the test stack, reading the schemas as a superuser would, with `env` added.

    Run as `python -m operations.cli` from the checkout under test, as the stack runs its processes: the
    `anxin` script of the virtualenv imports whichever checkout the project was installed from."""
    return subprocess.run(
        [sys.executable, "-m", "operations.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env={
            "ANXIN_DATA_DIR": str(stack.data_dir),
            "TEMPORAL_ADDRESS": stack.temporal.address,
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{stack.ports.postgres}/anxin",
            "COLUMNS": "240",
            **(env or {}),
        },
    )
