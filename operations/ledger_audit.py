"""`anxin audit ledger`: does the ledger say what the workflows say?

Every open complaint and case process in the ledger, and those closed recently, is compared with its
workflow's own `status` query, field by field (services/contracts/process_reports.py `disagreements`).
A change takes a moment to travel from a workflow to the ledger (report activity, outbox, Kafka,
projection), so a disagreement counts only when it is still there after a few re-reads.

`--fix` never writes the ledger: it asks each disagreeing workflow to report its state again (the
`report_state` signal); the report then reaches the ledger through its projection like any other.

The blacklist listings of the sanctions service are audited the same way (`operations/listing_audit.py`),
through the re-reading and fixing here (`audit`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from services.contracts.lifecycle import CaseStatus, ComplaintStatus, Queries, Signals
from services.contracts.process_reports import DeadlineView, ProcessSnapshot, disagreements, snapshot_of


@dataclass
class Disagreement:
    workflow_id: str
    case_id: str
    differences: list[str]
    running: bool = True


@dataclass
class LedgerEntry:
    """What a service's record says about one workflow (a `ProcessSnapshot` or a `ListingSnapshot`)."""

    workflow_id: str
    case_id: str
    snapshot: Any


# Where a record differs from its workflow's `status` query (None: there is no such workflow).
Judge = Callable[[Client, LedgerEntry], Awaitable[list[str] | None]]
# The records to compare: all of them, or only those of the given workflow ids.
Reader = Callable[[set[str] | None], list[LedgerEntry]]


_COMPLAINTS = """
SELECT complaint_id, case_id, stage, status, overdue, closure_reason, deadlines, satisfaction, parked
FROM complaints WHERE (status = 'open' OR closed_at >= now() - %(closed_within)s)
  AND (%(cases)s::text[] IS NULL OR case_id = ANY(%(cases)s))
"""

_PROCESSES = """
SELECT p.process_case_id, p.case_id, p.stage, p.status, p.overdue, p.closure_reason, p.classification, p.outcome,
       p.extension_approved, p.deadlines, p.parked, p.referral_approval, p.referral_withdrawal,
       p.unconfirmed_members, coalesce(p.amount_paid,
       (SELECT coalesce(sum(amount), 0) FROM payments m WHERE m.process_case_id = p.process_case_id)) AS paid
FROM processes p WHERE (p.status = 'open' OR p.closed_at >= now() - %(closed_within)s)
  AND (%(cases)s::text[] IS NULL OR p.case_id = ANY(%(cases)s))
"""


def _deadlines(rows: list[dict[str, Any]] | None) -> list[DeadlineView]:
    return [
        DeadlineView.model_validate({k: v for k, v in d.items() if k in DeadlineView.model_fields}) for d in rows or []
    ]


def ledger_entries(
    database_url: str, closed_within: timedelta, only: set[str] | None = None, case_ids: set[str] | None = None
) -> list[LedgerEntry]:
    """What the ledger says about each process it holds (open, or closed within `closed_within`), of the
    ledger cases `case_ids` when given."""
    entries: list[LedgerEntry] = []
    params = {"closed_within": closed_within, "cases": sorted(case_ids) if case_ids is not None else None}
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        conn.execute("SET search_path TO cases")
        for row in conn.execute(_COMPLAINTS, params):
            workflow_id = f"complaint:{row['complaint_id']}"
            entries.append(
                LedgerEntry(
                    workflow_id,
                    row["case_id"],
                    ProcessSnapshot(
                        workflow_id=workflow_id,
                        stage=row["stage"],
                        status=row["status"],
                        overdue=row["overdue"],
                        closure_reason=row["closure_reason"],
                        deadlines=_deadlines(row["deadlines"]),
                        satisfaction=row["satisfaction"],
                        parked=row["parked"],
                    ),
                )
            )
        for row in conn.execute(_PROCESSES, params):
            workflow_id = f"case:{row['process_case_id']}"
            entries.append(
                LedgerEntry(
                    workflow_id,
                    row["case_id"],
                    ProcessSnapshot(
                        workflow_id=workflow_id,
                        stage=row["stage"],
                        status=row["status"],
                        overdue=row["overdue"],
                        closure_reason=row["closure_reason"],
                        classification=row["classification"],
                        outcome=row["outcome"],
                        extension_approved=row["extension_approved"],
                        deadlines=_deadlines(row["deadlines"]),
                        amount_paid=Decimal(row["paid"]),
                        parked=row["parked"],
                        referral_approval=row["referral_approval"],
                        referral_withdrawal=row["referral_withdrawal"],
                        unconfirmed_members=row["unconfirmed_members"],
                    ),
                )
            )
    return [e for e in entries if only is None or e.workflow_id in only]


