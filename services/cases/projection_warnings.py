"""The ledger projection's handlers of the monitoring service's early warnings, and of the early-warning cases
they open (`projection.py` composes them).

- `project.warning_raised`: kept once in `case_warnings`. While the project has an open early-warning case the
  warning is recorded against it (`case.warning_recorded`); otherwise a case is opened for the project
  (`case.early_warning_opened`): its employer is the project's general contractor, its id derived from the
  project (`early_warning_case_id`, the n-th such case of the project). The cases worker starts its workflow
  from that event (`early_warning_cases.py`). A warning about a project the register copy does not hold (kept
  before the cases service read the register) is kept without a case.
- `project.warning_resolved`: the warning's resolution, recorded on its case and its timeline. The case stays
  as it is: the inspector verifies and decides (a check passing again or an inspector of the monitoring service
  resolving the warning does not say that the workers were paid).
- A complaint filed at a site of a project with an open early-warning case, whose employer and site would
  open a case of their own, is placed in the early-warning case instead (`early_warning_case_for`,
  `case.complaint_routed`); its process follows it there when accepted (`case.process_merged`).

Every warning, resolution and move is on the case's timeline.
"""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from services.cases import domain
from services.cases.projection_records import Conn, LedgerRecords
from services.common.outbox import add_event
from services.contracts.case_warning_events import (
    CaseWarningRecorded,
    ComplaintRouted,
    EarlyWarningCaseOpened,
    ProcessMerged,
)
from services.contracts.cases import early_warning_case_id, employer_ref, registered_project_ref
from services.contracts.events import EventEnvelope, EventPayload
from services.contracts.intake_events import ComplaintSubmitted
from services.contracts.lifecycle import CaseKind
from services.contracts.monitoring_events import ProjectWarningRaised, ProjectWarningResolved

# What each monthly check found wrong and each level, as the timeline says it (docs/monitoring.md, "The checks").
CHECK_TEXT = {
    "payroll_received": "当月工资发放记录未按时报送",
    "roster_paid": "考勤在册人员未全部发放工资",
    "pay_in_line": "工资明显低于出勤应得",
    "deposit": "工资保证金未足额存储",
    "wage_account": "未按时开设农民工工资专用账户",
}
LEVEL_TEXT = {"yellow": "黄色预警", "orange": "橙色预警", "red": "红色预警"}
RESOLUTION_TEXT = {"check_passed": "复查通过", "inspector": "监控人员核销"}

# The open early-warning case of the project whose QR poster sites include a complaint's site, in its county.
_OPEN_CASE_AT_SITE = (
    "SELECT l.case_id, l.project_id FROM projects p JOIN ledger l ON l.project_id = p.project_id "
    "WHERE %s = ANY(p.site_ids) AND l.kind = 'early_warning' AND l.status = 'open' AND l.merged_into IS NULL "
    "AND l.county = %s ORDER BY l.received_at LIMIT 1"
)


def warning_summary(raised: ProjectWarningRaised) -> str:
    check = CHECK_TEXT.get(raised.check.value, raised.check.value)
    return f"{LEVEL_TEXT.get(raised.level.value, raised.level.value)}：{raised.month} {check}（{raised.warning_id}）"


