"""Temporal's time-skipping test server for the workflow tests and the replay scenarios, started the same way
everywhere: the project's binary (never a download) and data converter."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from services.common.temporal import data_converter, test_server_path

# The SDK waits 5 s for the test server's port by default. Under a full suite, with the test stacks' processes
# busy on the same 2 cores, the server once took longer than that to open its port, failing a test that has
# nothing to do with start-up.
STARTUP_TIMEOUT = timedelta(seconds=60)


async def start_time_skipping() -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_path()),
        data_converter=data_converter(),
        test_server_startup_timeout=STARTUP_TIMEOUT,
    )
