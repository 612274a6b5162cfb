"""One time-skipping test server for the sanctions unit tests; each test gets its own worker and queue."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from services.sanctions.blacklist import BlacklistWorkflow
from tests.support.time_skipping import start_time_skipping
from tests.support.workers import project_worker

from .fakes import FakeListingActivities
from .listing_run import Run


@pytest.fixture(scope="session")
async def sanctions_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_time_skipping()
    async with env:
        yield env


@pytest.fixture
async def run(sanctions_env: WorkflowEnvironment) -> AsyncIterator[Run]:
    fakes = FakeListingActivities()
    queue = f"sanctions-test-{uuid.uuid4().hex[:10]}"
    async with project_worker(sanctions_env.client, queue, [BlacklistWorkflow], fakes.all()):
        yield Run(sanctions_env, fakes, queue)
