"""The workflows' reports of their own state, applied to the ledger (one truth).

Each complaint and case workflow reports its state every time it changes (`process.reported`, see
services/contracts/process_reports.py). The latest report of every workflow is kept in
`reported_processes`, the highest `seq` winning, so a report that arrives late or twice changes nothing.

What a report says about a process — stage, status, overdue, deadlines, classification, closure, the
amount paid, a parked step — is the truth for that process: `reapply` writes it over the complaint and process rows of a ledger case each time the case is
refreshed, after whatever an inspector action's event wrote there. A workflow that has not reported yet
(one started before reports existed) keeps what the action events and lifecycle requests wrote, as before.
A complaint's report can arrive before intake's event that creates its row; it is applied when the row
appears.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from services.contracts.cases_events import ProcessReported
from services.contracts.process_reports import ledger_status

Conn = psycopg.Connection[Any]


_REAPPLY_COMPLAINTS = """
UPDATE complaints c SET
    stage = r.snapshot->>'stage',
    status = r.status,
    overdue = (r.snapshot->>'overdue')::boolean,
    deadlines = r.snapshot->'deadlines',
    closure_reason = r.snapshot->>'closure_reason',
    closed_at = CASE WHEN r.status = 'closed' THEN COALESCE(c.closed_at, r.at) ELSE c.closed_at END,
    satisfaction = r.snapshot->>'satisfaction',
    parked = NULLIF(r.snapshot->'parked', 'null'::jsonb),
    report_seq = r.seq
FROM reported_processes r
WHERE r.workflow_id = 'complaint:' || c.complaint_id AND c.case_id = %s
"""

_REAPPLY_PROCESSES = """
UPDATE processes p SET
    stage = r.snapshot->>'stage',
    status = r.status,
    overdue = (r.snapshot->>'overdue')::boolean,
    investigation_overdue = COALESCE((r.snapshot->>'investigation_overdue')::boolean, p.investigation_overdue),
    deadlines = r.snapshot->'deadlines',
    classification = r.snapshot->>'classification',
    outcome = r.snapshot->>'outcome',
    closure_reason = r.snapshot->>'closure_reason',
    extension_approved = COALESCE((r.snapshot->>'extension_approved')::boolean, false),
    order_id = COALESCE(r.snapshot->>'order_id', p.order_id),
    amount_paid = (r.snapshot->>'amount_paid')::numeric,
    parked = NULLIF(r.snapshot->'parked', 'null'::jsonb),
    referral_approval = r.snapshot->>'referral_approval',
    referral_withdrawal = r.snapshot->>'referral_withdrawal',
    unconfirmed_members = COALESCE(r.snapshot->'unconfirmed_members', '[]'::jsonb),
    closed_at = CASE WHEN r.status = 'closed' THEN COALESCE(p.closed_at, r.at) ELSE p.closed_at END,
    report_seq = r.seq
FROM reported_processes r
WHERE r.workflow_id = 'case:' || p.process_case_id AND p.case_id = %s
"""


def keep_latest(conn: Conn, report: ProcessReported) -> bool:
    """Keep the report if it is the workflow's newest; whether it was."""
    return bool(
        conn.execute(
            "INSERT INTO reported_processes (workflow_id, seq, at, status, snapshot) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (workflow_id) DO UPDATE SET seq = EXCLUDED.seq, at = EXCLUDED.at, status = EXCLUDED.status, "
            "snapshot = EXCLUDED.snapshot WHERE reported_processes.seq < EXCLUDED.seq",
            (
                report.workflow_id,
                report.seq,
                report.at,
                ledger_status(report.snapshot.status),
                Jsonb(report.snapshot.model_dump(mode="json")),
            ),
        ).rowcount
    )


def reapply(conn: Conn, case_id: str) -> None:
    """Write the latest reported state over the complaint and process rows of one ledger case."""
    conn.execute(_REAPPLY_COMPLAINTS, (case_id,))
    conn.execute(_REAPPLY_PROCESSES, (case_id,))


def summary(report: ProcessReported) -> str:
    subject = f"投诉 {report.complaint_id}" if report.kind == "complaint" else f"案件流程 {report.process_case_id}"
    return f"{subject}：" + "；".join(report.changes)
