"""The console on the real stack: intake files complaints, the cases service keeps the ledger (the cases
suite's `agencies`), and the console runs with a short idle timeout so its expiry can be watched; a second
console process on the same database stands for a second replica."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deploy.stack import Stack
from tests.integration.cases.conftest import (
    Agencies,
    agencies,  # noqa: F401 (a fixture, used by name)
)

IDLE_SECONDS = 8
# Where the second console listens: as a cluster replica does, 10 above the first.
SECOND_CONSOLE_PORT_STEP = 10


@pytest.fixture(scope="module")
def console(stack: Stack, agencies: Agencies) -> Iterator[str]:  # noqa: F811 (the fixture above)
    """The console's URL."""
    stack.start_processes(["issuer-api"], timeout=120)
    spec = stack.spec("console")
    spec.env["ANXIN_CONSOLE_IDLE_SECONDS"] = str(IDLE_SECONDS)
    stack.start_process(spec)
    stack.wait_process_ready(spec, 60)
    try:
        yield spec.url
    finally:
        stack.stop_process("console")


@pytest.fixture(scope="module")
def second_console(stack: Stack, console: str) -> Iterator[str]:
    """The URL of a second console process, on the same database as `console` (a replica)."""
    spec = stack.spec("console")
    spec.name = "console-2"
    spec.port += SECOND_CONSOLE_PORT_STEP
    spec.env["ANXIN_CONSOLE_IDLE_SECONDS"] = str(IDLE_SECONDS)
    stack.start_process(spec)
    stack.wait_process_ready(spec, 60)
    try:
        yield spec.url
    finally:
        stack.stop_process("console-2")
