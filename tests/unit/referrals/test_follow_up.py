"""The referral follow-up workflow under time skipping, with its activities replaced by name: an unanswered
referral climbs every rung once, in order, after its deadline; an answer ends it; an entered calendar or an
extended award limit moves the deadline it waits for."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.contracts.lifecycle import CalendarConfig, Signals
from services.referrals.follow_up import (
    AWARD,
    DEADLINE_MOVED_SIGNAL,
    ESCALATE_ACTIVITY,
    RECOMPUTE_ACTIVITY,
    DeadlineMoved,
    EscalateRequest,
    EscalateResult,
    FollowUpInput,
    FollowUpRung,
    RecomputeRequest,
    RecomputeResult,
    ReferralFollowUpWorkflow,
    follow_up_workflow_id,
)
from tests.support.time_skipping import start_time_skipping

RUNGS = [
    FollowUpRung(kind=k, wait_working_days=d) for k, d in (("reminder", 1), ("supervision", 2), ("warning_letter", 3))
]


class FakeEscalation:
    """The referrals service's side: records each rung; says "closed" once the referral is answered."""

    def __init__(self, env: WorkflowEnvironment, answered_after: int | None = None) -> None:
        self.env = env
        self.calls: list[tuple[str, datetime]] = []
        self.keys: list[str] = []
        self.answered_after = answered_after

    @activity.defn(name=ESCALATE_ACTIVITY)
    async def escalate(self, request: EscalateRequest) -> EscalateResult:
        if self.answered_after is not None and len(self.calls) >= self.answered_after:
            return EscalateResult(closed=True)
        now = await self.env.get_current_time()
        self.calls.append((request.kind, now))
        self.keys.append(request.idempotency_key)
        days = next(r.wait_working_days for r in RUNGS if r.kind == request.kind)
        return EscalateResult(closed=False, letter_id=f"LTR-{request.kind}", next_due_at=now + timedelta(days=days))


async def _run(fake: FakeEscalation, env: WorkflowEnvironment, start: datetime) -> list[str]:
    queue = f"follow-up-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=queue, workflows=[ReferralFollowUpWorkflow], activities=[fake.escalate]):
        return await env.client.execute_workflow(
            ReferralFollowUpWorkflow.run,
            FollowUpInput(referral_id="REF-1", due_at=start + timedelta(hours=8), response_working_days=0, rungs=RUNGS),
            id=f"referral:REF-{uuid.uuid4().hex[:6]}",
            task_queue=queue,
        )


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await start_time_skipping()
    async with environment:
        yield environment


async def test_an_unanswered_referral_climbs_every_rung_in_order(env: WorkflowEnvironment) -> None:
    fake = FakeEscalation(env)
    start = await env.get_current_time()
    issued = await _run(fake, env, start)
    assert issued == ["LTR-reminder", "LTR-supervision", "LTR-warning_letter"]
    assert [kind for kind, _ in fake.calls] == ["reminder", "supervision", "warning_letter"]
    # The first rung waits for the (same-day) deadline; each next one for the previous rung's period.
    times = [at for _, at in fake.calls]
    assert times[0] - start >= timedelta(hours=8)
    assert times[1] - times[0] >= timedelta(days=1) and times[2] - times[1] >= timedelta(days=2)
    assert len(set(fake.keys)) == 3 and all(
        k.endswith(kind) for k, (kind, _) in zip(fake.keys, fake.calls, strict=True)
    )


async def test_an_answered_referral_stops_the_ladder(env: WorkflowEnvironment) -> None:
    fake = FakeEscalation(env, answered_after=1)
    issued = await _run(fake, env, datetime.now(UTC))
    assert issued == ["LTR-reminder"]


async def test_the_answer_signal_ends_the_follow_up_before_any_rung(env: WorkflowEnvironment) -> None:
    fake = FakeEscalation(env)
    queue = f"follow-up-{uuid.uuid4().hex[:8]}"
    start = await env.get_current_time()
    async with Worker(env.client, task_queue=queue, workflows=[ReferralFollowUpWorkflow], activities=[fake.escalate]):
        handle = await env.client.start_workflow(
            ReferralFollowUpWorkflow.run,
            FollowUpInput(referral_id="REF-2", due_at=start + timedelta(hours=8), response_working_days=0, rungs=RUNGS),
            id=f"referral:REF-{uuid.uuid4().hex[:6]}",
            task_queue=queue,
        )
        await handle.signal(ReferralFollowUpWorkflow.referral_answered)
        assert await handle.result() == []
    assert fake.calls == []


