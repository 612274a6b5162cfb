"""One time-skipping test server for the sanctions unit tests; each test gets its own worker and queue."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from services.common.temporal import data_converter, test_server_path


@pytest.fixture(scope="session")
async def sanctions_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_path()), data_converter=data_converter()
    )
    async with env:
        yield env
