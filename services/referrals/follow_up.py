"""The follow-up of a fast-track referral (legal aid's green channel, arbitration's fast track): when the
receiving body has not answered by its deadline — for legal aid the end of the working day the referral was
made — the ladder starts: reminder, supervision, warning letter … each rung a letter and an event, until the
referral is answered or withdrawn.

A Temporal workflow (`referral:<id>` on `anxin-referrals`, hosted by the referrals worker) owns the timers;
its one activity, `referrals.escalate_referral`, is the referrals service writing its own letter (and
answers "closed" once the referral has been answered, which ends the workflow). Workflow code: no I/O,
`workflow.now()` only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ConfigDict, Field

FOLLOW_UP_WORKFLOW_TYPE = "ReferralFollowUp"
ESCALATE_ACTIVITY = "referrals.escalate_referral"


def follow_up_workflow_id(referral_id: str) -> str:
    return f"referral:{referral_id}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FollowUpRung(_Model):
    kind: str
    wait_working_days: int = Field(ge=1)


class FollowUpInput(_Model):
    referral_id: str
    due_at: datetime = Field(description="When the receiving body's answer is due.")
    response_working_days: int = Field(ge=0)
    rungs: list[FollowUpRung]
    # Compressed clock: one working day lasts this many seconds (0: the real calendar).
    working_day_seconds: float = Field(0.0, ge=0)


class EscalateRequest(_Model):
    referral_id: str
    kind: str
    idempotency_key: str


class EscalateResult(_Model):
    closed: bool
    letter_id: str | None = None
    next_due_at: datetime | None = None


@workflow.defn(name=FOLLOW_UP_WORKFLOW_TYPE)
class ReferralFollowUpWorkflow:
    def __init__(self) -> None:
        self._answered = False

    @workflow.signal(name="referral_answered")
    def referral_answered(self) -> None:
        """Sent when the receiving body answers, so the workflow ends without waiting for its next timer."""
        self._answered = True

    @workflow.run
    async def run(self, input: FollowUpInput) -> list[str]:
        issued: list[str] = []
        due_at = input.due_at
        # On a compressed clock the same-day deadline of the green channel lasts one (short) working day.
        wait_days = max(input.response_working_days, 1)
        for rung in input.rungs:
            if input.working_day_seconds > 0:
                timeout = timedelta(seconds=wait_days * input.working_day_seconds)
            else:
                timeout = max(due_at - workflow.now(), timedelta(0))
            try:
                await workflow.wait_condition(lambda: self._answered, timeout=timeout)
                return issued
            except TimeoutError:
                pass
            result = await workflow.execute_activity(
                ESCALATE_ACTIVITY,
                EscalateRequest(referral_id=input.referral_id, kind=rung.kind,
                                idempotency_key=f"{workflow.info().workflow_id}:{rung.kind}"),
                result_type=EscalateResult,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
            )
            if result.closed:
                return issued
            assert result.letter_id is not None and result.next_due_at is not None
            issued.append(result.letter_id)
            due_at = result.next_due_at
            wait_days = rung.wait_working_days
        return issued
