"""The ledger projection's handlers of the workflows' own reports, of merges and splits, of the referrals'
department directory and of the other services' events that name a case (`projection.py` composes them)."""

from __future__ import annotations

from services.cases import process_state
from services.cases.projection_records import (
    AboutACase,
    Conn,
    LedgerRecords,
    record_named,
    with_agency_texts,
)
from services.common.department_directory import keep_department_directory
from services.contracts.case_ledger_events import CaseMerged, CaseSplit
from services.contracts.cases_events import ProcessReported
from services.contracts.events import EventEnvelope
from services.contracts.referrals_events import (
    DepartmentsConfigured,
    HandoffEscalated,
    ReferralKind,
    ReferralMade,
)
from services.contracts.sanctions_events import ListingPublished

# Letters that mean a department missed its handoff deadline (the rungs above the handoff letter).
LADDER_LETTERS = {
    "reminder",
    "supervision",
    "warning_letter",
    "accountability_recommendation",
    "accountability_transfer",
}


class ReportsAndRegrouping(LedgerRecords):
    # --- the workflows' own reports ---------------------------------------------------------------------------

    def _on_process_reported(self, conn: Conn, event: EventEnvelope, report: ProcessReported) -> None:
        newest = process_state.keep_latest(conn, report)
        if report.complaint_id is not None:
            case_id = self.case_of_complaint(conn, report.complaint_id)
            if case_id is None:
                return  # applied when intake's event brings the complaint's row
        else:
            assert report.process_case_id is not None
            pid = report.process_case_id
            case_id = self.case_of_process(conn, pid)
            ledger = conn.execute("SELECT county FROM ledger WHERE case_id = %s", (case_id,)).fetchone()
            if ledger is None:
                return  # a case workflow the ledger has no complaint of (applied when one arrives)
            self.ensure_process(conn, pid, report.at, ledger["county"])
            if newest:
                self._case_reported(conn, pid, case_id, ledger["county"], report)
        if report.changes:
            self.timeline(
                conn,
                case_id,
                event,
                process_state.summary(report),
                complaint_id=report.complaint_id,
                detail={"seq": report.seq, "changes": report.changes},
            )
        self.refresh(conn, case_id)

    def _case_reported(self, conn: Conn, pid: str, case_id: str, county: str, report: ProcessReported) -> None:
        """The parts of a case's report that are history rather than state: when each stage was reached, the
        closure, and the facts the reports count."""
        snapshot = report.snapshot
        self._reach_stage(conn, pid, snapshot.stage, report.at)
        if snapshot.status != "open":
            self._process_closed(conn, pid, snapshot.closure_reason, report.at)
        if "police" in snapshot.referrals:
            self.fact(conn, "criminal_referral", pid, case_id, county, snapshot.referrals["police"], report.at)
        if any(d.name.startswith("handoff.response") and d.outcome == "expired" for d in snapshot.deadlines):
            self.fact(conn, "handoff_overdue", pid, case_id, county, None, report.at)

    # --- merge and split ----------------------------------------------------------------------------------

    def _on_case_merged(self, conn: Conn, event: EventEnvelope, merge: CaseMerged) -> None:
        merge = with_agency_texts(conn, event, merge)
        survivor = self.resolve_alias(conn, merge.case_id)
        merged = merge.merged_case_id
        row = conn.execute("SELECT merged_into FROM ledger WHERE case_id = %s", (merged,)).fetchone()
        if row is None or row["merged_into"] is not None or survivor == merged:
            return
        for table in ("complaints", "processes", "payments", "case_facts", "timeline", "case_warnings"):
            conn.execute(f"UPDATE {table} SET case_id = %s WHERE case_id = %s", (survivor, merged))
        if merge.into_process_case_id and merge.processes_merged:
            # Their complaints now follow the surviving process (the merged processes close as merged).
            conn.execute(
                "UPDATE complaints SET process_case_id = %s WHERE process_case_id = ANY(%s)",
                (merge.into_process_case_id, merge.processes_merged),
            )
        conn.execute("UPDATE case_aliases SET case_id = %s WHERE case_id = %s", (survivor, merged))
        conn.execute(
            "INSERT INTO case_aliases (alias, case_id, created_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (alias) DO UPDATE SET case_id = EXCLUDED.case_id",
            (merged, survivor, event.occurred_at),
        )
        conn.execute(
            "UPDATE ledger SET merged_into = %s, status = 'merged', next_deadline = NULL, updated_at = now() "
            "WHERE case_id = %s",
            (survivor, merged),
        )
        conn.execute(
            "UPDATE ledger SET contractors = (SELECT coalesce(jsonb_agg(DISTINCT c), '[]') FROM ("
            "SELECT jsonb_array_elements(contractors) c FROM ledger WHERE case_id IN (%s, %s)) x) WHERE case_id = %s",
            (survivor, merged, survivor),
        )
        self.timeline(
            conn, survivor, event, f"案件 {merged} 并入本案（{merge.actor}）：{merge.reason}", actor=merge.actor
        )
        self.refresh(conn, survivor)

    def _on_case_split(self, conn: Conn, event: EventEnvelope, split: CaseSplit) -> None:
        split = with_agency_texts(conn, event, split)
        source = self.resolve_alias(conn, split.case_id)
        new_case = split.new_case_id
        if conn.execute("SELECT 1 FROM ledger WHERE case_id = %s", (new_case,)).fetchone():
            return
        conn.execute(
            "INSERT INTO ledger (case_id, county, city, employer_ref, employer_name, employer_credit_code, "
            "contractors, project_ref, project_name, stage, status, received_at, split_from) "
            "SELECT %s, county, city, employer_ref, employer_name, employer_credit_code, contractors, project_ref, "
            "project_name, stage, status, received_at, case_id FROM ledger WHERE case_id = %s",
            (new_case, source),
        )
        moved = conn.execute(
            "UPDATE complaints SET case_id = %s WHERE case_id = %s AND complaint_id = ANY(%s)",
            (new_case, source, split.complaint_ids),
        ).rowcount
        if not moved:
            conn.execute("DELETE FROM ledger WHERE case_id = %s", (new_case,))
            return
        summary = f"拆分：投诉 {'、'.join(split.complaint_ids)} 另立案件 {new_case}（{split.actor}）：{split.reason}"
        self.timeline(conn, source, event, summary, actor=split.actor)
        conn.execute(
            "INSERT INTO timeline (case_id, event_id, at, type, producer, actor, summary) "
            "VALUES (%s, gen_random_uuid(), %s, %s, 'cases', %s, %s)",
            (new_case, event.occurred_at, event.type, split.actor, f"自案件 {source} 拆分设立：{split.reason}"),
        )
        self.refresh(conn, source)
        self.refresh(conn, new_case)

    # --- the department directory ----------------------------------------------------------------------

    @staticmethod
    def _departments_configured(conn: Conn, event: EventEnvelope, directory: DepartmentsConfigured) -> None:
        """The whole directory, replacing the previous one (an older configuration arriving late does not
        overwrite a newer one)."""
        keep_department_directory(conn, event, directory, takes_handoffs=True)

    # --- other services ------------------------------------------------------------------------------------

    def _on_referral_made(self, conn: Conn, event: EventEnvelope, made: ReferralMade) -> None:
        # A police referral is a criminal referral the reports count.
        self._other_service(conn, event, made, fact="criminal_referral" if made.target is ReferralKind.POLICE else None)

    def _on_handoff_escalated(self, conn: Conn, event: EventEnvelope, escalated: HandoffEscalated) -> None:
        # A rung of the ladder above the handoff letter: the department missed its deadline.
        self._other_service(
            conn, event, escalated, fact="handoff_overdue" if escalated.kind in LADDER_LETTERS else None
        )

    def _on_listing_published(self, conn: Conn, event: EventEnvelope, published: ListingPublished) -> None:
        # An employer is on the blacklist once its listing is published (a decision not to list publishes
        # nothing).
        self._other_service(conn, event, published, fact="blacklist")

    def _other_service(self, conn: Conn, event: EventEnvelope, payload: AboutACase, fact: str | None = None) -> None:
        """Referrals' and sanctions' events that name a case: the timeline, and the facts the reports count."""
        process_case_id = payload.case_id
        case_id = self.case_of_process(conn, process_case_id)
        ledger = conn.execute("SELECT county FROM ledger WHERE case_id = %s", (case_id,)).fetchone()
        if ledger is None:
            return
        county = getattr(payload, "county", None) or ledger["county"]
        ref = record_named(payload)
        if fact is not None:
            self.fact(conn, fact, process_case_id, case_id, county, ref, event.occurred_at)
        fields = payload.model_dump(mode="json")
        self.timeline(
            conn,
            case_id,
            event,
            f"{event.producer}: {event.type}" + (f"（{ref}）" if ref else ""),
            detail={name: value for name, value in fields.items() if isinstance(value, str | int | float | bool)},
        )
