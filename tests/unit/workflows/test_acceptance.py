"""Acceptance (受理): accept, reject, request more information, forward, withdraw; reminder and escalation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.contracts.legal_time import legal_date
from services.contracts.lifecycle import (
    SA_CASE_ID,
    SA_COMPLAINT_ID,
    SA_COUNTY,
    SA_NEXT_DEADLINE,
    SA_OVERDUE,
    SA_STAGE,
    SA_STATUS,
    AcceptanceDecision,
    AcceptanceDecisionKind,
    ActivityNames,
    CallbackRecord,
    ClosureReason,
    ComplaintStage,
    ComplaintStatus,
    RejectionReason,
    Satisfaction,
    Status,
    SupplementedInformation,
    Updates,
    Withdrawal,
)
from workflows.deadlines import PASSED_DEADLINE_TIMER

from .harness import Harness, refused, search_attributes


def decision(kind: AcceptanceDecisionKind, **fields: object) -> AcceptanceDecision:
    return AcceptanceDecision(decision=kind, decided_by="inspector-7", **fields)


async def test_accepted_complaint_joins_its_case_and_is_told(harness: Harness) -> None:
    h = harness
    handle = await h.start_complaint(amount=12000, workers=3)
    status = await h.update(handle, Updates.DECIDE_ACCEPTANCE, decision(AcceptanceDecisionKind.ACCEPT), ComplaintStatus)
    assert status.status is Status.OPEN
    status = await h.eventually(lambda: _in_stage(h, handle, ComplaintStage.IN_CASE, joined=True))
    case = await h.case_status(status.case_id)
    assert case.members == [status.complaint_id]
    assert case.workers == 3 and case.amount_owed == 12000
    await h.eventually(lambda: _templates(h, ["complaint.received", "complaint.accepted"]))
    assert status.deadlines["acceptance"].outcome == "met"


async def test_reminder_before_and_escalation_at_the_acceptance_deadline(harness: Harness) -> None:
    h = harness
    handle = await h.start_complaint()
    status = await h.eventually(lambda: _with_deadline(h, handle, "acceptance.reminder"))
    reminder, deadline = status.deadlines["acceptance.reminder"], status.deadlines["acceptance"]
    assert deadline.amount == 5 and reminder.amount == 4
    assert reminder.due_at < deadline.due_at

    await h.skip_to(reminder.fire_at)
    await h.eventually(lambda: _notices(h, ["acceptance.reminder"]))
    assert not (await h.complaint_status(handle)).overdue

    await h.skip_to(deadline.fire_at)
    status = await h.eventually(lambda: _overdue(h, handle))
    assert h.services.notices() == ["acceptance.reminder", "acceptance.overdue"]
    escalation = h.services.distinct(ActivityNames.NOTIFY_AGENCY)[1]
    assert escalation.office == "supervising_office" and escalation.due_at == deadline.due_at
    assert (await search_attributes(handle))[SA_OVERDUE.name] is True

    # The escalation does not decide for the office: the decision can still be made, and clears the flag.
    await h.update(handle, Updates.DECIDE_ACCEPTANCE, decision(AcceptanceDecisionKind.ACCEPT), ComplaintStatus)
    status = await h.eventually(lambda: _in_stage(h, handle, ComplaintStage.IN_CASE))
    assert not status.overdue
    assert [e.kind for e in status.timeline if e.kind.startswith("acceptance.")][:2] == [
        "acceptance.reminder",
        "acceptance.overdue",
    ]


async def test_a_deadline_already_passed_expires_by_a_timer_the_history_records(harness: Harness) -> None:
    """Whether a passed deadline expired is decided by a timer's firing, never by the task's time alone: a
    cold worker and its replay can see different task times (docs/reliability.md)."""
    h = harness
    handle = await h.start_complaint(received_at=await h.env.get_current_time() - timedelta(days=60))
    await h.eventually(lambda: _overdue(h, handle))
    assert "acceptance.overdue" in h.services.notices()
    history = await handle.fetch_history()
    timers = [
        e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
        for e in history.events
        if e.HasField("timer_started_event_attributes")
    ]
    assert timers.count(PASSED_DEADLINE_TIMER) >= 2  # the reminder's and the deadline's, both passed


async def test_rejection_in_writing_closes_and_goes_to_callback(harness: Harness) -> None:
    h = harness
    handle = await h.start_complaint(owed_until=date(2023, 6, 30))
    await h.update(
        handle,
        Updates.DECIDE_ACCEPTANCE,
        decision(
            AcceptanceDecisionKind.REJECT,
            reason=RejectionReason.VIOLATION_TOO_OLD,
            explanation="最后一次欠薪发生在 2023 年 6 月",
        ),
        ComplaintStatus,
    )
    status = await h.eventually(lambda: _in_stage(h, handle, ComplaintStage.CALLBACK))
    assert status.closure_reason is ClosureReason.REJECTED and status.status is Status.CLOSED
    await h.eventually(lambda: _templates(h, ["complaint.received", "complaint.rejected"]))
    await h.update(
        handle,
        Updates.RECORD_CALLBACK,
        CallbackRecord(satisfaction=Satisfaction.BASICALLY_SATISFIED, called_by="clerk-2"),
        ComplaintStatus,
    )
    result = await h.result(handle)
    assert result.status is Status.COMPLETED and result.satisfaction is Satisfaction.BASICALLY_SATISFIED


async def test_rejection_as_too_old_is_refused_within_two_years(harness: Harness) -> None:
    h = harness
    today = (await h.env.get_current_time()).date()
    handle = await h.start_complaint(owed_until=today.replace(day=1))
    message = await refused(
        h.update(
            handle,
            Updates.DECIDE_ACCEPTANCE,
            decision(AcceptanceDecisionKind.REJECT, reason=RejectionReason.VIOLATION_TOO_OLD, explanation="x"),
            ComplaintStatus,
        )
    )
    assert "2-year limit" in message and "未超过 2 年" in message
    status = await h.complaint_status(handle)
    assert status.stage is ComplaintStage.AWAITING_ACCEPTANCE
    assert not status.past_violation_limit and status.suggested_decision is None


async def test_a_complaint_past_the_two_year_limit_shows_the_suggested_rejection(harness: Harness) -> None:
    h = harness
    received = legal_date(await h.env.get_current_time())
    owed_until = date(received.year - 3, received.month, min(received.day, 28))
    handle = await h.start_complaint(owed_until=owed_until)
    status = await h.eventually(lambda: _with_deadline(h, handle, "acceptance.reminder"))
    assert status.past_violation_limit
    suggestion = status.suggested_decision
    assert suggestion is not None
    assert suggestion.decision is AcceptanceDecisionKind.REJECT
    assert suggestion.reason is RejectionReason.VIOLATION_TOO_OLD
    assert str(owed_until) in suggestion.basis

    # The reminder to the inspector says so too.
    await h.skip_to(status.deadlines["acceptance.reminder"].fire_at)
    await h.eventually(lambda: _notices(h, ["acceptance.reminder"]))
    reminder = h.services.distinct(ActivityNames.NOTIFY_AGENCY)[0]
    assert str(owed_until) in reminder.text and "超过时效" in reminder.text

    # The inspector decides; once decided nothing is suggested any more, while the mark stays.
    await h.update(
        handle,
        Updates.DECIDE_ACCEPTANCE,
        decision(AcceptanceDecisionKind.REJECT, reason=suggestion.reason, explanation=suggestion.basis),
        ComplaintStatus,
    )
    status = await h.eventually(lambda: _in_stage(h, handle, ComplaintStage.CALLBACK))
    assert status.closure_reason is ClosureReason.REJECTED
    assert status.past_violation_limit and status.suggested_decision is None


async def test_the_two_year_limit_is_judged_on_the_china_date_of_receipt(harness: Harness) -> None:
    h = harness
    # 17:00 UTC on 30 June 2026 is 1 July in China: one day past the limit of wages owed until 30 June 2024.
    late = await h.start_complaint(owed_until=date(2024, 6, 30), received_at=datetime(2026, 6, 30, 17, 0, tzinfo=UTC))
    in_time = await h.start_complaint(
        owed_until=date(2024, 6, 30), received_at=datetime(2026, 6, 30, 15, 59, tzinfo=UTC)
    )
    assert (await h.eventually(lambda: h.complaint_status(late))).past_violation_limit
    status = await h.eventually(lambda: h.complaint_status(in_time))
    assert not status.past_violation_limit and status.suggested_decision is None

    too_old = decision(AcceptanceDecisionKind.REJECT, reason=RejectionReason.VIOLATION_TOO_OLD, explanation="x")
    message = await refused(h.update(in_time, Updates.DECIDE_ACCEPTANCE, too_old, ComplaintStatus))
    assert "2-year limit" in message
    await h.update(late, Updates.DECIDE_ACCEPTANCE, too_old, ComplaintStatus)
    status = await h.eventually(lambda: _in_stage(h, late, ComplaintStage.CALLBACK))
    assert status.closure_reason is ClosureReason.REJECTED


async def test_more_information_then_supplied_restarts_the_acceptance_period(harness: Harness) -> None:
    h = harness
    handle = await h.start_complaint()
    await h.update(
        handle,
        Updates.DECIDE_ACCEPTANCE,
        decision(AcceptanceDecisionKind.REQUEST_MORE_INFO, missing_items=["用工单位名称"]),
        ComplaintStatus,
    )
    status = await h.eventually(lambda: _with_deadline(h, handle, "information#1"))
    assert status.stage is ComplaintStage.AWAITING_INFORMATION
    await h.skip_to(
        status.deadlines["information#1"].legal_start
        + (status.deadlines["information#1"].due_at - status.deadlines["information#1"].legal_start) / 2
    )
    await h.update(
        handle,
        Updates.SUPPLEMENT_INFORMATION,
        SupplementedInformation(items=["用工单位名称"]),
        ComplaintStatus,
    )
    status = await h.eventually(lambda: _with_deadline(h, handle, "acceptance#2"))
    assert status.stage is ComplaintStage.AWAITING_ACCEPTANCE
    assert status.deadlines["acceptance#2"].due_at > status.deadlines["acceptance"].due_at
    await h.update(handle, Updates.DECIDE_ACCEPTANCE, decision(AcceptanceDecisionKind.ACCEPT), ComplaintStatus)
    await h.eventually(lambda: _in_stage(h, handle, ComplaintStage.IN_CASE))
    await h.eventually(
        lambda: _templates(h, ["complaint.received", "complaint.more_info_requested", "complaint.accepted"])
    )


async def test_more_information_never_supplied_closes_the_complaint(harness: Harness) -> None:
    h = harness
    handle = await h.start_complaint()
    await h.update(
        handle,
        Updates.DECIDE_ACCEPTANCE,
        decision(AcceptanceDecisionKind.REQUEST_MORE_INFO, missing_items=["考勤记录"]),
        ComplaintStatus,
    )
    status = await h.eventually(lambda: _with_deadline(h, handle, "information#1"))
    await h.skip_to(status.deadlines["information#1"].fire_at)
    status = await h.eventually(lambda: _in_stage(h, handle, ComplaintStage.CALLBACK))
    assert status.closure_reason is ClosureReason.INFORMATION_NOT_SUPPLIED


async def test_forwarded_to_the_competent_office(harness: Harness) -> None:
    h = harness
    handle = await h.start_complaint()
    await h.update(
        handle,
        Updates.DECIDE_ACCEPTANCE,
        decision(AcceptanceDecisionKind.FORWARD, forward_to="130403-hrss", explanation="项目在复兴区"),
        ComplaintStatus,
    )
    status = await h.eventually(lambda: _in_stage(h, handle, ComplaintStage.CALLBACK))
    assert status.closure_reason is ClosureReason.FORWARDED
    forwarded = h.services.distinct(ActivityNames.FORWARD_COMPLAINT)
    assert len(forwarded) == 1 and forwarded[0].forward_to == "130403-hrss"
    assert forwarded[0].idempotency_key == f"complaint:{status.complaint_id}:forward"
    await h.eventually(lambda: _templates(h, ["complaint.received", "complaint.forwarded"]))


async def test_withdrawal_before_acceptance(harness: Harness) -> None:
    h = harness
    handle = await h.start_complaint()
    await h.update(handle, Updates.WITHDRAW_COMPLAINT, Withdrawal(reason="已与老板协商"), ComplaintStatus)
    status = await h.eventually(lambda: _in_stage(h, handle, ComplaintStage.CALLBACK))
    assert status.closure_reason is ClosureReason.WITHDRAWN
    message = await refused(h.update(handle, Updates.WITHDRAW_COMPLAINT, Withdrawal(), ComplaintStatus))
    assert "already closed" in message


async def test_impossible_acceptance_transitions_are_refused_with_a_reason(harness: Harness) -> None:
    h = harness
    handle = await h.start_complaint()
    message = await refused(
        h.update(handle, Updates.SUPPLEMENT_INFORMATION, SupplementedInformation(items=["x"]), ComplaintStatus)
    )
    assert "no additional information was requested" in message
    message = await refused(
        h.update(
            handle,
            Updates.RECORD_CALLBACK,
            CallbackRecord(satisfaction=Satisfaction.SATISFIED, called_by="clerk-2"),
            ComplaintStatus,
        )
    )
    assert "call-back comes after closure" in message
    await h.update(handle, Updates.DECIDE_ACCEPTANCE, decision(AcceptanceDecisionKind.ACCEPT), ComplaintStatus)
    message = await refused(
        h.update(handle, Updates.DECIDE_ACCEPTANCE, decision(AcceptanceDecisionKind.ACCEPT), ComplaintStatus)
    )
    assert "already made" in message


def test_incomplete_decisions_are_invalid() -> None:
    with pytest.raises(ValueError, match="reason"):
        decision(AcceptanceDecisionKind.REJECT)
    with pytest.raises(ValueError, match="missing items"):
        decision(AcceptanceDecisionKind.REQUEST_MORE_INFO)
    with pytest.raises(ValueError, match="forward_to"):
        decision(AcceptanceDecisionKind.FORWARD)


async def test_search_attributes_carry_ids_and_states_only(harness: Harness) -> None:
    h = harness
    handle = await h.start_complaint()
    status = await h.eventually(lambda: _with_deadline(h, handle, "acceptance"))
    await h.eventually(lambda: _has_next_deadline(handle))
    attributes = await search_attributes(handle)
    assert attributes[SA_COMPLAINT_ID.name] == status.complaint_id
    assert attributes[SA_CASE_ID.name] == status.case_id
    assert attributes[SA_COUNTY.name] == "130402"
    assert attributes[SA_STAGE.name] == "awaiting_acceptance"
    assert attributes[SA_STATUS.name] == "open"
    assert attributes[SA_NEXT_DEADLINE.name] == status.deadlines["acceptance.reminder"].due_at
    assert attributes[SA_OVERDUE.name] is False
    values = " ".join(str(value) for value in attributes.values())
    assert "ref_5f1c0b2e" not in values


# --- helpers -------------------------------------------------------------------------------------------


async def _in_stage(h: Harness, handle, stage: ComplaintStage, joined: bool = False):
    status = await h.complaint_status(handle)
    if status.stage is not stage:
        return None
    if joined and not any(e.kind == "complaint.joined_case" for e in status.timeline):
        return None
    return status


async def _with_deadline(h: Harness, handle, name: str):
    status = await h.complaint_status(handle)
    return status if name in status.deadlines else None


async def _overdue(h: Harness, handle):
    status = await h.complaint_status(handle)
    return status if status.overdue else None


async def _notices(h: Harness, expected: list[str]) -> bool:
    return h.services.notices() == expected


async def _templates(h: Harness, expected: list[str]) -> bool:
    return h.sms.templates() == expected


async def _has_next_deadline(handle) -> bool:
    return SA_NEXT_DEADLINE.name in await search_attributes(handle)
