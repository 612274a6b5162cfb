"""One time-skipping test server for the whole session; each test gets its own worker and task queue."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support.time_skipping import start_time_skipping

from .harness import Harness, register_search_attributes


async def start_test_server() -> WorkflowEnvironment:
    env = await start_time_skipping()
    # The test server knows no custom search attributes until told, like a fresh dev server.
    await register_search_attributes(env.client)
    return env


@contextlib.asynccontextmanager
async def harness_on(env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    """A harness with its own worker and task queue on `env`."""
    h = Harness(env=env, queue=f"lifecycle-test-{uuid.uuid4().hex[:10]}")
    async with h.worker():
        try:
            yield h
        finally:
            # While the worker still runs: see Harness.close_all.
            await h.close_all()


@pytest.fixture(scope="session")
async def workflow_env() -> AsyncIterator[WorkflowEnvironment]:
    async with await start_test_server() as env:
        yield env


@pytest.fixture
async def harness(workflow_env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    async with harness_on(workflow_env) as h:
        yield h
    # Guard: a test that leaves a time lock behind fails here, not some later test.
    try:
        await asyncio.wait_for(workflow_env.sleep(timedelta(minutes=1)), timeout=10)
    except TimeoutError:
        pytest.fail("time skipping is stuck after this test: a workflow task or activity was left pending")


@pytest.fixture
async def fresh_harness() -> AsyncIterator[Harness]:
    """A harness on a test server of its own, whose clock starts now: for a test at a given date (the shared
    server's clock has run years ahead by then)."""
    async with await start_test_server() as env, harness_on(env) as h:
        yield h


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test here finishes in seconds; a stuck one (time skipping locked) should fail fast, not after the
    # project-wide timeout.
    for item in items:
        if "tests/unit/workflows" in str(item.path) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(90))