async def workflow_snapshot(client: Client, workflow_id: str) -> ProcessSnapshot | None:
    """The workflow's own state (None when there is no such workflow)."""
    result_type: type[CaseStatus] | type[ComplaintStatus] = (
        CaseStatus if workflow_id.startswith("case:") else ComplaintStatus
    )
    try:
        status = await client.get_workflow_handle(workflow_id).query(
            Queries.STATUS, result_type=result_type, rpc_timeout=timedelta(seconds=10)
        )
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return None
        raise
    return snapshot_of(workflow_id, status)


async def _is_running(client: Client, workflow_id: str) -> bool:
    from temporalio.client import WorkflowExecutionStatus

    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError:
        return False
    return description.status is WorkflowExecutionStatus.RUNNING


async def judge_process(client: Client, entry: LedgerEntry) -> list[str] | None:
    workflow = await workflow_snapshot(client, entry.workflow_id)
    return None if workflow is None else disagreements(workflow, entry.snapshot)


async def compare(
    client: Client, entries: list[LedgerEntry], judge: Judge = judge_process, concurrency: int = 16
) -> list[Disagreement]:
    limit = asyncio.Semaphore(concurrency)

    async def one(entry: LedgerEntry) -> Disagreement | None:
        async with limit:
            try:
                found = await judge(client, entry)
            except (RPCError, WorkflowQueryFailedError) as exc:
                return Disagreement(entry.workflow_id, entry.case_id, [f"status query failed: {exc}"[:300]])
            if found is None:
                return Disagreement(entry.workflow_id, entry.case_id, ["no such workflow"], running=False)
            return Disagreement(entry.workflow_id, entry.case_id, found) if found else None

    results = await asyncio.gather(*(one(e) for e in entries))
    return [r for r in results if r is not None]


async def audit(
    client: Client, read: Reader, judge: Judge, signal: str, *, settle_seconds: float, rereads: int, fix: bool
) -> tuple[int, list[Disagreement]]:
    """(records compared, disagreements that persisted after re-reads); with `fix`, after sending `signal`
    (report your state again) to each disagreeing workflow still running."""
    entries = read(None)

    async def again(found: list[Disagreement]) -> list[Disagreement]:
        await asyncio.sleep(settle_seconds)
        return await compare(client, read({d.workflow_id for d in found}), judge)

    found = await compare(client, entries, judge)
    for _ in range(rereads):
        if not found:
            break
        found = await again(found)
    for disagreement in found:
        disagreement.running = disagreement.running and await _is_running(client, disagreement.workflow_id)
    if fix and any(d.running for d in found):
        for disagreement in found:
            if disagreement.running:
                await client.get_workflow_handle(disagreement.workflow_id).signal(signal)
        for _ in range(rereads + 2):
            still = await again(found)
            if not still:
                break
        found = still
        for disagreement in found:
            disagreement.running = disagreement.running and await _is_running(client, disagreement.workflow_id)
    return len(entries), found


async def audit_ledger(
    client: Client,
    database_url: str,
    *,
    closed_within: timedelta = timedelta(days=7),
    case_ids: set[str] | None = None,
    settle_seconds: float = 3.0,
    rereads: int = 3,
    fix: bool = False,
) -> tuple[int, list[Disagreement]]:
    """(processes compared, disagreements that persisted); with `fix`, after asking each to report again."""
    return await audit(
        client,
        lambda only: ledger_entries(database_url, closed_within, only, case_ids),
        judge_process,
        Signals.REPORT_STATE,
        settle_seconds=settle_seconds,
        rereads=rereads,
        fix=fix,
    )
