"""The ladder against a project under time skipping, with its activities replaced by name: an open warning climbs
every rung once, in order, each after its wait, the last one flagged as the end; the resolution signal stops it
before its next letter; a rung that finds the warnings resolved stops it too; an entered calendar moves the
pending wait later."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.contracts.lifecycle import CalendarConfig, Signals
from services.referrals.project_ladder import (
    ISSUE_PROJECT_LETTER_ACTIVITY,
    RECOMPUTE_PROJECT_LADDER_ACTIVITY,
    WARNINGS_RESOLVED_SIGNAL,
    IssueProjectLetterRequest,
    ProjectLadderInput,
    ProjectLetterLadderWorkflow,
    ProjectLetterResult,
    ProjectRung,
    RecomputeProjectLadderRequest,
    RecomputeProjectLadderResult,
)
from tests.support.time_skipping import start_time_skipping

RUNGS = [
    ProjectRung(kind="warning_letter", to="general_contractor", wait_working_days=5),
    ProjectRung(kind="handoff", to="department", wait_working_days=10),
    ProjectRung(kind="supervision", to="department", wait_working_days=5),
    ProjectRung(kind="accountability_recommendation", to="department", wait_working_days=5),
    ProjectRung(kind="issue_transfer", to="discipline", wait_working_days=10),
]


class FakeLetters:
    """The referrals service's side: one letter per rung, each due its rung's days later (a day per working day
    here); "closed" once the warnings are resolved."""

    def __init__(self, env: WorkflowEnvironment, resolved_after: int | None = None) -> None:
        self.env = env
        self.requests: list[IssueProjectLetterRequest] = []
        self.times: list[datetime] = []
        self.resolved_after = resolved_after

    @activity.defn(name=ISSUE_PROJECT_LETTER_ACTIVITY)
    async def issue(self, request: IssueProjectLetterRequest) -> ProjectLetterResult:
        if self.resolved_after is not None and len(self.requests) >= self.resolved_after:
            return ProjectLetterResult(closed=True)
        now = await self.env.get_current_time()
        self.requests.append(request)
        self.times.append(now)
        return ProjectLetterResult(
            closed=False,
            letter_id=f"PLT-{request.kind}",
            next_due_at=now + timedelta(days=request.wait_working_days),
        )


class FakeRecount:
    """The service's recount on an entered calendar: the pending wait now ends `later` after the stated one."""

    def __init__(self, later: timedelta) -> None:
        self.later = later
        self.requests: list[RecomputeProjectLadderRequest] = []

    @activity.defn(name=RECOMPUTE_PROJECT_LADDER_ACTIVITY)
    async def recompute(self, request: RecomputeProjectLadderRequest) -> RecomputeProjectLadderResult:
        self.requests.append(request)
        return RecomputeProjectLadderResult(due_at=request.due_at + self.later)


def _input(first_due_at: datetime, rungs: list[ProjectRung] = RUNGS) -> ProjectLadderInput:
    ladder_id = f"project-letters:PRJ-{uuid.uuid4().hex[:6]}:payroll_received:2026-10"
    return ProjectLadderInput(
        ladder_id=ladder_id,
        project_id="PRJ-1",
        check="payroll_received",
        first_due_at=first_due_at,
        first_wait_working_days=3,
        rungs=rungs,
    )


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await start_time_skipping()
    async with environment:
        yield environment


def _worker(env: WorkflowEnvironment, queue: str, *activities: Callable[..., Any]) -> Worker:
    return Worker(env.client, task_queue=queue, workflows=[ProjectLetterLadderWorkflow], activities=list(activities))


