"""The ledger projection's records (`projection.py`): the rows every handler reads and writes — a case found from its
complaint, process or old id, the timeline, the processes' stages and closures, the facts the reports count,
and the ledger row recomputed from its parts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import psycopg
from psycopg.types.json import Jsonb
from pydantic_core import to_jsonable_python

from services.cases import domain, process_state
from services.common.inbox import PermanentEventError
from services.contracts.cases_events import ActionRecorded, ProcessSnapshot
from services.contracts.events import EventEnvelope, EventPayload
from services.contracts.lifecycle import CaseKind

Conn = psycopg.Connection[Any]
P = TypeVar("P", bound=EventPayload)


class AboutACase(Protocol):
    """A referrals or sanctions event that names a case (every one of theirs with a `case_id`)."""

    @property
    def case_id(self) -> str: ...

    def model_dump(self, *, mode: str) -> dict[str, Any]: ...


class LedgerRecords:
    """What the projection's handlers share (`LifecycleRequests`, `ReportsAndRegrouping`, `LedgerProjection`)."""

    # --- resolution -----------------------------------------------------------------------------------

    @staticmethod
    def resolve_alias(conn: Conn, case_id: str) -> str:
        row = conn.execute("SELECT case_id FROM case_aliases WHERE alias = %s", (case_id,)).fetchone()
        return row["case_id"] if row else case_id

    def case_of_process(self, conn: Conn, process_case_id: str) -> str:
        row = conn.execute("SELECT case_id FROM processes WHERE process_case_id = %s", (process_case_id,)).fetchone()
        if row:
            return str(row["case_id"])
        row = conn.execute(
            "SELECT case_id FROM complaints WHERE process_case_id = %s ORDER BY submitted_at LIMIT 1",
            (process_case_id,),
        ).fetchone()
        return str(row["case_id"]) if row else self.resolve_alias(conn, process_case_id)

    @staticmethod
    def case_of_complaint(conn: Conn, complaint_id: str) -> str | None:
        row = conn.execute("SELECT case_id FROM complaints WHERE complaint_id = %s", (complaint_id,)).fetchone()
        return str(row["case_id"]) if row else None

    # --- timeline ------------------------------------------------------------------------------------

    @staticmethod
    def timeline(
        conn: Conn,
        case_id: str,
        event: EventEnvelope,
        summary: str,
        *,
        complaint_id: str | None = None,
        actor: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        conn.execute(
            "INSERT INTO timeline (case_id, event_id, at, type, producer, complaint_id, actor, summary, detail) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING",
            (
                case_id,
                event.event_id,
                event.occurred_at,
                event.type,
                event.producer,
                complaint_id,
                actor,
                summary,
                Jsonb(detail or {}),
            ),
        )

    def _apply_complaint_snapshot(self, conn: Conn, complaint_id: str, snapshot: ProcessSnapshot, at: datetime) -> None:
        conn.execute(
            "UPDATE complaints SET stage = %s, status = CASE WHEN %s = 'open' THEN 'open' ELSE 'closed' END, "
            "overdue = %s, deadlines = %s, snapshot_at = %s, "
            "closure_reason = COALESCE(%s, closure_reason), "
            "closed_at = CASE WHEN %s <> 'open' THEN COALESCE(closed_at, %s) ELSE closed_at END "
            "WHERE complaint_id = %s AND (snapshot_at IS NULL OR snapshot_at <= %s)",
            (
                snapshot.stage,
                snapshot.status,
                snapshot.overdue,
                Jsonb(snapshot_deadlines(snapshot)),
                at,
                snapshot.closure_reason,
                snapshot.status,
                at,
                complaint_id,
                at,
            ),
        )

    def ensure_process(self, conn: Conn, process_case_id: str, at: datetime, county: str | None = None) -> str:
        case_id = self.case_of_process(conn, process_case_id)
        if county is None:
            row = conn.execute("SELECT county FROM ledger WHERE case_id = %s", (case_id,)).fetchone()
            county = row["county"] if row else ""
        conn.execute(
            "INSERT INTO processes (process_case_id, case_id, county, opened_at, stage_times) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (process_case_id) DO NOTHING",
            (process_case_id, case_id, county, at, Jsonb({"verification": at.isoformat()})),
        )
        return case_id

    def _reach_stage(self, conn: Conn, process_case_id: str, stage: str, at: datetime) -> None:
        conn.execute(
            "UPDATE processes SET stage = CASE WHEN status = 'open' THEN %s ELSE stage END, "
            "stage_times = CASE WHEN stage_times ? %s THEN stage_times "
            "ELSE stage_times || jsonb_build_object(%s::text, %s::text) END "
            "WHERE process_case_id = %s",
            (stage, stage, stage, at.isoformat(), process_case_id),
        )

    def _apply_process_snapshot(
        self, conn: Conn, process_case_id: str, snapshot: ProcessSnapshot | None, at: datetime
    ) -> None:
        if snapshot is None:
            return
        row = conn.execute(
            "SELECT status, snapshot_at, case_id, county FROM processes WHERE process_case_id = %s",
            (process_case_id,),
        ).fetchone()
        if row is None or (row["snapshot_at"] is not None and row["snapshot_at"] > at):
            return
        stage = snapshot.stage
        conn.execute(
            "UPDATE processes SET stage = %s, status = %s, overdue = %s, deadlines = %s, snapshot_at = %s, "
            "classification = COALESCE(%s, classification), closure_reason = COALESCE(%s, closure_reason), "
            "extension_approved = extension_approved OR %s, "
            "stage_times = CASE WHEN stage_times ? %s THEN stage_times "
            "ELSE stage_times || jsonb_build_object(%s::text, %s::text) END "
            "WHERE process_case_id = %s",
            (
                stage,
                "open" if snapshot.status == "open" else "closed",
                snapshot.overdue,
                Jsonb(snapshot_deadlines(snapshot)),
                at,
                snapshot.classification,
                snapshot.closure_reason,
                bool(snapshot.extension_approved),
                stage,
                stage,
                at.isoformat(),
                process_case_id,
            ),
        )
        if row["status"] == "open" and snapshot.status != "open":
            self._process_closed(conn, process_case_id, snapshot.closure_reason, at)
        if "police" in snapshot.referrals:
            self.fact(
                conn,
                "criminal_referral",
                process_case_id,
                row["case_id"],
                row["county"],
                snapshot.referrals["police"],
                at,
            )
        for d in snapshot.deadlines:
            if d.name == "handoff.response" and d.outcome == "expired":
                self.fact(conn, "handoff_overdue", process_case_id, row["case_id"], row["county"], None, at)

    def _process_closed(self, conn: Conn, process_case_id: str, reason: str | None, at: datetime) -> None:
        conn.execute(
            "UPDATE processes SET closed_at = COALESCE(closed_at, %s), status = 'closed', stage = 'closed', "
            "closure_reason = COALESCE(%s, closure_reason), "
            "stage_times = CASE WHEN stage_times ? 'closed' THEN stage_times "
            "ELSE stage_times || jsonb_build_object('closed', %s::text) END WHERE process_case_id = %s",
            (at, reason, at.isoformat(), process_case_id),
        )
        # Member complaints close with their case (their call-back is still to come).
        conn.execute(
            "UPDATE complaints SET status = 'closed', stage = 'callback', closure_reason = COALESCE(closure_reason, %s), "
            "closed_at = COALESCE(closed_at, %s) WHERE process_case_id = %s AND status = 'open' AND stage = 'in_case'",
            (reason, at, process_case_id),
        )

    @staticmethod
    def fact(
        conn: Conn, kind: str, process_case_id: str, case_id: str, county: str, ref: str | None, at: datetime
    ) -> None:
        conn.execute(
            "INSERT INTO case_facts (kind, process_case_id, case_id, county, ref, at) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (kind, process_case_id) DO NOTHING",
            (kind, process_case_id, case_id, county, ref, at),
        )

    # --- the ledger row ----------------------------------------------------------------------------------

    @staticmethod
    def refresh(conn: Conn, case_id: str) -> None:
        # What the workflows reported about their own state wins over what any event wrote before it.
        process_state.reapply(conn, case_id)
        complaints = conn.execute("SELECT * FROM complaints WHERE case_id = %s", (case_id,)).fetchall()
        processes = conn.execute("SELECT * FROM processes WHERE case_id = %s", (case_id,)).fetchall()
        if not complaints and not processes:
            return
        paid = conn.execute(
            "SELECT process_case_id, sum(amount) AS amount FROM payments WHERE case_id = %s GROUP BY process_case_id",
            (case_id,),
        ).fetchall()
        recovered = {r["process_case_id"]: r["amount"] for r in paid}
        # A workflow that reports counts its payments itself; its count is the one the ledger shows.
        recovered |= {p["process_case_id"]: p["amount_paid"] for p in processes if p["amount_paid"] is not None}
        # An early-warning case was received when its warning opened it (the row's first receipt, kept).
        case = conn.execute("SELECT kind, received_at FROM ledger WHERE case_id = %s", (case_id,)).fetchone()
        opened_at = case["received_at"] if case and case["kind"] == CaseKind.EARLY_WARNING.value else None
        s = domain.summarize(complaints, processes, recovered, opened_at)
        conn.execute(
            "UPDATE ledger SET complaint_count = %s, complainant_count = %s, workers_affected = %s, "
            "amount_claimed = %s, amount_verified = %s, amount_recovered = %s, classification = %s, outcome = %s, "
            "stage = %s, status = %s, closure_reason = %s, closed_at = %s, deadlines = %s, next_deadline = %s, "
            "overdue = %s, stage_times = %s, process_case_ids = %s, received_at = %s, updated_at = now() "
            "WHERE case_id = %s AND merged_into IS NULL",
            (
                s.complaint_count,
                s.complainant_count,
                s.workers_affected,
                s.amount_claimed,
                s.amount_verified,
                s.amount_recovered,
                s.classification,
                s.outcome,
                s.stage,
                s.status,
                s.closure_reason,
                s.closed_at,
                Jsonb(jsonable(s.deadlines)),
                s.next_deadline,
                s.overdue,
                Jsonb(s.stage_times),
                s.process_case_ids,
                s.received_at,
                case_id,
            ),
        )


def with_agency_texts(conn: Conn, event: EventEnvelope, payload: P) -> P:
    """The payload with the agencies' free text its event leaves out (`AgencyText`), as the action that made it
    kept it in `event_texts`; an event published before carries the text itself and is taken as it is."""
    fields = payload.agency_text_fields()
    if not fields:
        return payload
    row = conn.execute("SELECT texts FROM event_texts WHERE event_id = %s", (event.event_id,)).fetchone()
    if row is None:
        return payload
    return payload.model_copy(update={name: text for name, text in row["texts"].items() if name in fields})


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot_deadlines(snapshot: ProcessSnapshot) -> list[Any]:
    return to_jsonable_python(snapshot.deadlines)


def process_of(action: ActionRecorded) -> str:
    """The case process an inspector's action on a case was taken in."""
    if action.process_case_id is None:
        raise PermanentEventError(f"action {action.action_id} on case {action.case_id} names no case process")
    return action.process_case_id


def record_named(payload: AboutACase) -> str | None:
    """The record a referrals or sanctions event is about, as the timeline names it: its referral, listing or
    letter."""
    for name in ("referral_id", "listing_id", "letter_id"):
        value = getattr(payload, name, None)
        if value:
            return str(value)
    return None
