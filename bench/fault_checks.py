"""What `make faults` checks after each scenario (bench/faults.py): over the fault stack's database and its
Temporal, whether a complaint reached its workflow and its case, kept moving, or was done twice."""

from __future__ import annotations

import psycopg
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from services.contracts.lifecycle import Queries, complaint_workflow_id


class FaultChecks:
    """The checks, on the stack's database (as its owner) and its Temporal."""

    def __init__(self, admin_url: str, client: Client) -> None:
        self.admin_url = admin_url
        self.client = client

    def through(self, ids: list[str]) -> int:
        """How many of `ids` reached their workflow (intake recorded the start) and their case (ledger row)."""
        try:
            with psycopg.connect(self.admin_url, connect_timeout=3) as conn:
                started = conn.execute(
                    "SELECT count(*) FROM intake.workflow_starts WHERE complaint_id = ANY(%s)", (ids,)
                ).fetchone()
                ledgered = conn.execute(
                    "SELECT count(*) FROM cases.complaints WHERE complaint_id = ANY(%s)", (ids,)
                ).fetchone()
            return min(int(started[0]) if started else 0, int(ledgered[0]) if ledgered else 0)
        except psycopg.Error:
            return -1  # PostgreSQL is down

    def products(self) -> dict[str, int]:
        """What the paths wrote, over the whole database: the rows the duplicate check looked through."""
        queries = {
            "letters": "SELECT count(*) FROM referrals.letters",
            "handoffs": "SELECT count(*) FROM referrals.handoffs",
            "referrals": "SELECT count(*) FROM referrals.referrals",
            "listings": "SELECT count(*) FROM sanctions.listings",
            "cases documents": "SELECT count(*) FROM cases.documents",
        }
        with psycopg.connect(self.admin_url) as conn:
            return {
                what: int(row[0]) if (row := conn.execute(query).fetchone()) else 0 for what, query in queries.items()
            }

    async def workflow_exists(self, complaint_id: str) -> bool:
        try:
            description = await self.client.get_workflow_handle(complaint_workflow_id(complaint_id)).describe()
        except RPCError:
            return False
        return description.status in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.COMPLETED)

    async def moved(self, complaint_id: str) -> bool:
        """The workflow kept moving: its acceptance deadline (a timer set at receipt) fired and was acted on,
        and no activity is left retrying."""
        handle = self.client.get_workflow_handle(complaint_workflow_id(complaint_id))
        try:
            status = dict(await handle.query(Queries.STATUS))
            description = await handle.describe()
        except RPCError:
            return False
        return bool(status["overdue"]) and not description.raw_description.pending_activities

    def duplicates_by_filing(self, ids: list[str]) -> int:
        """Complaints filed twice for one filing (each filing has its own phone, hence its own phone_ref)."""
        with psycopg.connect(self.admin_url) as conn:
            row = conn.execute(
                "SELECT count(*) - count(DISTINCT phone_ref) FROM intake.complaints WHERE phone_ref IN "
                "(SELECT phone_ref FROM intake.complaints WHERE complaint_id = ANY(%s))",
                (ids,),
            ).fetchone()
        return int(row[0]) if row else 0

    def duplicates_by_natural_key(self) -> dict[str, int]:
        """Over the whole database: second rows for one natural key, per table."""
        queries = {
            "intake workflow starts per complaint": "SELECT count(*) - count(DISTINCT complaint_id) FROM intake.workflow_starts",
            "ledger cases per employer and project": "SELECT count(*) - count(DISTINCT (employer_ref, project_ref)) FROM cases.ledger "
            "WHERE merged_into IS NULL AND split_from IS NULL",
            "cases documents per idempotency key": "SELECT count(*) - count(DISTINCT idempotency_key) FROM cases.documents",
            "referrals letters per case, kind and handoff": "SELECT count(*) - count(DISTINCT (case_id, kind, coalesce(handoff_id, ''), "
            "coalesce(referral_id, ''))) FROM referrals.letters",
            "referrals handoffs per case, department and letter": "SELECT count(*) - count(DISTINCT (case_id, department, letter_id)) FROM referrals.handoffs",
            "referrals per case and target": "SELECT count(*) - count(DISTINCT (case_id, target)) FROM referrals.referrals",
            "sanctions listings per case and ground": "SELECT count(*) - count(DISTINCT (case_id, ground)) FROM sanctions.listings",
        }
        found: dict[str, int] = {}
        with psycopg.connect(self.admin_url) as conn:
            for what, query in queries.items():
                row = conn.execute(query).fetchone()
                if row and row[0]:
                    found[what] = int(row[0])
        return found

    async def workflows_per_complaint(self, ids: list[str]) -> int:
        """Executions beyond the first for each complaint id (the id is never reused, so any is a duplicate)."""
        extra = 0
        for complaint_id in ids:
            count = await self.client.count_workflows(f"WorkflowId = '{complaint_workflow_id(complaint_id)}'")
            extra += max(0, count.count - 1)
        return extra
