"""The payouts' activities, hosted by the monitoring worker on `anxin-monitoring`: the one a case calls to ask for
a payout (`monitoring.request_payout`, services/contracts/guarantee_funds.py), which starts the payout's workflow,
and the steps of that workflow (`payout_workflow.py`), each the service writing its own record.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from psycopg_pool import AsyncConnectionPool
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from services.common.errors import Refused
from services.contracts.guarantee_funds import (
    PAYOUT_REQUEST_REFUSED,
    PAYOUT_WORKFLOW_TYPE,
    REQUEST_PAYOUT_ACTIVITY,
    PayoutAccepted,
    PayoutRequest,
    PayoutSource,
    PayoutStage,
)
from services.contracts.lifecycle import CalendarConfig, TaskQueues
from services.monitoring.guarantee_rules import process_date
from services.monitoring.payout_messages import (
    DECIDE_PAYOUT_ACTIVITY,
    DEMAND_TOP_UP_ACTIVITY,
    PAYOUT_DATE_ACTIVITY,
    PAYOUT_OVERDUE_ACTIVITY,
    RECORD_PAID_ACTIVITY,
    RECORD_RECOVERY_ACTIVITY,
    RECORD_TOP_UP_ACTIVITY,
    REMIND_RECOVERY_ACTIVITY,
    REMIND_TOP_UP_ACTIVITY,
    WRITE_OFF_ACTIVITY,
    DecideOutcome,
    DecideStep,
    PaidStep,
    PayoutDate,
    PayoutDateRequest,
    PayoutInput,
    PayoutTiming,
    SettlementOutcome,
    SettlementStep,
    Step,
    StepOutcome,
    WriteOffOutcome,
    WriteOffStep,
)
from services.monitoring.payout_requests import PayoutRequests
from services.monitoring.payout_settlements import PayoutSettlements
from services.monitoring.payout_steps import PayoutSteps

log = logging.getLogger(__name__)


class PayoutActivities:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        client: Client,
        calendar: Callable[[], CalendarConfig],
        timing: PayoutTiming,
        *,
        task_queue: str = TaskQueues.MONITORING,
    ) -> None:
        self._requests = PayoutRequests(pool)
        self._steps = PayoutSteps(pool)
        self._settlements = PayoutSettlements(pool)
        self._client = client
        self._calendar = calendar
        self._timing = timing
        self._task_queue = task_queue

    @activity.defn(name=REQUEST_PAYOUT_ACTIVITY)
    async def request_payout(self, request: PayoutRequest) -> PayoutAccepted:
        try:
            payout, created = await self._requests.request(request)
        except Refused as refused:
            raise ApplicationError(
                refused.detail or refused.title, type=PAYOUT_REQUEST_REFUSED, non_retryable=True
            ) from None
        workflow_input = PayoutInput(
            payout_id=payout["payout_id"],
            case_id=payout["case_id"],
            county=payout["county"],
            project_id=payout["project_id"],
            source=PayoutSource(payout["source"]),
            amount=payout["amount"],
            workers_paid=payout["workers_paid"],
            timing=self._timing,
        )
        # Started after the payout is recorded: a retry after a crash in between starts it then; a retried request
        # finds it started (one workflow per payout, ever).
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await self._client.start_workflow(
                PAYOUT_WORKFLOW_TYPE,
                workflow_input,
                id=payout["workflow_id"],
                task_queue=self._task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        log.info(
            "payout requested",
            extra={"payout_id": payout["payout_id"], "case_id": payout["case_id"], "new_payout": created},
        )
        return PayoutAccepted(
            payout_id=payout["payout_id"],
            workflow_id=payout["workflow_id"],
            sequence=payout["sequence"],
            stage=PayoutStage(payout["stage"]),
            created=created,
        )

    @activity.defn(name=PAYOUT_DATE_ACTIVITY)
    async def payout_date(self, request: PayoutDateRequest) -> PayoutDate:
        day = process_date(
            request.start, working_days=request.working_days, months=request.months, calendar_config=self._calendar()
        )
        return PayoutDate(day=day.day, at=day.at, provisional=day.provisional)

    @activity.defn(name=DECIDE_PAYOUT_ACTIVITY)
    async def decide_payout(self, step: DecideStep) -> DecideOutcome:
        return await self._steps.decide(step)

    @activity.defn(name=PAYOUT_OVERDUE_ACTIVITY)
    async def payout_overdue(self, step: Step) -> StepOutcome:
        return await self._steps.overdue(step)

    @activity.defn(name=RECORD_PAID_ACTIVITY)
    async def record_payout_paid(self, step: PaidStep) -> StepOutcome:
        return await self._steps.paid(step)

    @activity.defn(name=DEMAND_TOP_UP_ACTIVITY)
    async def demand_top_up(self, step: Step) -> StepOutcome:
        return await self._settlements.demand_top_up(step)

    @activity.defn(name=REMIND_TOP_UP_ACTIVITY)
    async def remind_top_up(self, step: Step) -> StepOutcome:
        return await self._settlements.remind(step)

    @activity.defn(name=REMIND_RECOVERY_ACTIVITY)
    async def remind_recovery(self, step: Step) -> StepOutcome:
        return await self._settlements.remind(step)

    @activity.defn(name=RECORD_TOP_UP_ACTIVITY)
    async def record_top_up(self, step: SettlementStep) -> SettlementOutcome:
        return await self._settlements.settle(step)

    @activity.defn(name=RECORD_RECOVERY_ACTIVITY)
    async def record_recovery(self, step: SettlementStep) -> SettlementOutcome:
        return await self._settlements.settle(step)

    @activity.defn(name=WRITE_OFF_ACTIVITY)
    async def write_off_advance(self, step: WriteOffStep) -> WriteOffOutcome:
        return await self._settlements.write_off(step)

    def all(self) -> list[Callable[..., object]]:
        """Every activity, for the worker."""
        return [
            self.request_payout,
            self.payout_date,
            self.decide_payout,
            self.payout_overdue,
            self.record_payout_paid,
            self.demand_top_up,
            self.remind_top_up,
            self.remind_recovery,
            self.record_top_up,
            self.record_recovery,
            self.write_off_advance,
        ]
