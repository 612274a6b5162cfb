"""The case: verification outcomes, handoff and its ladder, order to pay, refusal and its consequences."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.contracts.lifecycle import (
    SA_CLASSIFICATION,
    SA_STAGE,
    ActivityNames,
    CalendarConfig,
    CalendarYear,
    CaseStage,
    CaseStatus,
    Classification,
    ClosureReason,
    ClosureRequest,
    ComplaintStage,
    DayUnit,
    DeadlineConfirmation,
    DepartmentTerms,
    Evidence,
    EvidenceKind,
    HandoffResponse,
    HandoffReturn,
    LadderRung,
    LetterKind,
    MassIncidentReport,
    PaymentRecord,
    PoliceDecision,
    PoliceDecisionRecord,
    ReferralDecisionRecord,
    ReferralReport,
    ServiceMethod,
    ServiceRecord,
    Signals,
    Status,
    SubjectiveElement,
    Updates,
    VerificationOutcome,
    VerificationResult,
)

from .harness import Harness, refused, search_attributes

DEPARTMENT = "county-housing-bureau"


async def case_in(h: Harness, case_id: str, stage: CaseStage, **expect: Any) -> CaseStatus | None:
    status = await h.case_status(case_id)
    if status.stage is not stage:
        return None
    if any(getattr(status, key) != value for key, value in expect.items()):
        return None
    return status


async def complaint_closed(h: Harness, handle: Any) -> Any:
    status = await h.complaint_status(handle)
    return status if status.stage is ComplaintStage.CALLBACK else None


async def served_case(h: Harness, **kwargs: Any) -> tuple[Any, str, CaseStatus]:
    """A case verified as wage arrears whose order to pay has been served in person."""
    complaint, case_id = await h.verified_case(**kwargs)
    await h.eventually(lambda: _order_issued(h, case_id))
    await h.update(
        h.case(case_id),
        Updates.RECORD_SERVICE,
        ServiceRecord(
            method=ServiceMethod.IN_PERSON,
            served_by="inspector-7",
            evidence=[Evidence(kind=EvidenceKind.RECEIPT, ref="receipt-1")],
        ),
        CaseStatus,
    )
    status = await h.eventually(lambda: _with_deadline(h, case_id, "order.payment"))
    return complaint, case_id, status


async def _order_issued(h: Harness, case_id: str) -> bool:
    return (await h.case_status(case_id)).order_id is not None


async def _with_deadline(h: Harness, case_id: str, name: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if name in status.deadlines else None


def payment(payment_id: str, amount: int, paid_at: datetime | None = None) -> PaymentRecord:
    return PaymentRecord(payment_id=payment_id, amount=Decimal(amount), recorded_by="inspector-7", paid_at=paid_at)


async def pass_payment_deadline(h: Harness, case_id: str, status: CaseStatus, *, skip_order: bool = True) -> CaseStatus:
    """Past the order's deadline and the grace for a late record of an on-time payment: refusal."""
    if skip_order:
        status = await pass_order_deadline(h, case_id, status)
    await h.skip_to(status.deadlines["order.late_record"].fire_at)
    return await h.eventually(lambda: _escalated(h, case_id))


REPORT = ReferralReport(
    team=["inspector-7", "inspector-8"],
    facts="用人单位收到限期改正指令书后转移工程款，逾期仍未支付 12 名劳动者工资",
    subjective_element=SubjectiveElement.TRANSFERRED_ASSETS,
    evidence=[Evidence(kind=EvidenceKind.BANK_RECORD, ref="bank-statement-1")],
    submitted_by="inspector-7",
)


async def refer_with_approval(h: Harness, case_id: str) -> CaseStatus:
    """The case team's report and the bureau head's approval; the referral then goes to the police."""
    await h.eventually(lambda: _approval_is(h, case_id, "awaiting_report"))
    await h.update(h.case(case_id), Updates.SUBMIT_REFERRAL_REPORT, REPORT, CaseStatus)
    await h.update(
        h.case(case_id),
        Updates.DECIDE_REFERRAL,
        ReferralDecisionRecord(approved=True, decided_by="bureau-head-1"),
        CaseStatus,
    )
    return await h.eventually(lambda: _referred(h, case_id))


