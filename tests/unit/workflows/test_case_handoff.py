"""The case handed off to a department: answered in time, or never, climbing every rung of its ladder; sent back
and decided anew; the ladder as configured, or as the department's own terms in the directory give it."""

from __future__ import annotations

import itertools
from typing import Any

from services.contracts.lifecycle import (
    ActivityNames,
    CaseStage,
    CaseStatus,
    ClosureReason,
    DayUnit,
    DepartmentTerms,
    HandoffResponse,
    HandoffReturn,
    LadderRung,
    LetterKind,
    Status,
    Updates,
    VerificationOutcome,
    VerificationResult,
)

from .case_steps import DEPARTMENT, case_in, complaint_closed, letters_issued
from .harness import Harness, refused


async def test_handoff_answered_in_time_closes_without_escalation(harness: Harness) -> None:
    h = harness
    complaint, case_id = await h.verified_case(VerificationOutcome.PROJECT_PAYMENT_DISPUTE)
    await h.eventually(lambda: letters_issued(h, [LetterKind.HANDOFF]))
    message = await refused(
        h.update(
            h.case(case_id),
            Updates.RECORD_HANDOFF_RESPONSE,
            HandoffResponse(department="county-transport-bureau", summary="x", responded_by="d"),
            CaseStatus,
        )
    )
    assert "handed off to county-housing-bureau" in message
    await h.update(
        h.case(case_id),
        Updates.RECORD_HANDOFF_RESPONSE,
        HandoffResponse(department=DEPARTMENT, summary="已督促建设单位拨付工程款", responded_by="dept-1"),
        CaseStatus,
    )
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.HANDED_OFF
    assert h.services.letters() == [LetterKind.HANDOFF]
    assert result.deadlines["handoff.response"].outcome == "met"
    await h.eventually(lambda: complaint_closed(h, complaint))


async def test_handoff_never_answered_climbs_every_rung_once_in_order(harness: Harness) -> None:
    h = harness
    _, case_id = await h.verified_case(VerificationOutcome.QUANTITY_DISPUTE)
    await h.eventually(lambda: letters_issued(h, [LetterKind.HANDOFF]))
    ladder = [
        LetterKind.HANDOFF,
        LetterKind.REMINDER,
        LetterKind.SUPERVISION,
        LetterKind.WARNING_LETTER,
        LetterKind.ACCOUNTABILITY_RECOMMENDATION,
        LetterKind.ACCOUNTABILITY_TRANSFER,
    ]
    await h.advance_until(lambda: _ladder_exhausted(h), step=_days(2), max_days=200)
    assert h.services.letters() == ladder
    letter_keys = [r.idempotency_key for r in h.services.requests(ActivityNames.ISSUE_LETTER)]
    assert len(letter_keys) == len(set(letter_keys)) == 6  # each letter produced exactly once
    status = await h.case_status(case_id)
    assert status.stage is CaseStage.HANDOFF and status.status is Status.OPEN
    # Each rung gives the department its configured time, counted from the end of the previous one.
    dues = [status.deadlines["handoff.response"]] + [status.deadlines[f"handoff.{k.value}"] for k in ladder[1:]]
    assert [d.amount for d in dues] == [10, 3, 5, 5, 5, 10]
    assert all(a.due_at <= b.legal_start for a, b in itertools.pairwise(dues))
    assert all(d.outcome == "expired" for d in dues)
    # A late answer still closes the case.
    await h.update(
        h.case(case_id),
        Updates.RECORD_HANDOFF_RESPONSE,
        HandoffResponse(department=DEPARTMENT, summary="已处理", responded_by="dept-1"),
        CaseStatus,
    )
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.HANDED_OFF


async def test_returned_handoff_is_decided_anew_and_handed_to_another_department(harness: Harness) -> None:
    h = harness
    complaint, case_id = await h.verified_case(VerificationOutcome.PROJECT_PAYMENT_DISPUTE)
    await h.eventually(lambda: letters_issued(h, [LetterKind.HANDOFF]))
    status = await h.case_status(case_id)
    # The first department lets its deadline pass (one ladder rung), then sends the case back.
    await h.skip_to(status.deadlines["handoff.response"].fire_at)
    await h.eventually(lambda: letters_issued(h, [LetterKind.HANDOFF, LetterKind.REMINDER]))
    returned = HandoffReturn(department=DEPARTMENT, reason="不属于本部门职责：系交通工程", returned_by="dept-1")
    status = await h.update(h.case(case_id), Updates.RECORD_HANDOFF_RETURN, returned, CaseStatus)
    status = await h.eventually(lambda: case_in(h, case_id, CaseStage.VERIFICATION))
    assert status.outcome is None and status.classification is None
    assert status.deadlines["handoff.response@1"].outcome == "expired"
    assert {"handoff@1", "reminder@1"} <= set(status.letters) and "handoff" not in status.letters
    # Sending the case back within the rung's time is an answer in time.
    assert status.deadlines["handoff.reminder@1"].outcome == "met"
    assert "handoff.response" not in status.deadlines
    assert "handoff_returned" in h.services.notices()
    assert any(e.kind == "handoff.returned" for e in status.timeline)
    # Once returned, the same handoff cannot be answered or returned again.
    message = await refused(h.update(h.case(case_id), Updates.RECORD_HANDOFF_RETURN, returned, CaseStatus))
    assert "当前阶段为 verification" in message

    # The inspector decides anew: another department gets a new handoff with its own letter and deadline.
    await h.update(
        h.case(case_id),
        Updates.RECORD_VERIFICATION,
        VerificationResult(
            outcome=VerificationOutcome.PROJECT_PAYMENT_DISPUTE,
            verified_by="inspector-7",
            department="county-transport-bureau",
        ),
        CaseStatus,
    )
    await h.eventually(lambda: letters_issued(h, [LetterKind.HANDOFF, LetterKind.REMINDER, LetterKind.HANDOFF]))
    second = h.services.distinct(ActivityNames.ISSUE_LETTER)[-1]
    assert second.department == "county-transport-bureau" and second.idempotency_key.endswith("@2")
    await h.update(
        h.case(case_id),
        Updates.RECORD_HANDOFF_RESPONSE,
        HandoffResponse(department="county-transport-bureau", summary="已督促拨付", responded_by="dept-2"),
        CaseStatus,
    )
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.HANDED_OFF
    assert result.deadlines["handoff.response"].outcome == "met"
    await h.eventually(lambda: complaint_closed(h, complaint))


