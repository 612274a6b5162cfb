"""The order to pay: paid before its deadline, or refused and its consequences (the additional compensation, the
criminal threshold and the referral, the blacklist and the publication), and payments recorded late, dated
before the deadline or in the future."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from services.contracts.lifecycle import (
    ActivityNames,
    CaseStage,
    CaseStatus,
    ClosureReason,
    ClosureRequest,
    MassIncidentReport,
    PoliceDecision,
    PoliceDecisionRecord,
    Signals,
    Status,
    Updates,
)

from .case_steps import (
    complainant_told,
    complaint_closed,
    pass_order_deadline,
    pass_payment_deadline,
    payment,
    refer_with_approval,
    served_case,
)
from .harness import Harness, refused


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
    await h.eventually(lambda: complainant_told(h, closed.complaint_id, "case.payment_recorded"))


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
    await h.eventually(lambda: complainant_told(h, complaint_id, "case.escalated"))

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


async def _timeline_has(h: Harness, case_id: str, kind: str) -> bool:
    return any(e.kind == kind for e in (await h.case_status(case_id)).timeline)
