"""The console on the real stack: intake files complaints, the cases service keeps the ledger (the cases
suite's `agencies`), and the console runs with a short idle timeout so its expiry can be watched; a second
console process on the same database stands for a second replica."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
import pytest

from deploy.stack import Stack
from tests.integration.cases.conftest import (
    Agencies,
    agencies,  # noqa: F401 (a fixture, used by name)
)
from tests.support.agencies import wait_for

IDLE_SECONDS = 8
# Where the second console listens: as a cluster replica does, 10 above the first.
SECOND_CONSOLE_PORT_STEP = 10


@contextlib.contextmanager
def _console_process(stack: Stack, name: str, port_step: int = 0, idle_seconds: int = IDLE_SECONDS) -> Iterator[str]:
    """A console process with the short idle timeout (unless told another), its URL while it runs."""
    spec = stack.spec("console")
    spec.name = name
    spec.port += port_step
    spec.env["ANXIN_CONSOLE_IDLE_SECONDS"] = str(idle_seconds)
    stack.start_process(spec)
    stack.wait_process_ready(spec, 60)
    try:
        yield spec.url
    finally:
        stack.stop_process(name)


@pytest.fixture(scope="module")
def console(stack: Stack, agencies: Agencies) -> Iterator[str]:  # noqa: F811 (the fixture above)
    """The console's URL."""
    stack.start_processes(["issuer-api"], timeout=120)
    with _console_process(stack, "console") as url:
        yield url


@pytest.fixture(scope="module")
def second_console(stack: Stack, console: str) -> Iterator[str]:
    """The URL of a second console process, on the same database as `console` (a replica)."""
    with _console_process(stack, "console-2", SECOND_CONSOLE_PORT_STEP) as url:
        yield url


@pytest.fixture(scope="module")
def referrals(stack: Stack, console: str) -> None:
    """The referrals service (its worker reads intake's complaints into the facts its letters quote), and its
    department directory heard by the cases service (a verification naming a department is checked against it)."""
    stack.start_processes(["referrals-api", "referrals-relay", "referrals-worker"], timeout=120)

    def directory_heard() -> bool:
        with psycopg.connect(stack.postgres.service_url("cases")) as conn:
            row = conn.execute("SELECT count(*) FROM cases.department_directory WHERE takes_handoffs").fetchone()
        return row is not None and row[0] > 0

    wait_for("the department directory in the cases service", directory_heard, timeout=90)