class FakeRecompute:
    """The referrals service's recount on an entered calendar: the period now ends `later` after the old one."""

    def __init__(self, later: timedelta) -> None:
        self.later = later
        self.requests: list[RecomputeRequest] = []

    @activity.defn(name=RECOMPUTE_ACTIVITY)
    async def recompute(self, request: RecomputeRequest) -> RecomputeResult:
        self.requests.append(request)
        return RecomputeResult(due_at=request.due_at + self.later, changed=True)


async def test_an_entered_calendar_moves_the_pending_deadline_later(env: WorkflowEnvironment) -> None:
    fake, recompute = FakeEscalation(env), FakeRecompute(later=timedelta(days=3))
    queue = f"follow-up-{uuid.uuid4().hex[:8]}"
    start = await env.get_current_time()
    due = start + timedelta(days=5)
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[ReferralFollowUpWorkflow],
        activities=[fake.escalate, recompute.recompute],
    ):
        handle = await env.client.start_workflow(
            ReferralFollowUpWorkflow.run,
            FollowUpInput(referral_id="REF-3", due_at=due, response_working_days=5, rungs=RUNGS[:1]),
            id=f"referral:REF-{uuid.uuid4().hex[:6]}",
            task_queue=queue,
        )
        await handle.signal(Signals.CALENDAR_UPDATED, CalendarConfig())
        assert await handle.result() == ["LTR-reminder"]
    assert recompute.requests[0].after_kind is None and recompute.requests[0].due_at == due
    # The reminder waited for the recounted date, not the first one.
    assert fake.calls[0][1] >= due + timedelta(days=3)


async def test_a_calendar_entered_before_the_first_wait_still_moves_the_deadline(env: WorkflowEnvironment) -> None:
    # The update is taken with the start (signal-with-start): it reaches the workflow before its first wait.
    fake, recompute = FakeEscalation(env), FakeRecompute(later=timedelta(days=3))
    queue = f"follow-up-{uuid.uuid4().hex[:8]}"
    due = await env.get_current_time() + timedelta(days=5)
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[ReferralFollowUpWorkflow],
        activities=[fake.escalate, recompute.recompute],
    ):
        handle = await env.client.start_workflow(
            ReferralFollowUpWorkflow.run,
            FollowUpInput(referral_id="REF-4", due_at=due, response_working_days=5, rungs=RUNGS[:1]),
            id=f"referral:REF-{uuid.uuid4().hex[:6]}",
            task_queue=queue,
            start_signal=Signals.CALENDAR_UPDATED,
            start_signal_args=[CalendarConfig()],
        )
        assert await handle.result() == ["LTR-reminder"]
    assert len(recompute.requests) == 1 and recompute.requests[0].due_at == due
    assert fake.calls[0][1] >= due + timedelta(days=3)


async def test_an_extended_award_limit_is_followed_up_from_its_new_date(env: WorkflowEnvironment) -> None:
    fake, recompute = FakeEscalation(env), FakeRecompute(later=timedelta(0))
    queue = f"follow-up-{uuid.uuid4().hex[:8]}"
    start = await env.get_current_time()
    due = start + timedelta(days=45)
    referral = f"REF-{uuid.uuid4().hex[:6]}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[ReferralFollowUpWorkflow],
        activities=[fake.escalate, recompute.recompute],
    ):
        handle = await env.client.start_workflow(
            ReferralFollowUpWorkflow.run,
            FollowUpInput(referral_id=referral, due_at=due, response_working_days=45, rungs=RUNGS[:1], phase=AWARD),
            id=follow_up_workflow_id(referral, AWARD),
            task_queue=queue,
        )
        await handle.signal(DEADLINE_MOVED_SIGNAL, DeadlineMoved(due_at=due + timedelta(days=15), added_days=15))
        assert await handle.result() == ["LTR-reminder"]
    assert fake.calls[0][1] >= due + timedelta(days=15)
    # The award's letters have keys of their own, apart from the acceptance's follow-up.
    assert fake.keys == [f"referral:{referral}:award:reminder"]
