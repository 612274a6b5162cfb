"""The operator's command line (`anxin`) run against a test stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from deploy.stack import Stack


def anxin(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """`anxin ARGS` against the test stack, reading the schemas as a superuser would."""
    command = Path(sys.executable).parent / "anxin"
    return subprocess.run([str(command), *args], capture_output=True, text=True, timeout=120, env={
        "ANXIN_DATA_DIR": str(stack.data_dir), "TEMPORAL_ADDRESS": stack.temporal.address, "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{stack.ports.postgres}/anxin", "COLUMNS": "240"})