async def _approval_is(h: Harness, case_id: str, outcome: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    approval = status.referral_approval
    return status if approval is not None and approval.outcome == outcome else None


async def _referred(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if {"police", "procuratorate"} <= status.referrals.keys() else None


async def pass_order_deadline(h: Harness, case_id: str, status: CaseStatus) -> CaseStatus:
    """Past the order's deadline, unpaid: the case waits its grace for a late record before refusal."""
    await h.skip_to(status.deadlines["order.payment"].fire_at)
    return await h.eventually(lambda: _with_deadline(h, case_id, "order.late_record"))


async def _escalated(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    done = status.stage is CaseStage.REFUSAL and any(e.kind == "refusal.escalated" for e in status.timeline)
    return status if done or status.status is not Status.OPEN else None


# --- verification outcomes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        (VerificationOutcome.UNFOUNDED, ClosureReason.UNFOUNDED),
        (VerificationOutcome.DUPLICATE, ClosureReason.DUPLICATE),
        (VerificationOutcome.WITHDRAWN, ClosureReason.WITHDRAWN),
        (VerificationOutcome.ALREADY_PAID, ClosureReason.ALREADY_PAID),
        (VerificationOutcome.FORWARDED, ClosureReason.FORWARDED),
        (VerificationOutcome.LABOUR_DISPUTE, ClosureReason.REFERRED_TO_ARBITRATION),
    ],
)
async def test_outcomes_that_close_the_case(
    harness: Harness, outcome: VerificationOutcome, reason: ClosureReason
) -> None:
    h = harness
    complaint, case_id = await h.verified_case(outcome)
    result = await h.result(h.case(case_id))
    assert result.closure_reason is reason and result.status is Status.CLOSED
    assert result.outcome is outcome
    referrals = h.services.distinct(ActivityNames.MAKE_REFERRAL)
    if outcome is VerificationOutcome.LABOUR_DISPUTE:
        assert result.classification is Classification.ARBITRATION
        assert [r.target for r in referrals] == ["arbitration"]
    else:
        assert referrals == []
    status = await h.eventually(lambda: complaint_closed(h, complaint))
    assert status.closure_reason is reason
    await h.eventually(lambda: _has_templates(h, ["case.verified", "complaint.closed"]))


async def _has_templates(h: Harness, wanted: list[str]) -> bool:
    templates = h.sms.templates()
    return all(t in templates for t in wanted)


@pytest.mark.parametrize("outcome", [VerificationOutcome.PROJECT_PAYMENT_DISPUTE, VerificationOutcome.QUANTITY_DISPUTE])
async def test_non_wage_disputes_are_handed_off(harness: Harness, outcome: VerificationOutcome) -> None:
    h = harness
    _, case_id = await h.verified_case(outcome)
    status = await h.eventually(lambda: case_in(h, case_id, CaseStage.HANDOFF))
    assert status.classification is Classification.NON_WAGE_DISPUTE
    await h.eventually(lambda: _letters(h, [LetterKind.HANDOFF]))
    letter = h.services.distinct(ActivityNames.ISSUE_LETTER)[0]
    assert letter.department == DEPARTMENT
    assert letter.idempotency_key == f"case:{case_id}:letter:handoff"
    attributes = await search_attributes(h.case(case_id))
    assert attributes[SA_CLASSIFICATION.name] == "non_wage_dispute"
    assert attributes[SA_STAGE.name] == "handoff"


async def test_wage_arrears_get_an_order_to_pay_on_the_whole_case(harness: Harness) -> None:
    h = harness
    first, case_id = await h.accepted_complaint(amount=20000, workers=4)
    second, _ = await h.accepted_complaint(case_id=case_id, amount=30000, workers=7)
    await h.update(
        h.case(case_id),
        Updates.RECORD_VERIFICATION,
        VerificationResult(outcome=VerificationOutcome.WAGE_ARREARS, verified_by="inspector-7"),
        CaseStatus,
    )
    status = await h.eventually(lambda: case_in(h, case_id, CaseStage.SERVICE, order_id="ORDER-1"))
    assert status.workers == 11 and status.amount_owed == 50000
    order = h.services.distinct(ActivityNames.ISSUE_ORDER_TO_PAY)[0]
    assert order.amount_owed == 50000 and order.workers == 11 and order.pay_days == 7
    # Both complainants hear of the order, each through their own complaint.
    for handle in (first, second):
        complaint_id = (await h.complaint_status(handle)).complaint_id
        await h.eventually(lambda c=complaint_id: _told(h, c, "case.order_issued"))


async def _told(h: Harness, complaint_id: str, template: str) -> bool:
    return template in h.sms.templates(complaint_id)


async def _letters(h: Harness, expected: list[LetterKind]) -> bool:
    return h.services.letters() == expected


# --- handoff ---------------------------------------------------------------------------------------------


async def test_handoff_answered_in_time_closes_without_escalation(harness: Harness) -> None:
    h = harness
    complaint, case_id = await h.verified_case(VerificationOutcome.PROJECT_PAYMENT_DISPUTE)
    await h.eventually(lambda: _letters(h, [LetterKind.HANDOFF]))
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
    await h.eventually(lambda: _letters(h, [LetterKind.HANDOFF]))
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
    await h.eventually(lambda: _letters(h, [LetterKind.HANDOFF]))
    status = await h.case_status(case_id)
    # The first department lets its deadline pass (one ladder rung), then sends the case back.
    await h.skip_to(status.deadlines["handoff.response"].fire_at)
    await h.eventually(lambda: _letters(h, [LetterKind.HANDOFF, LetterKind.REMINDER]))
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
    await h.eventually(lambda: _letters(h, [LetterKind.HANDOFF, LetterKind.REMINDER, LetterKind.HANDOFF]))
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
    await h.eventually(lambda: _letters(h, [LetterKind.HANDOFF]))
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
    await h.eventually(lambda: _letters(h, [LetterKind.HANDOFF]))
    status = await h.case_status(case_id)
    assert status.deadlines["handoff.response"].amount == 10
    assert h.services.requests(ActivityNames.DEPARTMENT_TERMS)[0].department == DEPARTMENT
    assert any(e.kind == "handoff.terms" and "默认" in e.text for e in status.timeline)


# --- order to pay: paid, refused, referred -----------------------------------------------------------------


async def test_order_paid_before_the_deadline_closes_as_resolved(harness: Harness) -> None:
    h = harness
    complaint, case_id, status = await served_case(h, amount=9000)
    assert status.stage is CaseStage.PAYMENT and status.deadlines["order.payment"].unit == "calendar"
    await h.update(h.case(case_id), Updates.RECORD_PAYMENT, payment("p1", 4000), CaseStatus)
    status = await h.case_status(case_id)
    assert status.outstanding == 5000 and status.stage is CaseStage.PAYMENT
    await h.update(h.case(case_id), Updates.RECORD_PAYMENT, payment("p2", 5000), CaseStatus)
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.PAID_IN_FULL and result.amount_paid == 9000
    assert result.deadlines["order.payment"].outcome == "met"
    assert h.services.requests(ActivityNames.DECIDE_ADDITIONAL_COMPENSATION) == []
    assert h.services.requests(ActivityNames.MAKE_REFERRAL) == []
    closed = await h.eventually(lambda: complaint_closed(h, complaint))
    assert closed.closure_reason is ClosureReason.PAID_IN_FULL
    await h.eventually(lambda: _told(h, closed.complaint_id, "case.payment_recorded"))


async def test_many_workers_above_threshold_unpaid_are_referred_and_blacklisted(harness: Harness) -> None:
    h = harness
    # Henan: 10 workers and 40,000 yuan in total (one complaint filed for 12 workers).
    complaint, case_id, status = await served_case(h, amount=48000, workers=12, months=2)
    status = await pass_payment_deadline(h, case_id, status)
    assert status.stage is CaseStage.REFUSAL
    assert status.threshold is not None and status.threshold.reached
    assert status.compensation_decision_id is not None
    # The sanctions go ahead; the referral waits for its report and approval.
    assert status.blacklist_procedure_id is not None and status.publication_id is not None
    assert status.referrals == {} and h.services.requests(ActivityNames.MAKE_REFERRAL) == []
    status = await refer_with_approval(h, case_id)
    assert status.referrals.keys() == {"police", "procuratorate"}
    compensation = h.services.distinct(ActivityNames.DECIDE_ADDITIONAL_COMPENSATION)[0]
    assert compensation.unpaid_amount == 48000 and compensation.rate == Decimal("0.5")
    police = h.services.distinct(ActivityNames.MAKE_REFERRAL)[0]
    assert police.target == "police" and police.workers == 12
    assert [r.kind for r in h.services.distinct(ActivityNames.START_BLACKLIST_PROCEDURE)] == ["blacklist_procedure"]
    assert len(h.services.distinct(ActivityNames.MARK_FOR_PUBLICATION)) == 1
    complaint_id = (await h.complaint_status(complaint)).complaint_id
    await h.eventually(lambda: _told(h, complaint_id, "case.escalated"))

    # The police open a criminal case; a later payment is recorded but the referral stands.
    await h.update(
        h.case(case_id),
        Updates.RECORD_POLICE_DECISION,
        PoliceDecisionRecord(decision=PoliceDecision.CASE_OPENED, police_ref="GA-1", recorded_by="inspector-7"),
        CaseStatus,
    )
    await h.update(h.case(case_id), Updates.RECORD_PAYMENT, payment("late", 48000), CaseStatus)
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.REFERRED_TO_POLICE
    assert not result.police_referral_withdrawn
    assert h.services.requests(ActivityNames.WITHDRAW_REFERRAL) == []
    assert len(h.services.distinct(ActivityNames.REPORT_CORRECTION)) == 1


async def test_one_worker_above_the_per_worker_threshold_is_referred(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=9000, workers=1, months=4)
    status = await pass_payment_deadline(h, case_id, status)
    assert status.threshold is not None and status.threshold.reached
    assert "police" in (await refer_with_approval(h, case_id)).referrals


async def test_below_threshold_orders_compensation_without_referral(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=6000, workers=1, months=4)
    status = await pass_payment_deadline(h, case_id, status)
    assert status.threshold is not None and not status.threshold.reached
    assert status.compensation_decision_id is not None
    assert status.referrals == {} and status.blacklist_procedure_id is None and status.publication_id is None
    assert h.services.requests(ActivityNames.MAKE_REFERRAL) == []
    message = await refused(
        h.update(
            h.case(case_id),
            Updates.CLOSE_CASE,
            ClosureRequest(reason=ClosureReason.REFERRED_TO_POLICE, closed_by="inspector-7"),
            CaseStatus,
        )
    )
    assert "not referred to the police" in message
    message = await refused(
        h.update(
            h.case(case_id),
            Updates.CLOSE_CASE,
            ClosureRequest(reason=ClosureReason.UNFOUNDED, closed_by="inspector-7"),
            CaseStatus,
        )
    )
    assert "not possible after refusal" in message
    # An early-warning case's reason is the verification's alone, never the inspector's closing.
    message = await refused(
        h.update(
            h.case(case_id),
            Updates.CLOSE_CASE,
            ClosureRequest(reason=ClosureReason.NO_ARREARS_FOUND, closed_by="inspector-7"),
            CaseStatus,
        )
    )
    assert "reason no_arrears_found is not possible after refusal" in message
    await h.update(
        h.case(case_id),
        Updates.CLOSE_CASE,
        ClosureRequest(reason=ClosureReason.ADMINISTRATIVE_DECISION, closed_by="inspector-7", notes="申请法院强制执行"),
        CaseStatus,
    )
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.ADMINISTRATIVE_DECISION


async def test_few_months_owed_do_not_meet_the_per_worker_test(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=9000, workers=1, months=2)
    status = await pass_payment_deadline(h, case_id, status)
    assert status.threshold is not None and not status.threshold.reached
    assert status.referrals == {}


async def test_partial_payment_before_the_deadline_counts_against_the_threshold(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=45000, workers=12, months=2)
    await h.update(h.case(case_id), Updates.RECORD_PAYMENT, payment("part", 10000), CaseStatus)
    status = await pass_payment_deadline(h, case_id, status)
    assert status.threshold is not None and not status.threshold.reached
    assert status.threshold.outstanding == 35000
    assert status.referrals == {}


async def test_wages_paid_after_the_referral_are_told_to_the_police_who_decide(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=48000, workers=12, months=2)
    status = await pass_payment_deadline(h, case_id, status)
    assert "police" in (await refer_with_approval(h, case_id)).referrals
    await h.update(h.case(case_id), Updates.RECORD_PAYMENT, payment("after", 48000), CaseStatus)

    async def supplemented() -> CaseStatus | None:
        status = await h.case_status(case_id)
        return status if any(e.kind == "referral.supplemented" for e in status.timeline) else None

    # The police are sent the payment's evidence; the bureau does not withdraw the referral: the case waits.
    status = await h.eventually(supplemented)
    assert status.status is Status.OPEN and status.stage is CaseStage.REFUSAL
    supplement = h.services.distinct(ActivityNames.SEND_REFERRAL_SUPPLEMENT)[0]
    assert supplement.referral_id == status.referrals["police"] and supplement.amount_paid == 48000
    assert supplement.payment_ids == ["after"]
    assert h.services.requests(ActivityNames.WITHDRAW_REFERRAL) == []
    corrections = h.services.distinct(ActivityNames.REPORT_CORRECTION)
    assert len(corrections) == 1 and corrections[0].amount == 48000
    # The police decline to open a case: it stays declined, and the case closes as paid.
    await h.update(
        h.case(case_id),
        Updates.RECORD_POLICE_DECISION,
        PoliceDecisionRecord(decision=PoliceDecision.DECLINED, recorded_by="police"),
        CaseStatus,
    )
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.PAID_IN_FULL and not result.police_referral_withdrawn
    assert result.police_decision is PoliceDecision.DECLINED


async def test_a_payment_dated_before_the_deadline_but_recorded_after_it_is_on_time(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=48000, workers=12, months=2)
    due_at = status.deadlines["order.payment"].due_at
    await pass_order_deadline(h, case_id, status)
    # The inspector records the bank transfer the next morning, with the bank's date.
    await h.update(
        h.case(case_id), Updates.RECORD_PAYMENT, payment("bank", 48000, due_at - timedelta(hours=3)), CaseStatus
    )
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.PAID_IN_FULL
    kinds = [e.kind for e in result.timeline]
    assert "order.late_record_awaited" in kinds and "order.deadline_passed" not in kinds
    assert h.services.requests(ActivityNames.DECIDE_ADDITIONAL_COMPENSATION) == []
    assert h.services.requests(ActivityNames.MAKE_REFERRAL) == []
    assert h.services.requests(ActivityNames.START_BLACKLIST_PROCEDURE) == []


async def test_a_late_payment_before_the_sanctions_ends_the_case_without_a_parked_step(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=48000, workers=12, months=2)
    await h.case(case_id).signal(
        Signals.MASS_INCIDENT_REPORTED, MassIncidentReport(reported_by="inspector-7", summary="工人聚集讨薪")
    )
    status = await pass_order_deadline(h, case_id, status)
    # Paid in full, but after the deadline: refusal, with nothing left unpaid to list (which the sanctions
    # service would refuse, parking the case) or to refer.
    await h.update(h.case(case_id), Updates.RECORD_PAYMENT, payment("late", 48000), CaseStatus)
    await h.skip_to(status.deadlines["order.late_record"].fire_at)
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.PAID_IN_FULL
    kinds = [e.kind for e in result.timeline]
    assert "order.deadline_passed" in kinds and "blacklist.not_proposed" in kinds
    assert "step.refused" not in kinds
    assert h.services.requests(ActivityNames.START_BLACKLIST_PROCEDURE) == []
    assert h.services.requests(ActivityNames.MAKE_REFERRAL) == []


async def test_large_arrears_below_the_criminal_threshold_are_published(harness: Harness) -> None:
    h = harness
    config = h.config(publication={"large_arrears_amount": "5000"})
    _, case_id, status = await served_case(h, amount=6000, workers=1, months=4, config=config)
    status = await pass_payment_deadline(h, case_id, status)
    assert status.threshold is not None and not status.threshold.reached
    assert status.publication_id is not None and status.blacklist_procedure_id is None
    marked = h.services.distinct(ActivityNames.MARK_FOR_PUBLICATION)
    assert len(marked) == 1 and marked[0].amount == 6000
    assert "blacklist.not_proposed" not in [e.kind for e in status.timeline]  # no ground to state


async def test_an_on_time_payment_recorded_after_the_refusal_steps_sends_them_for_review(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=48000, workers=12, months=2)
    due_at = status.deadlines["order.payment"].due_at
    status = await pass_payment_deadline(h, case_id, status)
    status = await refer_with_approval(h, case_id)
    assert "police" in status.referrals and status.blacklist_procedure_id is not None
    await h.update(
        h.case(case_id), Updates.RECORD_PAYMENT, payment("bank", 48000, due_at - timedelta(days=1)), CaseStatus
    )
    # The police, told of the payment, decline.
    await h.eventually(lambda: _timeline_has(h, case_id, "referral.supplemented"))
    await h.update(
        h.case(case_id),
        Updates.RECORD_POLICE_DECISION,
        PoliceDecisionRecord(decision=PoliceDecision.DECLINED, recorded_by="police"),
        CaseStatus,
    )
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.PAID_IN_FULL
    review = [e.text for e in result.timeline if e.kind == "refusal.review"]
    assert len(review) == 1 and "移送公安机关" in review[0] and "失信联合惩戒名单程序" in review[0]
    assert "refusal.review" in h.services.notices()


async def test_a_payment_dated_in_the_future_is_refused(harness: Harness) -> None:
    h = harness
    _, case_id, _ = await served_case(h, amount=9000)
    tomorrow = await h.env.get_current_time() + timedelta(days=2)
    message = await refused(h.update(h.case(case_id), Updates.RECORD_PAYMENT, payment("p", 9000, tomorrow), CaseStatus))
    assert "in the future" in message


async def test_mass_incident_starts_sanctions_without_a_referral(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=3000, workers=1, months=1)
    await h.case(case_id).signal(
        Signals.MASS_INCIDENT_REPORTED, MassIncidentReport(reported_by="inspector-7", summary="工人聚集讨薪")
    )
    status = await pass_payment_deadline(h, case_id, status)
    assert status.referrals == {}
    assert status.blacklist_procedure_id is not None and status.publication_id is not None


async def test_order_not_served_reminds_the_inspector(harness: Harness) -> None:
    h = harness
    _, case_id = await h.verified_case()
    status = await h.eventually(lambda: _with_deadline(h, case_id, "service.reminder"))
    await h.skip_to(status.deadlines["service.reminder"].fire_at)
    await h.eventually(lambda: _has_notice(h, "order.not_served"))
    # Paying before service closes the case too.
    await h.update(h.case(case_id), Updates.RECORD_PAYMENT, payment("p", 9000), CaseStatus)
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.PAID_IN_FULL and not result.served


async def _has_notice(h: Harness, kind: str) -> bool:
    return kind in h.services.notices()


async def test_service_by_posting_needs_photo_or_video() -> None:
    with pytest.raises(ValueError, match="photo or a video"):
        ServiceRecord(
            method=ServiceMethod.POSTING,
            served_by="inspector-7",
            evidence=[Evidence(kind=EvidenceKind.RECEIPT, ref="r")],
        )
    ServiceRecord(
        method=ServiceMethod.POSTING,
        served_by="inspector-7",
        evidence=[Evidence(kind=EvidenceKind.VIDEO, ref="v")],
    )
    with pytest.raises(ValueError, match="receipt"):
        ServiceRecord(
            method=ServiceMethod.IN_PERSON,
            served_by="i",
            evidence=[Evidence(kind=EvidenceKind.PHOTO, ref="p")],
        )


async def test_impossible_case_transitions_are_refused_with_a_reason(harness: Harness) -> None:
    h = harness
    _, case_id = await h.accepted_complaint()
    case = h.case(case_id)
    service = ServiceRecord(
        method=ServiceMethod.POSTING,
        served_by="inspector-7",
        evidence=[Evidence(kind=EvidenceKind.PHOTO, ref="photo-1")],
    )
    assert "this needs stage service" in await refused(h.update(case, Updates.RECORD_SERVICE, service, CaseStatus))
    assert "needs stage service/payment/refusal" in await refused(
        h.update(case, Updates.RECORD_PAYMENT, payment("p", 100), CaseStatus)
    )
    assert "closes through its own steps" in await refused(
        h.update(
            case,
            Updates.CLOSE_CASE,
            ClosureRequest(reason=ClosureReason.PAID_IN_FULL, closed_by="i"),
            CaseStatus,
        )
    )
    police = PoliceDecisionRecord(decision=PoliceDecision.CASE_OPENED, recorded_by="i")
    assert "needs stage refusal" in await refused(h.update(case, Updates.RECORD_POLICE_DECISION, police, CaseStatus))
    verification = VerificationResult(outcome=VerificationOutcome.WAGE_ARREARS, verified_by="i")
    await h.update(case, Updates.RECORD_VERIFICATION, verification, CaseStatus)
    message = await refused(h.update(case, Updates.RECORD_VERIFICATION, verification, CaseStatus))
    assert "already recorded" in message or "needs stage verification" in message
    await h.eventually(lambda: _order_issued(h, case_id))
    assert "exceeds" in await refused(h.update(case, Updates.RECORD_PAYMENT, payment("big", 10**6), CaseStatus))
    await h.update(case, Updates.RECORD_PAYMENT, payment("p1", 100), CaseStatus)
    assert "already recorded" in await refused(h.update(case, Updates.RECORD_PAYMENT, payment("p1", 100), CaseStatus))
    await h.update(case, Updates.RECORD_SERVICE, service, CaseStatus)
    message = await refused(h.update(case, Updates.RECORD_SERVICE, service, CaseStatus))
    assert "already served" in message or "needs stage service" in message
    with pytest.raises(ValueError, match="department"):
        VerificationResult(outcome=VerificationOutcome.QUANTITY_DISPUTE, verified_by="i")


async def test_a_withdrawn_complaint_leaves_its_case(harness: Harness) -> None:
    from services.contracts.lifecycle import ComplaintStatus, Withdrawal

    h = harness
    first, case_id = await h.accepted_complaint(amount=5000)
    second, _ = await h.accepted_complaint(case_id=case_id, amount=7000)
    await h.update(first, Updates.WITHDRAW_COMPLAINT, Withdrawal(), ComplaintStatus)
    closed = await h.eventually(lambda: complaint_closed(h, first))
    assert closed.closure_reason is ClosureReason.WITHDRAWN
    status = await h.eventually(lambda: _members(h, case_id, 1))
    assert status.amount_owed == 7000
    await h.update(second, Updates.WITHDRAW_COMPLAINT, Withdrawal(), ComplaintStatus)
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.WITHDRAWN


async def _members(h: Harness, case_id: str, count: int) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if len(status.members) == count else None


async def test_a_step_refused_by_its_service_waits_for_an_operator_retry(harness: Harness) -> None:
    h = harness
    h.services.refusing.add(ActivityNames.ISSUE_ORDER_TO_PAY)
    _, case_id = await h.verified_case()
    status = await h.eventually(lambda: _stuck(h, case_id))
    assert status.order_id is None and status.status is Status.OPEN
    assert (await search_attributes(h.case(case_id)))["AnxinOverdue"] is True
    h.services.refusing.clear()
    await h.case(case_id).signal(Signals.RETRY_REFUSED_STEP)
    status = await h.eventually(lambda: case_in(h, case_id, CaseStage.SERVICE, order_id="ORDER-1"))
    assert [e.kind for e in status.timeline if e.kind.startswith("step.")] == ["step.refused", "step.retried"]


async def _stuck(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if any(e.kind == "step.refused" for e in status.timeline) else None


async def test_mass_incident_reported_after_refusal_starts_the_sanctions(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=3000, workers=1, months=1)
    status = await pass_payment_deadline(h, case_id, status)
    assert status.blacklist_procedure_id is None
    await h.case(case_id).signal(
        Signals.MASS_INCIDENT_REPORTED, MassIncidentReport(reported_by="inspector-7", summary="工人堵路讨薪")
    )
    status = await h.eventually(lambda: _sanctioned(h, case_id))
    assert status.referrals == {}
    assert len(h.services.distinct(ActivityNames.DECIDE_ADDITIONAL_COMPENSATION)) == 1


async def _sanctioned(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    # Both steps: the listing is proposed first, the publication mark a moment later.
    return status if status.blacklist_procedure_id and status.publication_id else None


# --- the criminal referral by approval ---------------------------------------------------------------------


async def test_a_criminal_referral_waits_for_the_case_teams_report_and_the_heads_approval(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=48000, workers=12, months=2)
    status = await pass_payment_deadline(h, case_id, status)
    assert status.referral_approval is not None and status.referral_approval.outcome == "awaiting_report"
    assert "referral.report_requested" in h.services.notices()
    message = await refused(
        h.update(
            h.case(case_id),
            Updates.DECIDE_REFERRAL,
            ReferralDecisionRecord(approved=True, decided_by="bureau-head-1"),
            CaseStatus,
        )
    )
    assert "no referral report awaits" in message
    await h.update(h.case(case_id), Updates.SUBMIT_REFERRAL_REPORT, REPORT, CaseStatus)
    message = await refused(
        h.update(
            h.case(case_id),
            Updates.DECIDE_REFERRAL,
            ReferralDecisionRecord(approved=True, decided_by="inspector-8"),
            CaseStatus,
        )
    )
    assert "member of the case team" in message
    await h.update(
        h.case(case_id),
        Updates.DECIDE_REFERRAL,
        ReferralDecisionRecord(approved=True, decided_by="bureau-head-1"),
        CaseStatus,
    )
    status = await h.eventually(lambda: _referred(h, case_id))
    police = h.services.distinct(ActivityNames.MAKE_REFERRAL)[0]
    assert police.target == "police" and "转移财产" in police.basis and "批准" in police.basis
    kinds = [e.kind for e in status.timeline]
    assert kinds.index("referral.proposed") < kinds.index("referral.reported") < kinds.index("referral.approved")
    assert kinds.index("referral.approved") < kinds.index("referral.police")


def test_a_report_needs_two_officers_and_a_refusal_its_reason() -> None:
    with pytest.raises(ValueError, match="two different officers"):
        REPORT.model_validate({**REPORT.model_dump(), "team": ["inspector-7", "inspector-7"]})
    with pytest.raises(ValueError, match="gives its reason"):
        ReferralDecisionRecord(approved=False, decided_by="bureau-head-1")


async def test_a_referral_the_head_refuses_is_recorded_and_not_sent(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=48000, workers=12, months=2)
    await pass_payment_deadline(h, case_id, status)
    await h.eventually(lambda: _approval_is(h, case_id, "awaiting_report"))
    await h.update(h.case(case_id), Updates.SUBMIT_REFERRAL_REPORT, REPORT, CaseStatus)
    await h.update(
        h.case(case_id),
        Updates.DECIDE_REFERRAL,
        ReferralDecisionRecord(approved=False, decided_by="bureau-head-1", reason="转移财产的证据不足，补充调查"),
        CaseStatus,
    )
    status = await h.eventually(lambda: _approval_is(h, case_id, "refused"))
    assert status.stage is CaseStage.REFUSAL and status.referrals == {}
    assert any(e.kind == "referral.refused" and "证据不足" in e.text for e in status.timeline)
    assert h.services.requests(ActivityNames.MAKE_REFERRAL) == []


async def test_late_reports_and_decisions_remind_and_escalate(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=48000, workers=12, months=2)
    await pass_payment_deadline(h, case_id, status)
    status = await h.eventually(lambda: _with_deadline(h, case_id, "referral.report"))
    await h.skip_to(status.deadlines["referral.report"].fire_at)
    await h.eventually(lambda: _noticed(h, "referral.report"))
    await h.update(h.case(case_id), Updates.SUBMIT_REFERRAL_REPORT, REPORT, CaseStatus)
    status = await h.eventually(lambda: _with_deadline(h, case_id, "referral.approval_reminder"))
    assert status.deadlines["referral.approval_reminder"].unit == "calendar"
    await h.skip_to(status.deadlines["referral.approval_reminder"].fire_at)
    status = await h.eventually(lambda: _with_deadline(h, case_id, "referral.approval"))
    assert "referral.approval_reminder" in h.services.notices()
    await h.skip_to(status.deadlines["referral.approval"].fire_at)
    await h.eventually(lambda: _noticed(h, "referral.approval"))
    # Lapsed, and still decided by the head: the referral goes out.
    await h.update(
        h.case(case_id),
        Updates.DECIDE_REFERRAL,
        ReferralDecisionRecord(approved=True, decided_by="bureau-head-1"),
        CaseStatus,
    )
    await h.eventually(lambda: _referred(h, case_id))


async def _timeline_has(h: Harness, case_id: str, kind: str) -> bool:
    return any(e.kind == kind for e in (await h.case_status(case_id)).timeline)


async def _noticed(h: Harness, kind: str) -> bool:
    return kind in h.services.notices()


async def test_wages_paid_before_the_decision_make_the_referral_moot(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=48000, workers=12, months=2)
    await pass_payment_deadline(h, case_id, status)
    await h.eventually(lambda: _approval_is(h, case_id, "awaiting_report"))
    await h.update(h.case(case_id), Updates.SUBMIT_REFERRAL_REPORT, REPORT, CaseStatus)
    await h.update(h.case(case_id), Updates.RECORD_PAYMENT, payment("late", 48000), CaseStatus)
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.PAID_IN_FULL
    assert result.referral_approval is not None and result.referral_approval.outcome == "moot"
    assert h.services.requests(ActivityNames.MAKE_REFERRAL) == []


# --- a provisional deadline with legal consequences ------------------------------------------------------

# An official 2027 arrangement for the tests: the statutory days and a plausible Spring Festival week.
OFFICIAL_2027 = CalendarConfig(
    years=[
        CalendarYear(
            year=2027,
            holidays=[
                date(2027, 1, 1),
                *(date(2027, 2, d) for d in range(5, 12)),
                date(2027, 4, 5),
                *(date(2027, 5, d) for d in range(1, 6)),
                date(2027, 6, 9),
                date(2027, 9, 15),
                *(date(2027, 10, d) for d in range(1, 8)),
            ],
            make_up_workdays=[date(2027, 2, 13), date(2027, 9, 26)],
        )
    ]
)


async def _held(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if any(e.kind == "deadline.held" for e in status.timeline) else None


async def order_served_on_29_january_2027(h: Harness) -> tuple[str, CaseStatus]:
    """A 7-day order served on 29 January 2027, a year with no official calendar yet: provisional."""
    await h.skip_to(datetime(2027, 1, 29, 1, 0, tzinfo=UTC), margin=timedelta(0))
    _, case_id, status = await served_case(
        h, amount=48000, workers=12, months=2, config=h.config(hold_provisional_expiry=True)
    )
    deadline = status.deadlines["order.payment"]
    assert deadline.provisional and deadline.due_date >= date(2027, 2, 5)
    await h.skip_to(deadline.fire_at)
    status = await h.eventually(lambda: _held(h, case_id))
    assert status.stage is CaseStage.PAYMENT and "deadline.held" in h.services.notices()
    assert h.services.requests(ActivityNames.DECIDE_ADDITIONAL_COMPENSATION) == []
    return case_id, status


async def test_a_provisional_order_deadline_waits_for_the_official_calendar_before_refusal(
    fresh_harness: Harness,
) -> None:
    h = fresh_harness
    case_id, _ = await order_served_on_29_january_2027(h)
    await h.case(case_id).signal(Signals.CALENDAR_UPDATED, OFFICIAL_2027)

    async def recomputed() -> CaseStatus | None:
        status = await h.case_status(case_id)
        return status if not status.deadlines["order.payment"].provisional else None

    status = await h.eventually(recomputed)
    # 5 February is New Year's Eve: the period ends on the first working day after the festival.
    assert status.deadlines["order.payment"].due_date == date(2027, 2, 12)
    assert status.stage is CaseStage.PAYMENT
    await h.skip_to(status.deadlines["order.payment"].fire_at)
    await h.eventually(lambda: _with_deadline(h, case_id, "order.late_record"))


async def test_an_inspector_confirming_the_date_lets_the_refusal_go_ahead(fresh_harness: Harness) -> None:
    h = fresh_harness
    case_id, _ = await order_served_on_29_january_2027(h)
    message = await refused(
        h.update(
            h.case(case_id),
            Updates.CONFIRM_DEADLINE,
            DeadlineConfirmation(name="order.nonexistent", confirmed_by="inspector-7"),
            CaseStatus,
        )
    )
    assert "no pending provisional deadline" in message
    await h.update(
        h.case(case_id),
        Updates.CONFIRM_DEADLINE,
        DeadlineConfirmation(name="order.payment", confirmed_by="inspector-7", note="经核对国务院办公厅通知"),
        CaseStatus,
    )
    status = await pass_payment_deadline(
        h, case_id, await h.eventually(lambda: _with_deadline(h, case_id, "order.late_record")), skip_order=False
    )
    assert status.stage is CaseStage.REFUSAL
    assert any(e.kind == "deadline.confirmed" for e in status.timeline)
