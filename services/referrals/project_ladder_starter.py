"""The referrals worker's inbox consumer of the monitoring service's events (`referrals-project-ladders`, on
`Topics.MONITORING` from its beginning): the service's own copy of the project register and of the early
warnings, and the ladders against projects they start and stop.

- `project.registered`, `project.updated`: the project as the letters quote it (name, code, county, general
  contractor, industry department), the newest version kept.
- `project.warning_raised` of a check that climbs the ladder (`[project_ladder] checks`): with no ladder open
  for the project and check, a new one is recorded and its workflow started (idempotently: one per ladder id,
  ever); with one open, the warning joins it — a later month's warning of the same check is not a new ladder,
  and the letters name every month still open.
- `project.warning_resolved`: once every warning of the check is resolved, the ladder is closed (with
  `project_ladder.ended` if it had not ended with its last letter) and its workflow told to stop.

Each event is applied once, in the inbox transaction, with the SQL here; the start and the signal are made in
it too, so a failed one is retried with the event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import psycopg
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from services.common.event_handlers import EventHandlers
from services.common.outbox import add_event
from services.common.service import ServiceSettings
from services.common.workflow_starter import WorkflowStarter
from services.contracts.events import EventEnvelope, Topics
from services.contracts.lifecycle import CalendarConfig, TaskQueues
from services.contracts.monitoring_events import (
    ProjectRegistered,
    ProjectUpdated,
    ProjectWarningRaised,
    ProjectWarningResolved,
    WarningCheck,
)
from services.contracts.referrals_events import LetterKind, ProjectLadderEnd, ProjectLadderEnded
from services.referrals.command_base import PRODUCER
from services.referrals.domain import working_days_due
from services.referrals.project_ladder import (
    PROJECT_LADDER_WORKFLOW_TYPE,
    WARNINGS_RESOLVED_SIGNAL,
    ProjectLadderInput,
    ProjectRung,
)
from services.referrals.project_ladder_settings import ProjectLadderSettings
from services.referrals.project_letter_rules import project_ladder_id

log = logging.getLogger(__name__)

CONSUMER_NAME = "referrals-project-ladders"
Conn = psycopg.Connection[Any]


class ProjectLadderStarter(WorkflowStarter):
    """Inbox handler: keep the register and the warnings; start, join and stop the ladders against projects."""

    def __init__(
        self, settings: ServiceSettings, ladder: ProjectLadderSettings, calendar: Callable[[], CalendarConfig]
    ) -> None:
        super().__init__(settings)
        self._ladder = ladder
        self._calendar = calendar
        self._working_day_seconds = settings.working_day_seconds
        self.handlers = EventHandlers(
            {
                ProjectRegistered: self._keep_project,
                ProjectUpdated: self._keep_project,
                ProjectWarningRaised: self._raised,
                ProjectWarningResolved: self._resolved,
            },
            consumer=CONSUMER_NAME,
        )

    @staticmethod
    def _keep_project(conn: Conn, event: EventEnvelope, change: ProjectRegistered | ProjectUpdated) -> None:
        p = change.project
        conn.execute(
            "INSERT INTO project_register (project_id, code, county, name, general_contractor_name, "
            "general_contractor_credit_code, department, version, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (project_id) DO UPDATE SET "
            "code = EXCLUDED.code, county = EXCLUDED.county, name = EXCLUDED.name, "
            "general_contractor_name = EXCLUDED.general_contractor_name, "
            "general_contractor_credit_code = EXCLUDED.general_contractor_credit_code, "
            "department = EXCLUDED.department, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at "
            "WHERE project_register.version < EXCLUDED.version",
            (
                p.project_id,
                p.code,
                p.county,
                p.name,
                p.general_contractor.name,
                p.general_contractor.credit_code,
                p.department,
                p.version,
                event.occurred_at,
            ),
        )

    def _raised(self, conn: Conn, event: EventEnvelope, raised: ProjectWarningRaised) -> None:
        conn.execute(
            "INSERT INTO project_warnings (warning_id, project_id, county, month, check_name, level, raised_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (warning_id) DO NOTHING",
            (
                raised.warning_id,
                raised.project_id,
                raised.county,
                raised.month,
                raised.check.value,
                raised.level.value,
                event.occurred_at,
            ),
        )
        if raised.check not in self._ladder.checks:
            return
        warning = conn.execute(
            "SELECT resolved_at, ladder_id FROM project_warnings WHERE warning_id = %s", (raised.warning_id,)
        ).fetchone()
        if warning is None or warning["resolved_at"] is not None:
            return
        open_ladder = _open_ladder(conn, raised.project_id, raised.check)
        if open_ladder is not None:
            _join(conn, raised.warning_id, open_ladder["ladder_id"])
            return
        ladder_id = project_ladder_id(raised.project_id, raised.check, raised.month)
        # The first letter's wait runs from the warning (a consumer catching up counts from then, not now).
        _, first_due_at = working_days_due(event.occurred_at, self._ladder.first_wait_working_days, self._calendar())
        conn.execute(
            "INSERT INTO project_ladders (ladder_id, project_id, county, check_name, first_month, opened_at, "
            "next_due_at) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (ladder_id) DO NOTHING",
            (
                ladder_id,
                raised.project_id,
                raised.county,
                raised.check.value,
                raised.month,
                event.occurred_at,
                first_due_at,
            ),
        )
        _join(conn, raised.warning_id, ladder_id)
        workflow_input = ProjectLadderInput(
            ladder_id=ladder_id,
            project_id=raised.project_id,
            check=raised.check.value,
            first_due_at=first_due_at,
            first_wait_working_days=self._ladder.first_wait_working_days,
            rungs=[
                ProjectRung(kind=r.kind.value, to=r.to, wait_working_days=r.wait_working_days)
                for r in self._ladder.rungs
            ],
            working_day_seconds=self._working_day_seconds,
        )
        self.run(self._start(ladder_id, workflow_input))

    def _resolved(self, conn: Conn, event: EventEnvelope, resolved: ProjectWarningResolved) -> None:
        conn.execute(
            "INSERT INTO project_warnings (warning_id, project_id, county, month, check_name, resolved_at, "
            "resolution) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (warning_id) DO UPDATE SET "
            "resolved_at = COALESCE(project_warnings.resolved_at, EXCLUDED.resolved_at), "
            "resolution = COALESCE(project_warnings.resolution, EXCLUDED.resolution)",
            (
                resolved.warning_id,
                resolved.project_id,
                resolved.county,
                resolved.month,
                resolved.check.value,
                event.occurred_at,
                resolved.resolution.value,
            ),
        )
        ladder = _open_ladder(conn, resolved.project_id, resolved.check)
        if ladder is None:
            return
        still_open = conn.execute(
            "SELECT 1 FROM project_warnings WHERE project_id = %s AND check_name = %s AND resolved_at IS NULL LIMIT 1",
            (resolved.project_id, resolved.check.value),
        ).fetchone()
        if still_open is not None:
            return
        conn.execute(
            "UPDATE project_ladders SET closed_at = %s, ended_at = COALESCE(ended_at, %s), "
            "end_reason = COALESCE(end_reason, 'warnings_resolved') WHERE ladder_id = %s",
            (event.occurred_at, event.occurred_at, ladder["ladder_id"]),
        )
        if ladder["ended_at"] is None:
            project = conn.execute(
                "SELECT department FROM project_register WHERE project_id = %s", (resolved.project_id,)
            ).fetchone()
            ended = ProjectLadderEnded(
                ladder_id=ladder["ladder_id"],
                project_id=resolved.project_id,
                county=ladder["county"],
                department=project["department"] if project else None,
                check=resolved.check,
                reason=ProjectLadderEnd.WARNINGS_RESOLVED,
                letters=ladder["letters"],
                last_kind=LetterKind(ladder["last_kind"]) if ladder["last_kind"] else None,
            )
            envelope = EventEnvelope.wrap(
                ended, subject=resolved.project_id, producer=PRODUCER, occurred_at=event.occurred_at
            )
            add_event(conn, Topics.REFERRALS, envelope)
            self.run(self._stop(ladder["ladder_id"]))

    async def _start(self, ladder_id: str, workflow_input: ProjectLadderInput) -> None:
        client = await self.client()
        try:
            await client.start_workflow(
                PROJECT_LADDER_WORKFLOW_TYPE,
                workflow_input,
                id=ladder_id,
                task_queue=TaskQueues.REFERRALS,
                # One workflow per ladder, ever: a redelivered warning must not start its letters again.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            log.info("project ladder already started", extra={"ladder_id": ladder_id})

    async def _stop(self, ladder_id: str) -> None:
        client = await self.client()
        try:
            await client.get_workflow_handle(ladder_id).signal(WARNINGS_RESOLVED_SIGNAL)
        except RPCError:
            # Finished already (or not started yet): its next rung finds the ladder closed anyway.
            log.info("project ladder not running", extra={"ladder_id": ladder_id})


def _open_ladder(conn: Conn, project_id: str, check: WarningCheck) -> dict[str, Any] | None:
    row: dict[str, Any] | None = conn.execute(
        "SELECT ladder_id, county, letters, last_kind, ended_at FROM project_ladders "
        "WHERE project_id = %s AND check_name = %s AND closed_at IS NULL FOR UPDATE",
        (project_id, check.value),
    ).fetchone()
    return row


def _join(conn: Conn, warning_id: str, ladder_id: str) -> None:
    conn.execute("UPDATE project_warnings SET ladder_id = %s WHERE warning_id = %s", (ladder_id, warning_id))
