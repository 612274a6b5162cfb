"""The follow-up of a referral whose receiving body has a deadline: legal aid's green channel, arbitration's
acceptance (and, once accepted, its award limit), the police's decision whether to open a case. When the
body has not answered by its deadline — for legal aid the end of the working day the referral was made —
the ladder starts: reminder, supervision, warning letter … each rung a letter and an event, until the
referral is answered or withdrawn.

A Temporal workflow (`referral:<id>` on `anxin-referrals`, hosted by the referrals worker; an arbitration
award's `referral:<id>:award`) owns the timers; its activity `referrals.escalate_referral` is the referrals
service writing its own letter (and answers "closed" once the referral has been answered, which ends the
workflow). The deadline waited for can move: an arbitration body's extension of its award limit
(`deadline_moved`), or a calendar year entered with `anxin calendar load` (`calendar_updated`), on which the
service counts the pending period again (`referrals.recompute_follow_up`) — later if the official calendar
says so, never earlier than the date the body was told. Workflow code: no I/O, `workflow.now()` only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ConfigDict, Field

    from services.contracts.lifecycle import CalendarConfig, Signals

FOLLOW_UP_WORKFLOW_TYPE = "ReferralFollowUp"
ESCALATE_ACTIVITY = "referrals.escalate_referral"
RECOMPUTE_ACTIVITY = "referrals.recompute_follow_up"
ANSWERED_SIGNAL = "referral_answered"
# A calendar entered before the workflow's first wait (its signal taken with the start) is counted too: before
# this patch each wait only watched for updates after it began, so such an update was missed.
CALENDAR_UPDATES_FROM_START = "2026-11-calendar-updates-from-start"
DEADLINE_MOVED_SIGNAL = "deadline_moved"

# What a follow-up waits for: the body's answer to the referral, or (arbitration) its award.
ANSWER = "answer"
AWARD = "award"


def follow_up_workflow_id(referral_id: str, phase: str = ANSWER) -> str:
    return f"referral:{referral_id}" if phase == ANSWER else f"referral:{referral_id}:{phase}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FollowUpRung(_Model):
    kind: str
    wait_working_days: int = Field(ge=1)


class FollowUpInput(_Model):
    referral_id: str
    due_at: datetime = Field(description="When the receiving body's answer (or award) is due.")
    # The period's length in its own unit (working or calendar days); only the compressed clock reads it.
    response_working_days: int = Field(ge=0)
    rungs: list[FollowUpRung]
    # Compressed clock: one working day lasts this many seconds (0: the real calendar).
    working_day_seconds: float = Field(0.0, ge=0)
    phase: str = ANSWER


class EscalateRequest(_Model):
    referral_id: str
    kind: str
    idempotency_key: str
    phase: str = ANSWER


class EscalateResult(_Model):
    closed: bool
    letter_id: str | None = None
    next_due_at: datetime | None = None


class DeadlineMoved(_Model):
    """The deadline waited for moved (an award limit extended): its new instant, and by how many days."""

    due_at: datetime
    added_days: int = Field(0, ge=0)


class RecomputeRequest(_Model):
    referral_id: str
    phase: str = ANSWER
    # The last rung issued (None: the referral's own period is pending), and the instant waited for now.
    after_kind: str | None = None
    due_at: datetime


class RecomputeResult(_Model):
    due_at: datetime
    changed: bool = False


@workflow.defn(name=FOLLOW_UP_WORKFLOW_TYPE)
class ReferralFollowUpWorkflow:
    def __init__(self) -> None:
        self._answered = False
        self._moved: DeadlineMoved | None = None
        self._calendar_version = 0

    @workflow.signal(name=ANSWERED_SIGNAL)
    def referral_answered(self) -> None:
        """Sent when the receiving body answers, so the workflow ends without waiting for its next timer."""
        self._answered = True

    @workflow.signal(name=DEADLINE_MOVED_SIGNAL)
    def deadline_moved(self, moved: DeadlineMoved) -> None:
        self._moved = moved

    @workflow.signal(name=Signals.CALENDAR_UPDATED)
    def calendar_updated(self, _calendar: CalendarConfig) -> None:
        # The service reads the entered calendar itself (it is written before the signal is sent).
        self._calendar_version += 1

    @workflow.run
    async def run(self, input: FollowUpInput) -> list[str]:
        issued: list[str] = []
        due_at = input.due_at
        after_kind: str | None = None
        # On a compressed clock the same-day deadline of the green channel lasts one (short) working day.
        wait_days = max(input.response_working_days, 1)
        from_start = workflow.patched(CALENDAR_UPDATES_FROM_START)
        counted_version = 0  # the calendar updates the pending date was last counted after
        for rung in input.rungs:
            compressed_fire_at = workflow.now() + timedelta(seconds=wait_days * input.working_day_seconds)
            while True:
                if input.working_day_seconds > 0:
                    timeout = max(compressed_fire_at - workflow.now(), timedelta(0))
                else:
                    timeout = max(due_at - workflow.now(), timedelta(0))
                seen = counted_version if from_start else self._calendar_version
                try:
                    await workflow.wait_condition(
                        lambda: self._answered or self._moved is not None or self._calendar_version != seen,  # noqa: B023
                        timeout=timeout,
                    )
                except TimeoutError:
                    break
                if self._answered:
                    return issued
                if self._moved is not None:
                    moved, self._moved = self._moved, None
                    due_at = max(due_at, moved.due_at)
                    compressed_fire_at += timedelta(seconds=moved.added_days * input.working_day_seconds)
                if self._calendar_version != seen:
                    version = self._calendar_version
                    recomputed = await workflow.execute_activity(
                        RECOMPUTE_ACTIVITY,
                        RecomputeRequest(
                            referral_id=input.referral_id, phase=input.phase, after_kind=after_kind, due_at=due_at
                        ),
                        result_type=RecomputeResult,
                        start_to_close_timeout=timedelta(minutes=1),
                        retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
                    )
                    # Never earlier than the date the receiving body was told.
                    due_at = max(due_at, recomputed.due_at)
                    counted_version = version
            result = await workflow.execute_activity(
                ESCALATE_ACTIVITY,
                EscalateRequest(
                    referral_id=input.referral_id,
                    kind=rung.kind,
                    phase=input.phase,
                    idempotency_key=f"{workflow.info().workflow_id}:{rung.kind}",
                ),
                result_type=EscalateResult,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
            )
            if result.closed:
                return issued
            assert result.letter_id is not None and result.next_due_at is not None
            issued.append(result.letter_id)
            due_at = result.next_due_at
            after_kind = rung.kind
            wait_days = rung.wait_working_days
        return issued
