"""The processes of early-warning cases (预警案件), run by the cases worker's inbox consumer `cases-early-warning`
over this service's own topic.

The ledger opens an early-warning case on a project's warning and places in it the complaints filed about the
project while it is open (`projection_warnings.py`); this consumer makes the processes follow:

- `case.early_warning_opened` starts the case's workflow (`CaseWorkflow`, `case:<case id>`) with the case's
  origin in its input and no member complaint, so the inspector verifies it like any case. Its id is the case's
  and never reused (`REJECT_DUPLICATE`): a redelivered event finds it started.
- `process.reported` of a case process whose complaints the ledger placed in an open early-warning case, but
  which is not that case's own (a complaint, once accepted, joins the case its employer and site derive), is
  asked to merge into the early-warning case's process while it is not yet verified — the `merge_into` update
  an inspector's merge sends (services/cases/regrouping.py): its complaints join the early-warning case's
  workflow as members, are told which case they follow, and the process closes as merged. The move is
  published as `case.process_merged`; a process already verified refuses, and the two stay side by side under
  the one ledger case, as after a merge.

Neither writes the ledger: the workflows report their own state, and the event says what moved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import psycopg
from temporalio.client import WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from services.common.event_handlers import EventHandlers
from services.common.outbox import add_event
from services.common.settings import CommonSettings
from services.common.workflow_starter import WorkflowStarter
from services.contracts.case_warning_events import EarlyWarningCaseOpened, ProcessMerged
from services.contracts.cases_events import ProcessReported
from services.contracts.events import EventEnvelope
from services.contracts.lifecycle import (
    CASE_WORKFLOW_TYPE,
    CaseInput,
    CaseMergeRequest,
    CaseOrigin,
    CaseStatus,
    ClosureReason,
    LifecycleConfig,
    Queries,
    Status,
    TaskQueues,
    Updates,
    case_workflow_id,
)

log = logging.getLogger(__name__)

CONSUMER_NAME = "cases-early-warning"
# Who asks a complaint's process to merge into its project's early-warning case (the workflow's timeline says).
MERGED_BY = "cases-worker"
RPC_TIMEOUT = timedelta(seconds=30)

Conn = psycopg.Connection[Any]

# The open early-warning case whose complaints a case process holds, when it is not that case's own process.
_EARLY_WARNING_CASE_OF_PROCESS = (
    "SELECT l.case_id, l.county FROM complaints c JOIN ledger l ON l.case_id = c.case_id "
    "WHERE c.process_case_id = %s AND l.kind = 'early_warning' AND l.status = 'open' AND l.merged_into IS NULL "
    "AND l.case_id <> %s ORDER BY c.submitted_at LIMIT 1"
)


def early_warning_case_input(opened: EarlyWarningCaseOpened, opened_at: datetime, config: LifecycleConfig) -> CaseInput:
    """The workflow input of an early-warning case: the ledger's case, its origin, and no member complaint."""
    return CaseInput(
        case_id=opened.case_id,
        county=opened.county,
        employer_ref=opened.employer_ref,
        project_ref=opened.project_ref,
        config=config,
        origin=CaseOrigin(project_id=opened.project_id, warning_ids=[opened.warning_id], opened_at=opened_at),
    )


class EarlyWarningCases(WorkflowStarter):
    """Inbox handler: start each early-warning case's workflow; merge its project's complaints' processes in."""

    def __init__(self, settings: CommonSettings, config: Callable[[], LifecycleConfig]) -> None:
        super().__init__(settings)
        # The configuration each new workflow carries, as the files say when it starts (`LiveLifecycleConfig`).
        self._config = config
        self.handlers = EventHandlers(
            {EarlyWarningCaseOpened: self._opened, ProcessReported: self._reported}, consumer=CONSUMER_NAME
        )

    def _opened(self, _conn: Conn, event: EventEnvelope, opened: EarlyWarningCaseOpened) -> None:
        self.run(self._start(early_warning_case_input(opened, event.occurred_at, self._config())))

    async def _start(self, workflow_input: CaseInput) -> None:
        client = await self.client()
        workflow_id = case_workflow_id(workflow_input.case_id)
        try:
            await client.start_workflow(
                CASE_WORKFLOW_TYPE,
                workflow_input,
                id=workflow_id,
                task_queue=TaskQueues.LIFECYCLE,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                rpc_timeout=RPC_TIMEOUT,
            )
            log.info("early-warning case workflow started", extra={"workflow_id": workflow_id})
        except WorkflowAlreadyStartedError:
            log.info("early-warning case workflow already started", extra={"workflow_id": workflow_id})

    def _reported(self, conn: Conn, _event: EventEnvelope, report: ProcessReported) -> None:
        pid = report.process_case_id
        if report.kind != "case" or pid is None:
            return
        if report.snapshot.status != Status.OPEN.value or report.snapshot.stage != "verification":
            return  # a process past verification keeps its own order or handoff; a closed one has nothing to move
        row = conn.execute(_EARLY_WARNING_CASE_OF_PROCESS, (pid, pid)).fetchone()
        if row is None:
            return
        target: str = row["case_id"]
        if self.run(self._merge(pid, target)):
            merged = ProcessMerged(
                case_id=target, process_case_id=pid, into_process_case_id=target, county=row["county"]
            )
            add_event(conn, merged.TOPIC, EventEnvelope.wrap(merged, subject=target, producer="cases"))

    async def _merge(self, pid: str, target: str) -> bool:
        """Ask process `pid` to move its complaints into `target`'s; whether it did (or had done so already)."""
        client = await self.client()
        try:
            survivor = await client.get_workflow_handle(case_workflow_id(target)).query(
                Queries.STATUS, result_type=CaseStatus, rpc_timeout=RPC_TIMEOUT
            )
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            log.warning("early-warning case has no workflow", extra={"case_id": target, "process_case_id": pid})
            return False
        if survivor.status is not Status.OPEN:
            return False  # closed since: the complaint's process goes on as its own case
        handle = client.get_workflow_handle(case_workflow_id(pid))
        request = CaseMergeRequest(
            into_case_id=target,
            merged_by=MERGED_BY,
            reason=f"投诉所涉项目有在办预警案件 {target}，并入该案办理",
        )
        try:
            await handle.execute_update(
                Updates.MERGE_INTO, request, id=f"merge:{pid}:{target}", result_type=CaseStatus, rpc_timeout=RPC_TIMEOUT
            )
        except WorkflowUpdateFailedError as refused:
            # Verified meanwhile, or a merge already under way: the processes stay side by side.
            log.info("process not merged", extra={"process_case_id": pid, "case_id": target, "why": str(refused.cause)})
            return False
        except RPCError as err:
            # Already merged and closed (the event is redelivered after the update): it says so in its status.
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            try:
                status = await handle.query(Queries.STATUS, result_type=CaseStatus, rpc_timeout=RPC_TIMEOUT)
            except (RPCError, WorkflowQueryFailedError):
                return False
            return status.closure_reason is ClosureReason.MERGED
        return True
