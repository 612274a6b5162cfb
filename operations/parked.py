"""Parked steps: what a service refused for good, where it shows, and the operator's retry.

A step a service refuses with a final answer (`ServiceRefused`) does not fail the workflow: it parks, flagged
overdue, until an operator fixes the cause and sends `retry_refused_step` (`anxin case retry`). The parked
step is in the workflow's `status` query and in its reports to the ledger (`parked`); `anxin stuck` prints it
with the command to retry, and the path tests and `make demo`/`make faults` check that nothing ends parked.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from services.contracts.lifecycle import CaseStatus, ComplaintStatus, ParkedStep, Queries, Signals

_LEDGER_PARKED = """
SELECT 'complaint:' || complaint_id AS workflow_id, case_id, parked FROM complaints
 WHERE parked IS NOT NULL AND status = 'open' AND (%(cases)s::text[] IS NULL OR case_id = ANY(%(cases)s))
UNION ALL
SELECT 'case:' || process_case_id, case_id, parked FROM processes
 WHERE parked IS NOT NULL AND status = 'open' AND (%(cases)s::text[] IS NULL OR case_id = ANY(%(cases)s))
"""


def retry_command(workflow_id: str) -> str:
    return f"anxin case retry {workflow_id}"


def describe(parked: ParkedStep) -> str:
    since = f" since {parked.since:%Y-%m-%d %H:%M}" if parked.since else ""
    return f"parked: {parked.step} refused by its service{since}: {parked.message}"


def parked_in_ledger(database_url: str, case_ids: set[str] | None = None) -> dict[str, ParkedStep]:
    """The parked steps the ledger shows (of the ledger cases `case_ids` when given), by workflow id."""
    params = {"cases": sorted(case_ids) if case_ids is not None else None}
    with psycopg.connect(database_url, row_factory=dict_row, connect_timeout=5) as conn:
        conn.execute("SET search_path TO cases")
        return {
            row["workflow_id"]: ParkedStep.model_validate(row["parked"]) for row in conn.execute(_LEDGER_PARKED, params)
        }


async def parked_of(client: Client, workflow_id: str) -> ParkedStep | None:
    """The parked step of a workflow as its `status` query tells it (None: nothing parked)."""
    result_type: type[CaseStatus] | type[ComplaintStatus] = (
        CaseStatus if workflow_id.startswith("case:") else ComplaintStatus
    )
    status = await client.get_workflow_handle(workflow_id).query(
        Queries.STATUS, result_type=result_type, rpc_timeout=timedelta(seconds=10)
    )
    return status.parked


async def parked_workflows(client: Client, workflow_ids: list[str], concurrency: int = 16) -> dict[str, ParkedStep]:
    """Of `workflow_ids`, those whose `status` query shows a parked step (a workflow that does not answer is
    left out: `anxin stuck` lists it for its other reasons)."""
    limit = asyncio.Semaphore(concurrency)

    async def one(workflow_id: str) -> tuple[str, ParkedStep | None]:
        async with limit:
            try:
                return workflow_id, await parked_of(client, workflow_id)
            except (RPCError, WorkflowQueryFailedError):
                return workflow_id, None

    return {w: p for w, p in await asyncio.gather(*(one(w) for w in workflow_ids)) if p is not None}


async def retry_parked(client: Client, workflow_id: str) -> ParkedStep | None:
    """Send `retry_refused_step` to a workflow whose step is parked; the step it retries (None: nothing was
    parked and nothing is sent, so a mistyped id retries nothing)."""
    parked = await parked_of(client, workflow_id)
    if parked is not None:
        await client.get_workflow_handle(workflow_id).signal(Signals.RETRY_REFUSED_STEP)
    return parked


def parked_rows(parked: dict[str, ParkedStep]) -> list[dict[str, Any]]:
    """`anxin stuck` rows: why, and the command that retries the step once the cause is fixed."""
    return [
        {"workflow_id": workflow_id, "why": f"{describe(step)} — fix the cause, then `{retry_command(workflow_id)}`"}
        for workflow_id, step in sorted(parked.items())
    ]
