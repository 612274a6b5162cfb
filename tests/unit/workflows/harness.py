"""Drives lifecycle workflows under the time-skipping test server: one worker and task queue per test."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.contracts.acceptance_deadlines import acceptance_deadlines_at_start
from services.contracts.lifecycle import (
    CASE_WORKFLOW_TYPE,
    COMPLAINT_WORKFLOW_TYPE,
    SEARCH_ATTRIBUTES,
    AcceptanceDecision,
    AcceptanceDecisionKind,
    CaseInput,
    CaseOrigin,
    CaseStatus,
    ComplaintInput,
    ComplaintStatus,
    LifecycleConfig,
    Queries,
    Updates,
    VerificationOutcome,
    VerificationResult,
    case_workflow_id,
    complaint_workflow_id,
)
from tests.support.workers import project_worker
from workflows.activities import CalendarActivities, CaseLinkActivities
from workflows.worker import WORKFLOWS

from .fakes import FakeServices, FakeSms

T = TypeVar("T")

# The employer of the early-warning cases the tests open: their project's general contractor.
EARLY_WARNING_EMPLOYER = "E-91130400MA0A1B2C3X"

_SA_TYPES = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Double": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    "Text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
}


async def register_search_attributes(client: Client) -> None:
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={name: _SA_TYPES[kind] for name, kind in SEARCH_ATTRIBUTES},
        )
    )


@dataclass
class Harness:
    env: WorkflowEnvironment
    queue: str
    services: FakeServices = field(default_factory=FakeServices)
    sms: FakeSms = field(default_factory=FakeSms)
    started: list[str] = field(default_factory=list)

    @property
    def client(self) -> Client:
        return self.env.client

    def worker(self) -> Worker:
        calendar = CalendarActivities()
        link = CaseLinkActivities(self.client)
        activities = [
            calendar.compute_deadline,
            link.join_case,
            self.sms.notify_complainant,
            *self.services.activities(),
        ]
        return project_worker(self.client, self.queue, WORKFLOWS, activities)

    def config(self, **overrides: Any) -> LifecycleConfig:
        # The shared test server's clock runs years ahead, where every deadline is provisional: holding their
        # expiry is tested on its own (test_case_provisional_deadline.py), not in every test.
        return LifecycleConfig.model_validate({"province": "henan", "hold_provisional_expiry": False, **overrides})

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    async def start_complaint(
        self,
        *,
        complaint_id: str | None = None,
        case_id: str | None = None,
        amount: Decimal | int = Decimal(9000),
        workers: int = 1,
        months: int = 4,
        received_at: datetime | None = None,
        config: LifecycleConfig | None = None,
        **extra: Any,
    ) -> WorkflowHandle[Any, ComplaintStatus]:
        complaint_id = complaint_id or self.new_id("TS")
        case_id = case_id or self.new_id("AJ")
        now = await self.env.get_current_time()
        received = received_at or now
        config = config or self.config()
        if "deadlines" not in extra:
            # As intake's worker starts a complaint: its acceptance deadlines computed before the start.
            extra["deadlines"] = acceptance_deadlines_at_start(config, received, now)
        complaint = ComplaintInput(
            complaint_id=complaint_id,
            case_id=case_id,
            county="130402",
            employer_ref="EMP-1",
            project_ref="PRJ-1",
            complainant_ref="ref_5f1c0b2e",
            received_at=received,
            amount_owed=Decimal(amount),
            workers_affected=workers,
            months_owed=months,
            config=config,
            **extra,
        )
        workflow_id = complaint_workflow_id(complaint_id)
        self.started.append(workflow_id)
        self.started.append(case_workflow_id(case_id))
        return await self.client.start_workflow(
            COMPLAINT_WORKFLOW_TYPE,
            complaint,
            id=workflow_id,
            task_queue=self.queue,
            result_type=ComplaintStatus,
        )

    async def start_early_warning_case(
        self, *, case_id: str | None = None, config: LifecycleConfig | None = None
    ) -> str:
        """A case opened on a project's early warning, as the cases worker starts it: its origin in the input and
        no member complaint. Its id."""
        case_id = case_id or self.new_id("EW")
        case = CaseInput(
            case_id=case_id,
            county="130402",
            employer_ref=EARLY_WARNING_EMPLOYER,
            project_ref="P-R0123456789ABCDEF",
            config=config or self.config(),
            origin=CaseOrigin(project_id="PRJ-1", warning_ids=["WRN-1"], opened_at=await self.env.get_current_time()),
        )
        self.started.append(case_workflow_id(case_id))
        await self.client.start_workflow(
            CASE_WORKFLOW_TYPE, case, id=case_workflow_id(case_id), task_queue=self.queue, result_type=CaseStatus
        )
        return case_id

    def case(self, case_id: str) -> WorkflowHandle[Any, CaseStatus]:
        return self.client.get_workflow_handle(case_workflow_id(case_id), result_type=CaseStatus)

    async def complaint_status(self, handle: WorkflowHandle[Any, Any]) -> ComplaintStatus:
        return await handle.query(Queries.STATUS, result_type=ComplaintStatus)

    async def case_status(self, case_id: str) -> CaseStatus:
        return await self.case(case_id).query(Queries.STATUS, result_type=CaseStatus)

    async def update(self, handle: WorkflowHandle[Any, Any], name: str, arg: Any, result_type: type[T]) -> T:
        return await handle.execute_update(name, arg, result_type=result_type)

    async def eventually(self, check: Callable[[], Awaitable[T | None]], *, seconds: float = 10) -> T:
        """Poll in real time (no time skipping) until `check` returns something truthy."""
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            try:
                value = await check()
            except Exception:
                value = None
                if asyncio.get_running_loop().time() > deadline:
                    raise
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.05)

    async def advance_until(
        self,
        check: Callable[[], Awaitable[T | None]],
        *,
        step: timedelta = timedelta(days=1),
        max_days: int = 400,
    ) -> T:
        """Skip workflow time a step at a time until `check` returns something truthy."""
        skipped = timedelta(0)
        while True:
            await asyncio.sleep(0.02)  # let the worker finish what the last step woke up
            value = await check()
            if value:
                return value
            if skipped > timedelta(days=max_days):
                raise AssertionError(f"condition not reached within {max_days} days")
            await self.env.sleep(step)
            skipped += step

    async def skip_to(self, instant: datetime, margin: timedelta = timedelta(minutes=1)) -> None:
        now = await self.env.get_current_time()
        if instant + margin > now:
            await self.env.sleep(instant + margin - now)

    async def result(self, handle: WorkflowHandle[Any, T]) -> T:
        """The workflow's result once it has finished, without skipping time to get there.

        (Awaiting `result()` on a running workflow lets the test server skip time freely, which moves the
        clock of the shared environment far ahead.)
        """
        from temporalio.api.enums.v1 import WorkflowExecutionStatus

        async def finished() -> bool:
            info = (await describe(handle)).workflow_execution_info
            return info.status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING

        await self.eventually(finished)
        return await handle.result()

    # --- common paths -----------------------------------------------------------------------------

    async def accepted_complaint(self, **kwargs: Any) -> tuple[WorkflowHandle[Any, Any], str]:
        handle = await self.start_complaint(**kwargs)
        await self.update(
            handle,
            Updates.DECIDE_ACCEPTANCE,
            AcceptanceDecision(decision=AcceptanceDecisionKind.ACCEPT, decided_by="inspector-7"),
            ComplaintStatus,
        )
        status = await self.complaint_status(handle)
        case_id = status.case_id
        await self.eventually(lambda: self._case_has(case_id, status.complaint_id))
        return handle, case_id

    async def _case_has(self, case_id: str, complaint_id: str) -> bool:
        status = await self.case_status(case_id)
        return complaint_id in status.members

    async def verified_case(
        self, outcome: VerificationOutcome = VerificationOutcome.WAGE_ARREARS, **kwargs: Any
    ) -> tuple[WorkflowHandle[Any, Any], str]:
        handle, case_id = await self.accepted_complaint(**kwargs)
        await self.update(
            self.case(case_id),
            Updates.RECORD_VERIFICATION,
            VerificationResult(
                outcome=outcome,
                verified_by="inspector-7",
                department="county-housing-bureau" if outcome.endswith("dispute") else None,
            ),
            CaseStatus,
        )
        return handle, case_id

    async def close_all(self) -> None:
        """Cancel this test's workflows and let the worker finish them.

        The time-skipping server holds a time lock for every scheduled workflow task, activity and external
        signal until it completes; terminating a workflow does not release them, and a leaked lock would
        stop time skipping for every later test. Cancelling lets the worker run each workflow to its end,
        which completes everything outstanding.
        """
        handles = [self.client.get_workflow_handle(workflow_id) for workflow_id in self.started]
        # Let what is in flight finish first (a case and its complaints signal each other).
        for handle in handles:
            with contextlib.suppress(Exception):
                await self.eventually(lambda h=handle: _quiescent(h), seconds=10)
        for handle in handles:
            with contextlib.suppress(Exception):
                await handle.cancel()
        for handle in handles:
            try:
                await self.eventually(lambda h=handle: _closed(h), seconds=15)
            except AssertionError:
                await handle.terminate("test finished; cancellation did not end it")


async def _closed(handle: WorkflowHandle[Any, Any]) -> bool:
    from temporalio.api.enums.v1 import WorkflowExecutionStatus
    from temporalio.service import RPCError, RPCStatusCode

    try:
        info = (await describe(handle)).workflow_execution_info
    except RPCError as err:
        return err.status is RPCStatusCode.NOT_FOUND
    return info.status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING


async def refused(call: Awaitable[Any]) -> str:
    """Run an update expected to be refused by its validator; return the refusal message."""
    from temporalio.client import WorkflowUpdateFailedError

    try:
        result = await call
    except WorkflowUpdateFailedError as err:
        return str(err.cause.message if hasattr(err.cause, "message") else err.cause)
    raise AssertionError(f"the update was accepted: {result}")


async def search_attributes(handle: WorkflowHandle[Any, Any]) -> dict[str, Any]:
    """The workflow's search attributes by name, leaving out unset ones.

    The time-skipping test server reports an unset attribute as null (the real server drops it), which the
    SDK's typed decoder cannot parse for Datetime attributes; decode the raw payloads instead.
    """
    from temporalio.converter import default

    description = await describe(handle)
    fields = description.workflow_execution_info.search_attributes.indexed_fields
    values: dict[str, Any] = {}
    for name, payload in fields.items():
        value = default().payload_converter.from_payloads([payload])[0]
        if isinstance(value, list):
            value = value[0] if value else None
        if value is None:
            continue
        if payload.metadata.get("type") == b"Datetime":
            value = datetime.fromisoformat(value)
        values[name] = value
    return values


async def describe(handle: WorkflowHandle[Any, Any]) -> Any:
    """The raw description (`handle.describe()` fails to decode the test server's null Datetime values)."""
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest

    client = handle._client
    return await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(namespace=client.namespace, execution=WorkflowExecution(workflow_id=handle.id))
    )


_CLOSED_ACTIVITY = {
    "activity_task_completed_event_attributes",
    "activity_task_failed_event_attributes",
    "activity_task_timed_out_event_attributes",
    "activity_task_canceled_event_attributes",
}


async def _quiescent(handle: WorkflowHandle[Any, Any]) -> bool:
    """No workflow task and no activity in flight, judged from the history."""
    from temporalio.service import RPCError, RPCStatusCode

    try:
        history = await handle.fetch_history()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return True
        raise
    open_activities: set[int] = set()
    workflow_task_open = False
    for event in history.events:
        kind = event.WhichOneof("attributes")
        if kind == "activity_task_scheduled_event_attributes":
            open_activities.add(event.event_id)
        elif kind in _CLOSED_ACTIVITY:
            open_activities.discard(getattr(event, kind).scheduled_event_id)
        elif kind in ("workflow_task_scheduled_event_attributes", "workflow_task_started_event_attributes"):
            workflow_task_open = True
        elif kind in (
            "workflow_task_completed_event_attributes",
            "workflow_task_failed_event_attributes",
            "workflow_task_timed_out_event_attributes",
        ):
            workflow_task_open = False
    return not open_activities and not workflow_task_open
