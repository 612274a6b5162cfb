"""Waits the operator's tests on the real stack share: a complaint's workflow started, its case waiting for the
inspector's verification."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from services.contracts.lifecycle import Queries, complaint_workflow_id


async def wait_started(client: Client, complaint_id: str) -> None:
    handle = client.get_workflow_handle(complaint_workflow_id(complaint_id))
    for _ in range(120):
        try:
            await handle.describe()
            return
        except Exception:
            await asyncio.sleep(0.5)
    raise AssertionError("workflow not started")


async def wait_for_verification(case: WorkflowHandle[Any, Any]) -> None:
    """Until the case workflow waits for the inspector's verification. The complaint joins its case through
    an activity, so the case starts a moment after the acceptance."""
    for _ in range(60):
        try:
            if (await case.query(Queries.STATUS))["stage"] == "verification":
                return
        except RPCError:
            pass
        await asyncio.sleep(0.5)
    raise AssertionError("the case never waited for verification")