async def test_an_open_warning_climbs_every_rung_in_order_and_the_last_ends_it(env: WorkflowEnvironment) -> None:
    fake = FakeLetters(env)
    queue = f"ladder-{uuid.uuid4().hex[:8]}"
    start = await env.get_current_time()
    workflow_input = _input(start + timedelta(days=3))
    async with _worker(env, queue, fake.issue):
        issued = await env.client.execute_workflow(
            ProjectLetterLadderWorkflow.run, workflow_input, id=workflow_input.ladder_id, task_queue=queue
        )
    assert issued == [f"PLT-{r.kind}" for r in RUNGS]
    assert [(r.kind, r.to) for r in fake.requests] == [(r.kind, r.to) for r in RUNGS]
    # The first letter waits for the warning's first wait; each next one for the days the one before gave.
    assert fake.times[0] - start >= timedelta(days=3)
    for before, after, rung in zip(fake.times, fake.times[1:], RUNGS, strict=False):
        assert after - before >= timedelta(days=rung.wait_working_days)
    assert [r.last for r in fake.requests] == [False, False, False, False, True]
    assert [r.idempotency_key for r in fake.requests] == [f"{workflow_input.ladder_id}:{r.kind}" for r in RUNGS]


async def test_the_resolution_stops_the_ladder_before_its_next_letter(env: WorkflowEnvironment) -> None:
    fake = FakeLetters(env)
    queue = f"ladder-{uuid.uuid4().hex[:8]}"
    start = await env.get_current_time()
    workflow_input = _input(start + timedelta(days=3))
    async with _worker(env, queue, fake.issue):
        handle = await env.client.start_workflow(
            ProjectLetterLadderWorkflow.run, workflow_input, id=workflow_input.ladder_id, task_queue=queue
        )
        # The warning letter is issued after 3 days; the payroll comes 2 days later and resolves the warning.
        await env.sleep(timedelta(days=5))
        assert [r.kind for r in fake.requests] == ["warning_letter"]
        await handle.signal(WARNINGS_RESOLVED_SIGNAL)
        assert await handle.result() == ["PLT-warning_letter"]
    assert len(fake.requests) == 1


async def test_a_resolution_before_the_first_letter_issues_none(env: WorkflowEnvironment) -> None:
    fake = FakeLetters(env)
    queue = f"ladder-{uuid.uuid4().hex[:8]}"
    workflow_input = _input(await env.get_current_time() + timedelta(days=3))
    async with _worker(env, queue, fake.issue):
        handle = await env.client.start_workflow(
            ProjectLetterLadderWorkflow.run, workflow_input, id=workflow_input.ladder_id, task_queue=queue
        )
        await handle.signal(ProjectLetterLadderWorkflow.warnings_resolved)
        assert await handle.result() == []
    assert fake.requests == []


async def test_a_rung_that_finds_the_warnings_resolved_ends_the_ladder(env: WorkflowEnvironment) -> None:
    fake = FakeLetters(env, resolved_after=2)
    queue = f"ladder-{uuid.uuid4().hex[:8]}"
    workflow_input = _input(await env.get_current_time() + timedelta(days=3))
    async with _worker(env, queue, fake.issue):
        issued = await env.client.execute_workflow(
            ProjectLetterLadderWorkflow.run, workflow_input, id=workflow_input.ladder_id, task_queue=queue
        )
    assert issued == ["PLT-warning_letter", "PLT-handoff"]


async def test_an_entered_calendar_moves_the_pending_wait_later(env: WorkflowEnvironment) -> None:
    fake, recount = FakeLetters(env), FakeRecount(later=timedelta(days=2))
    queue = f"ladder-{uuid.uuid4().hex[:8]}"
    due = await env.get_current_time() + timedelta(days=3)
    workflow_input = _input(due, RUNGS[:1])
    async with _worker(env, queue, fake.issue, recount.recompute):
        handle = await env.client.start_workflow(
            ProjectLetterLadderWorkflow.run,
            workflow_input,
            id=workflow_input.ladder_id,
            task_queue=queue,
            start_signal=Signals.CALENDAR_UPDATED,
            start_signal_args=[CalendarConfig()],
        )
        assert await handle.result() == ["PLT-warning_letter"]
    assert len(recount.requests) == 1
    request = recount.requests[0]
    assert (request.after_kind, request.wait_working_days, request.due_at) == (None, 3, due)
    # The warning letter waited for the recounted date, not the first one.
    assert fake.times[0] >= due + timedelta(days=2)
