"""The criminal referral by approval: the case team's report and the bureau head's decision before the police are
told, a refusal recorded and nothing sent, reminders and escalation when either is late, and wages paid before
the decision making the referral moot."""

from __future__ import annotations

import pytest

from services.contracts.lifecycle import (
    ActivityNames,
    CaseStage,
    CaseStatus,
    ClosureReason,
    ReferralDecisionRecord,
    Updates,
)

from .case_steps import REPORT, approval_is, case_referred, pass_payment_deadline, payment, served_case, with_deadline
from .harness import Harness, refused


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
    status = await h.eventually(lambda: case_referred(h, case_id))
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
    await h.eventually(lambda: approval_is(h, case_id, "awaiting_report"))
    await h.update(h.case(case_id), Updates.SUBMIT_REFERRAL_REPORT, REPORT, CaseStatus)
    await h.update(
        h.case(case_id),
        Updates.DECIDE_REFERRAL,
        ReferralDecisionRecord(approved=False, decided_by="bureau-head-1", reason="转移财产的证据不足，补充调查"),
        CaseStatus,
    )
    status = await h.eventually(lambda: approval_is(h, case_id, "refused"))
    assert status.stage is CaseStage.REFUSAL and status.referrals == {}
    assert any(e.kind == "referral.refused" and "证据不足" in e.text for e in status.timeline)
    assert h.services.requests(ActivityNames.MAKE_REFERRAL) == []


async def test_late_reports_and_decisions_remind_and_escalate(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=48000, workers=12, months=2)
    await pass_payment_deadline(h, case_id, status)
    status = await h.eventually(lambda: with_deadline(h, case_id, "referral.report"))
    await h.skip_to(status.deadlines["referral.report"].fire_at)
    await h.eventually(lambda: _noticed(h, "referral.report"))
    await h.update(h.case(case_id), Updates.SUBMIT_REFERRAL_REPORT, REPORT, CaseStatus)
    status = await h.eventually(lambda: with_deadline(h, case_id, "referral.approval_reminder"))
    assert status.deadlines["referral.approval_reminder"].unit == "calendar"
    await h.skip_to(status.deadlines["referral.approval_reminder"].fire_at)
    status = await h.eventually(lambda: with_deadline(h, case_id, "referral.approval"))
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
    await h.eventually(lambda: case_referred(h, case_id))


async def _noticed(h: Harness, kind: str) -> bool:
    return kind in h.services.notices()


async def test_wages_paid_before_the_decision_make_the_referral_moot(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=48000, workers=12, months=2)
    await pass_payment_deadline(h, case_id, status)
    await h.eventually(lambda: approval_is(h, case_id, "awaiting_report"))
    await h.update(h.case(case_id), Updates.SUBMIT_REFERRAL_REPORT, REPORT, CaseStatus)
    await h.update(h.case(case_id), Updates.RECORD_PAYMENT, payment("late", 48000), CaseStatus)
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.PAID_IN_FULL
    assert result.referral_approval is not None and result.referral_approval.outcome == "moot"
    assert h.services.requests(ActivityNames.MAKE_REFERRAL) == []