async def _ladder_exhausted(h: Harness) -> bool:
    return "handoff.ladder_exhausted" in h.services.notices()


def _days(n: int) -> Any:
    from datetime import timedelta

    return timedelta(days=n)


async def test_ladder_rungs_are_configurable(harness: Harness) -> None:
    h = harness
    config = h.config(
        handoff={
            "response_working_days": 3,
            "ladder": [
                LadderRung(kind=LetterKind.SUPERVISION, wait_working_days=2).model_dump(),
                LadderRung(kind=LetterKind.WARNING_LETTER, wait_working_days=2).model_dump(),
            ],
        }
    )
    await h.verified_case(VerificationOutcome.PROJECT_PAYMENT_DISPUTE, config=config)
    await h.advance_until(lambda: _ladder_exhausted(h), step=_days(1), max_days=60)
    assert h.services.letters() == [LetterKind.HANDOFF, LetterKind.SUPERVISION, LetterKind.WARNING_LETTER]


async def test_handoff_takes_the_departments_own_response_days_and_ladder(harness: Harness) -> None:
    h = harness
    # The directory gives this department (a county HRSS) 5 working days and a two-rung ladder of its own.
    h.services.directory[DEPARTMENT] = DepartmentTerms(
        department=DEPARTMENT,
        response_days=5,
        response_unit=DayUnit.WORKING,
        ladder=[
            LadderRung(kind=LetterKind.REMINDER, wait_working_days=2),
            LadderRung(kind=LetterKind.SUPERVISION, wait_working_days=4),
        ],
    )
    _, case_id = await h.verified_case(VerificationOutcome.PROJECT_PAYMENT_DISPUTE)
    await h.eventually(lambda: letters_issued(h, [LetterKind.HANDOFF]))
    status = await h.case_status(case_id)
    assert status.deadlines["handoff.response"].amount == 5
    handoff_letter = h.services.requests(ActivityNames.ISSUE_LETTER)[0]
    assert handoff_letter.response_due_date == status.deadlines["handoff.response"].due_date
    assert any(e.kind == "handoff.terms" and "5个工作日" in e.text for e in status.timeline)
    await h.advance_until(lambda: _ladder_exhausted(h), step=_days(1), max_days=60)
    assert h.services.letters() == [LetterKind.HANDOFF, LetterKind.REMINDER, LetterKind.SUPERVISION]
    status = await h.case_status(case_id)
    assert [status.deadlines[n].amount for n in ("handoff.response", "handoff.reminder", "handoff.supervision")] == [
        5,
        2,
        4,
    ]
    # The ledger was told of every deadline the department's terms made (one truth).
    reported = {d.name: d.due_date for d in h.services.last_report(f"case:{case_id}").snapshot.deadlines}
    assert all(
        reported[n] == status.deadlines[n].due_date
        for n in ("handoff.response", "handoff.reminder", "handoff.supervision")
    )
    await h.update(
        h.case(case_id),
        Updates.RECORD_HANDOFF_RESPONSE,
        HandoffResponse(department=DEPARTMENT, summary="已处理", responded_by="dept-1"),
        CaseStatus,
    )
    assert (await h.result(h.case(case_id))).closure_reason is ClosureReason.HANDED_OFF


async def test_a_department_the_directory_does_not_know_gets_the_workflows_own_setting(harness: Harness) -> None:
    h = harness
    _, case_id = await h.verified_case(VerificationOutcome.PROJECT_PAYMENT_DISPUTE)
    await h.eventually(lambda: letters_issued(h, [LetterKind.HANDOFF]))
    status = await h.case_status(case_id)
    assert status.deadlines["handoff.response"].amount == 10
    assert h.services.requests(ActivityNames.DEPARTMENT_TERMS)[0].department == DEPARTMENT
    assert any(e.kind == "handoff.terms" and "默认" in e.text for e in status.timeline)
