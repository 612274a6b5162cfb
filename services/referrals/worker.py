"""The referrals worker process.

- `referrals-case-facts` (inbox) keeps the case facts the letters quote, from intake's and cases' events.
- `referrals-follow-up-starter` (inbox) starts the follow-up workflow of each followed-up referral from the
  service's own `referral.made` events (so a referral and the start of its timers cannot drift apart: the
  event is in the referral's transaction, the start is retried until it is recorded) and tells it when the
  referral is answered or withdrawn; an arbitration body's acceptance starts the award's follow-up, whose
  limit an extension moves and the award ends.
- `referrals-project-ladders` (inbox) reads the monitoring service's events: its copy of the project register
  and of the early warnings, and the ladders against projects (四函两单) an open warning starts and its
  resolution stops (services/referrals/project_ladder_starter.py).
- A Temporal worker on `anxin-referrals` hosts those workflows (`ReferralFollowUp`, `ProjectLetterLadder`) and
  their activities, which write the letters in this service's own tables.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import psycopg
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError
from temporalio.worker import Worker

from services.common.cjk_font import cjk_font
from services.common.db import open_async_pool, open_pool
from services.common.event_handlers import EventHandlers
from services.common.gauges import dead_letters_measure, register_query_gauges
from services.common.health import Check, database_check, kafka_check, status_check
from services.common.inbox import InboxConsumer, PermanentEventError
from services.common.kafka import KafkaProbe, new_consumer
from services.common.lifecycle_config import live_calendar
from services.common.runner import Component, TemporalWorkerComponent
from services.common.service import ServiceSettings
from services.common.workflow_runner import sandboxed_workflow_runner
from services.common.workflow_starter import WorkflowStarter
from services.contracts.events import EventEnvelope, Topics
from services.contracts.lifecycle import TaskQueues
from services.contracts.referrals_events import (
    LetterKind,
    ReferralAwardExtended,
    ReferralAwardMade,
    ReferralDecided,
    ReferralDecision,
    ReferralKind,
    ReferralMade,
    ReferralWithdrawn,
)
from services.referrals import domain
from services.referrals.award import ArbitrationAnswers
from services.referrals.commands import Referrals
from services.referrals.departments import DepartmentsConfig, load_departments
from services.referrals.follow_up import (
    ANSWERED_SIGNAL,
    AWARD,
    DEADLINE_MOVED_SIGNAL,
    ESCALATE_ACTIVITY,
    FOLLOW_UP_WORKFLOW_TYPE,
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
from services.referrals.gauges import measure_handoffs
from services.referrals.project_ladder import (
    ISSUE_PROJECT_LETTER_ACTIVITY,
    RECOMPUTE_PROJECT_LADDER_ACTIVITY,
    IssueProjectLetterRequest,
    ProjectLetterLadderWorkflow,
    ProjectLetterResult,
    RecomputeProjectLadderRequest,
    RecomputeProjectLadderResult,
)
from services.referrals.project_ladder_starter import CONSUMER_NAME as LADDER_CONSUMER_NAME
from services.referrals.project_ladder_starter import ProjectLadderStarter
from services.referrals.projection import CONSUMER_NAME, TOPICS, CaseFactsProjection
from services.referrals.settings import ReferralsSettings
from services.referrals.spec import SPEC

log = logging.getLogger(__name__)

STARTER_NAME = "referrals-follow-up-starter"


class FollowUpStarter(WorkflowStarter):
    """Inbox handler: start a fast-track referral's follow-up; tell it when the referral is answered."""

    def __init__(self, settings: ServiceSettings, departments: DepartmentsConfig) -> None:
        super().__init__(settings)
        self._departments = departments
        self.handlers = EventHandlers(
            {
                ReferralMade: self._made,
                ReferralDecided: self._decided,
                ReferralWithdrawn: self._answered,
                ReferralAwardExtended: self._award_extended,
                ReferralAwardMade: self._award_made,
            },
            consumer=STARTER_NAME,
        )

    def _made(self, _conn: psycopg.Connection[Any], _event: EventEnvelope, made: ReferralMade) -> None:
        if made.target in domain.FOLLOWED_UP:
            self.run(self._start(made))

    def _answered(
        self, _conn: psycopg.Connection[Any], _event: EventEnvelope, answer: ReferralDecided | ReferralWithdrawn
    ) -> None:
        if answer.target in domain.FOLLOWED_UP:
            self.run(self._tell_answered(answer.referral_id))

    def _decided(self, conn: psycopg.Connection[Any], event: EventEnvelope, decided: ReferralDecided) -> None:
        self._answered(conn, event, decided)
        accepted = decided.decision is ReferralDecision.ACCEPTED
        if accepted and decided.target is ReferralKind.ARBITRATION and decided.award_due_at is not None:
            self.run(self._start_award(decided))

    def _award_extended(
        self, _conn: psycopg.Connection[Any], _event: EventEnvelope, extended: ReferralAwardExtended
    ) -> None:
        moved = DeadlineMoved(due_at=extended.award_due_at, added_days=extended.extension_days)
        self.run(self._signal(follow_up_workflow_id(extended.referral_id, AWARD), DEADLINE_MOVED_SIGNAL, moved))

    def _award_made(self, _conn: psycopg.Connection[Any], _event: EventEnvelope, made: ReferralAwardMade) -> None:
        self.run(self._signal(follow_up_workflow_id(made.referral_id, AWARD), ANSWERED_SIGNAL))

    async def _start(self, made: ReferralMade) -> None:
        if made.due_at is None:
            raise PermanentEventError(
                f"referral {made.referral_id} to {made.target.value} has no due time to follow up"
            )
        receiver = self._departments.receiver(made.target)
        workflow_input = FollowUpInput(
            referral_id=made.referral_id,
            due_at=made.due_at,
            # On a compressed clock the days last a working day each, whatever their unit.
            response_working_days=receiver.response_period()[0],
            rungs=[FollowUpRung(kind=r.kind.value, wait_working_days=r.wait_working_days) for r in receiver.ladder],
            working_day_seconds=self._settings.working_day_seconds,
        )
        client = await self.client()
        try:
            await client.start_workflow(
                FOLLOW_UP_WORKFLOW_TYPE,
                workflow_input,
                id=follow_up_workflow_id(made.referral_id),
                task_queue=TaskQueues.REFERRALS,
                # One follow-up per referral, ever: a redelivered event must not start a second one.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            log.info("follow-up already started", extra={"referral_id": made.referral_id})

    async def _start_award(self, decided: ReferralDecided) -> None:
        award = self._departments.receiver(ReferralKind.ARBITRATION).award
        assert award is not None and decided.award_due_at is not None
        workflow_input = FollowUpInput(
            referral_id=decided.referral_id,
            due_at=decided.award_due_at,
            response_working_days=award.days,
            rungs=[FollowUpRung(kind=r.kind.value, wait_working_days=r.wait_working_days) for r in award.ladder],
            working_day_seconds=self._settings.working_day_seconds,
            phase=AWARD,
        )
        client = await self.client()
        try:
            await client.start_workflow(
                FOLLOW_UP_WORKFLOW_TYPE,
                workflow_input,
                id=follow_up_workflow_id(decided.referral_id, AWARD),
                task_queue=TaskQueues.REFERRALS,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            log.info("award follow-up already started", extra={"referral_id": decided.referral_id})

    async def _tell_answered(self, referral_id: str) -> None:
        await self._signal(follow_up_workflow_id(referral_id), ANSWERED_SIGNAL)

    async def _signal(self, workflow_id: str, signal: str, *args: Any) -> None:
        client = await self.client()
        try:
            await client.get_workflow_handle(workflow_id).signal(signal, *args)
        except RPCError:
            # Finished already (or never started): its next rung would find the referral answered anyway.
            log.info("follow-up not running", extra={"workflow_id": workflow_id})


class FollowUpActivities:
    def __init__(self, referrals: Referrals) -> None:
        self._referrals = referrals

    @activity.defn(name=ESCALATE_ACTIVITY)
    async def escalate_referral(self, request: EscalateRequest) -> EscalateResult:
        result = await self._referrals.escalate_referral(
            request.referral_id, LetterKind(request.kind), request.idempotency_key, request.phase
        )
        return EscalateResult.model_validate(result)

    @activity.defn(name=RECOMPUTE_ACTIVITY)
    async def recompute_follow_up(self, request: RecomputeRequest) -> RecomputeResult:
        return await ArbitrationAnswers(self._referrals).recompute(request)

    @activity.defn(name=ISSUE_PROJECT_LETTER_ACTIVITY)
    async def issue_project_letter(self, request: IssueProjectLetterRequest) -> ProjectLetterResult:
        return ProjectLetterResult.model_validate(await self._referrals.issue_project_letter(request))

    @activity.defn(name=RECOMPUTE_PROJECT_LADDER_ACTIVITY)
    async def recompute_project_ladder(self, request: RecomputeProjectLadderRequest) -> RecomputeProjectLadderResult:
        return RecomputeProjectLadderResult(due_at=await self._referrals.recompute_project_ladder(request))


class FollowUpWorker(TemporalWorkerComponent):
    """The follow-up workflows on `anxin-referrals`, in their own thread and event loop."""

    description = "follow-up worker"

    def __init__(self, settings: ServiceSettings, departments: DepartmentsConfig) -> None:
        super().__init__(settings)
        self._departments = departments

    async def serve(self, client: Client, stop: asyncio.Event) -> None:
        font = cjk_font(getattr(self._settings, "cjk_font", None))
        pool = await open_async_pool(self._settings.database_url, SPEC.schema, max_size=3)
        try:
            referrals = Referrals(pool, client, self._departments, font, live_calendar(self._settings))
            activities = FollowUpActivities(referrals)
            worker = Worker(
                client,
                task_queue=TaskQueues.REFERRALS,
                workflows=[ReferralFollowUpWorkflow, ProjectLetterLadderWorkflow],
                activities=[
                    activities.escalate_referral,
                    activities.recompute_follow_up,
                    activities.issue_project_letter,
                    activities.recompute_project_ladder,
                ],
                workflow_runner=sandboxed_workflow_runner(),
            )
            self.mark_running()
            async with worker:
                await stop.wait()
        finally:
            await pool.close()


def build_worker(settings: ServiceSettings) -> tuple[list[Component], dict[str, Check]]:
    referrals_settings = settings if isinstance(settings, ReferralsSettings) else ReferralsSettings()
    departments = load_departments(referrals_settings.departments_file)
    facts = InboxConsumer(
        name=CONSUMER_NAME,
        database_url=settings.database_url,
        schema=SPEC.schema,
        consumer_factory=lambda: new_consumer(settings, *TOPICS, group_id=CONSUMER_NAME, client_id=CONSUMER_NAME),
        handler=CaseFactsProjection(),
    )
    starter = InboxConsumer(
        name=STARTER_NAME,
        database_url=settings.database_url,
        schema=SPEC.schema,
        consumer_factory=lambda: new_consumer(
            settings, Topics.REFERRALS, group_id=STARTER_NAME, client_id=STARTER_NAME
        ),
        handler=FollowUpStarter(referrals_settings, departments),
    )
    ladders = InboxConsumer(
        name=LADDER_CONSUMER_NAME,
        database_url=settings.database_url,
        schema=SPEC.schema,
        consumer_factory=lambda: new_consumer(
            settings, Topics.MONITORING, group_id=LADDER_CONSUMER_NAME, client_id=LADDER_CONSUMER_NAME
        ),
        handler=ProjectLadderStarter(referrals_settings, departments.project_ladder, live_calendar(settings)),
    )
    follow_up = FollowUpWorker(referrals_settings, departments)
    pool = open_pool(settings.database_url, SPEC.schema, max_size=2)
    register_query_gauges(pool, measure_handoffs)
    register_query_gauges(pool, dead_letters_measure(SPEC.schema, [CONSUMER_NAME, STARTER_NAME, LADDER_CONSUMER_NAME]))

    def consumers_state() -> str | None:
        failing = [f"{c.name}: {c.status.last_error}" for c in (facts, starter, ladders) if c.status.last_error]
        return "consumer failing: " + "; ".join(failing) if failing else None

    def follow_up_state() -> str | None:
        return f"follow-up worker: {follow_up.last_error}" if follow_up.last_error else None

    checks: dict[str, Check] = {
        "postgresql": database_check(pool),
        "kafka": kafka_check(KafkaProbe(settings)),
        "consumer": status_check(consumers_state),
        "temporal": status_check(follow_up_state),
    }
    return [facts, starter, ladders, follow_up], checks