class EarlyWarnings(LedgerRecords):
    # --- the monitoring service's warnings --------------------------------------------------------------------

    def _on_warning_raised(self, conn: Conn, event: EventEnvelope, raised: ProjectWarningRaised) -> None:
        kept = conn.execute(
            "INSERT INTO case_warnings (warning_id, project_id, county, month, check_name, level, facts, raised_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (warning_id) DO NOTHING",
            (
                raised.warning_id,
                raised.project_id,
                raised.county,
                raised.month,
                raised.check.value,
                raised.level.value,
                Jsonb(raised.facts),
                event.occurred_at,
            ),
        ).rowcount
        if not kept:
            return
        open_case = conn.execute(
            "SELECT case_id FROM ledger WHERE kind = 'early_warning' AND project_id = %s AND status = 'open' "
            "AND merged_into IS NULL",
            (raised.project_id,),
        ).fetchone()
        case_id = open_case["case_id"] if open_case else self._open_early_warning_case(conn, event, raised)
        if case_id is None:
            return
        conn.execute("UPDATE case_warnings SET case_id = %s WHERE warning_id = %s", (case_id, raised.warning_id))
        self.timeline(conn, case_id, event, warning_summary(raised), detail={"facts": raised.facts})
        if open_case:
            recorded = CaseWarningRecorded(
                case_id=case_id,
                county=raised.county,
                project_id=raised.project_id,
                warning_id=raised.warning_id,
                month=raised.month,
                check=raised.check.value,
                level=raised.level.value,
            )
            self._publish(conn, event, case_id, recorded)

    def _open_early_warning_case(self, conn: Conn, event: EventEnvelope, raised: ProjectWarningRaised) -> str | None:
        """Open the project's next early-warning case and publish it; None when the project is not known."""
        project = conn.execute(
            "SELECT project_id, county, name, general_contractor_credit_code, general_contractor_name "
            "FROM projects WHERE project_id = %s",
            (raised.project_id,),
        ).fetchone()
        if project is None:
            return None
        earlier = conn.execute(
            "SELECT count(*) AS n FROM ledger WHERE kind = 'early_warning' AND project_id = %s", (raised.project_id,)
        ).fetchone()
        round_ = 1 + (earlier["n"] if earlier else 0)
        code = project["general_contractor_credit_code"]
        case_id = early_warning_case_id(code, raised.project_id, round_)
        employer = employer_ref(code, "")
        project_ref = registered_project_ref(raised.project_id, round_)
        # The name as the register last had it (a project kept before migration 0014 is named by its code).
        employer_name = project["general_contractor_name"] or code
        conn.execute(
            "INSERT INTO ledger (case_id, county, city, employer_ref, employer_name, employer_credit_code, "
            "project_ref, project_name, stage, status, received_at, kind, project_id) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'verification', 'open', %s, %s, %s)",
            (
                case_id,
                raised.county,
                domain.city_of(raised.county),
                employer,
                employer_name,
                code,
                project_ref,
                project["name"],
                event.occurred_at,
                CaseKind.EARLY_WARNING.value,
                raised.project_id,
            ),
        )
        opened = EarlyWarningCaseOpened(
            case_id=case_id,
            county=raised.county,
            employer_ref=employer,
            employer_name=employer_name,
            employer_credit_code=code,
            project_ref=project_ref,
            project_id=raised.project_id,
            project_name=project["name"],
            warning_id=raised.warning_id,
            month=raised.month,
            check=raised.check.value,
            level=raised.level.value,
        )
        self._publish(conn, event, case_id, opened)
        return case_id

    def _on_warning_resolved(self, conn: Conn, event: EventEnvelope, resolved: ProjectWarningResolved) -> None:
        row = conn.execute(
            "UPDATE case_warnings SET resolution = %s, passed_month = %s, resolved_at = %s "
            "WHERE warning_id = %s AND resolution IS NULL RETURNING case_id",
            (resolved.resolution.value, resolved.passed_month, event.occurred_at, resolved.warning_id),
        ).fetchone()
        if row is None or row["case_id"] is None:
            return
        how = RESOLUTION_TEXT.get(resolved.resolution.value, resolved.resolution.value)
        if resolved.passed_month:
            how += f"（{resolved.passed_month}）"
        still_open = conn.execute(
            "SELECT count(*) AS n FROM case_warnings WHERE case_id = %s AND resolution IS NULL", (row["case_id"],)
        ).fetchone()
        summary = f"预警 {resolved.warning_id} 已解除：{how}"
        if still_open is not None and still_open["n"] == 0:
            summary += "；本案预警均已解除，是否存在欠薪由承办人核查认定"
        self.timeline(conn, row["case_id"], event, summary)

    # --- complaints about a project with an open early-warning case ----------------------------------------

    @staticmethod
    def early_warning_case_for(conn: Conn, complaint: ComplaintSubmitted) -> dict[str, Any] | None:
        """The open early-warning case a complaint filed at its project's site joins, if any."""
        if not complaint.site_id:
            return None
        return conn.execute(_OPEN_CASE_AT_SITE, (complaint.site_id, complaint.county_code)).fetchone()  # type: ignore[no-any-return]

    def route_complaint(
        self, conn: Conn, event: EventEnvelope, complaint: ComplaintSubmitted, case: dict[str, Any], own_case_id: str
    ) -> None:
        routed = ComplaintRouted(
            case_id=case["case_id"],
            complaint_id=complaint.complaint_id,
            own_case_id=own_case_id,
            project_id=case["project_id"],
            county=complaint.county_code,
        )
        self._publish(conn, event, case["case_id"], routed)

    # --- this service's own events about them ------------------------------------------------------------------

    def _on_early_warning_opened(self, conn: Conn, event: EventEnvelope, opened: EarlyWarningCaseOpened) -> None:
        self.timeline(
            conn,
            self.resolve_alias(conn, opened.case_id),
            event,
            f"预警案件立案登记：{opened.employer_name}（总包单位）/ {opened.project_name}，依据预警 {opened.warning_id}",
        )

    def _on_warning_recorded(self, conn: Conn, event: EventEnvelope, recorded: CaseWarningRecorded) -> None:
        self.timeline(
            conn, self.resolve_alias(conn, recorded.case_id), event, f"预警 {recorded.warning_id} 记入本预警案件"
        )

    def _on_complaint_routed(self, conn: Conn, event: EventEnvelope, routed: ComplaintRouted) -> None:
        self.timeline(
            conn,
            self.resolve_alias(conn, routed.case_id),
            event,
            f"投诉 {routed.complaint_id} 涉及本项目，并入本预警案件（按用人单位和项目应为案件 {routed.own_case_id}）",
            complaint_id=routed.complaint_id,
        )

    def _on_process_merged(self, conn: Conn, event: EventEnvelope, merged: ProcessMerged) -> None:
        case_id = self.resolve_alias(conn, merged.case_id)
        # Its complaints now follow the early-warning case's process (the merged process closes as merged).
        conn.execute(
            "UPDATE complaints SET process_case_id = %s WHERE process_case_id = %s AND case_id = %s",
            (merged.into_process_case_id, merged.process_case_id, case_id),
        )
        self.timeline(
            conn,
            case_id,
            event,
            f"案件流程 {merged.process_case_id} 的投诉并入本案流程 {merged.into_process_case_id} 办理",
        )
        self.refresh(conn, case_id)

    @staticmethod
    def _publish(conn: Conn, event: EventEnvelope, case_id: str, payload: EventPayload) -> None:
        add_event(
            conn,
            payload.TOPIC,
            EventEnvelope.wrap(payload, subject=case_id, producer="cases", occurred_at=event.occurred_at),
        )
