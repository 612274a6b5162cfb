"""Fixtures of the tests on the real stack (tests/integration, tests/security): the real PostgreSQL, Temporal
and Kafka, started with the launcher's own code. A plugin of the root conftest, so both folders share one
stack per session.

By default a private stack is started once per test session under `.data/test-stack/` on its own ports
(24330 PostgreSQL, 27233 Temporal, 29092 Kafka, 28001… services; shifted by ANXIN_TEST_PORT_OFFSET), so
a `make run` stack can keep running beside it, from empty data each time. Set
`ANXIN_TEST_REUSE_STACK=1` to run the tests against an already running `make run` stack instead.
Each test uses its own ids (and, for Temporal, its own task queue), so tests do not depend on order.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from deploy.engines import REPO_ROOT, Ports
from deploy.secrets import development_clients
from deploy.stack import Stack
from services.common.settings import CommonSettings

# Several test sessions can run side by side on one machine, each with its own ports and data dir:
# ANXIN_TEST_PORT_OFFSET=N shifts every port by N: use 2000 or -2000 (`Ports.private` says why not 1000, and
# why the tools shift down: a port in the ephemeral range 32768–60999 may already be held).
PORT_OFFSET = int(os.environ.get("ANXIN_TEST_PORT_OFFSET", "0"))
TEST_PORTS = Ports.private(PORT_OFFSET)


REAL_STACK_FOLDERS = (Path(__file__).parents[1] / "integration", Path(__file__).parents[1] / "security")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(Path(str(item.fspath)).is_relative_to(folder) for folder in REAL_STACK_FOLDERS):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    if os.environ.get("ANXIN_TEST_REUSE_STACK") == "1":
        yield Stack(REPO_ROOT / ".data", Ports())
        return
    data_dir = REPO_ROOT / ".data" / (f"test-stack-{PORT_OFFSET}" if PORT_OFFSET else "test-stack")
    probe = Stack(data_dir, TEST_PORTS, with_ui=False, environ={})
    # A previous run killed before its teardown may have left engines behind: stop them, then start clean.
    probe.stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    test_stack = Stack(data_dir, TEST_PORTS, with_ui=False, environ={})
    test_stack.acquire_lock()
    try:
        test_stack.start_engines()
        yield test_stack
    finally:
        test_stack.stop()


@pytest.fixture(scope="session")
def settings(stack: Stack) -> CommonSettings:
    return stack.client_settings()


@pytest.fixture(scope="session")
def services_running(stack: Stack) -> Stack:
    """Every service process up (API, relay, worker); those already running are left as they are."""
    stack.start_processes(timeout=120)
    return stack


@pytest.fixture
def scratch_schema(settings: CommonSettings) -> Iterator[str]:
    """A throwaway schema for plumbing tests, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield schema
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def token_source(stack: Stack) -> Callable[[str], str]:
    """`token("inspector-130402")` → a bearer token of that development client (see deploy/secrets.py),
    obtained through the real `/oauth/token` of the stack's token issuer (every service verifies it)."""
    cache: dict[str, str] = {}

    def token(client_id: str) -> str:
        if client_id not in cache:
            stack.start_processes(["issuer-api"])
            client = development_clients(stack.data_dir)[client_id]
            response = httpx.post(
                f"{stack.processes['issuer-api'].url}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, client["client_secret"]),
                timeout=10,
            )
            response.raise_for_status()
            cache[client_id] = response.json()["access_token"]
        return cache[client_id]

    return token


@pytest.fixture(scope="session")
def agency_token(stack: Stack) -> Callable[[str], str]:
    return token_source(stack)
