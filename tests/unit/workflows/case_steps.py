"""The steps that bring a case to where a test of it starts (verified, its order served, its payment deadline
passed, its referral approved by the bureau head) and the waits on its status that the tests of the case share."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from services.contracts.lifecycle import (
    CaseStage,
    CaseStatus,
    ComplaintStage,
    Evidence,
    EvidenceKind,
    LetterKind,
    PaymentRecord,
    ReferralDecisionRecord,
    ReferralReport,
    ServiceMethod,
    ServiceRecord,
    Status,
    SubjectiveElement,
    Updates,
)

from .harness import Harness

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
    await h.eventually(lambda: order_is_issued(h, case_id))
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
    status = await h.eventually(lambda: with_deadline(h, case_id, "order.payment"))
    return complaint, case_id, status


async def order_is_issued(h: Harness, case_id: str) -> bool:
    return (await h.case_status(case_id)).order_id is not None


async def with_deadline(h: Harness, case_id: str, name: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if name in status.deadlines else None


def payment(payment_id: str, amount: int, paid_at: datetime | None = None) -> PaymentRecord:
    return PaymentRecord(payment_id=payment_id, amount=Decimal(amount), recorded_by="inspector-7", paid_at=paid_at)


async def pass_payment_deadline(h: Harness, case_id: str, status: CaseStatus, *, skip_order: bool = True) -> CaseStatus:
    """Past the order's deadline and the grace for a late record of an on-time payment: refusal."""
    if skip_order:
        status = await pass_order_deadline(h, case_id, status)
    await h.skip_to(status.deadlines["order.late_record"].fire_at)
    return await h.eventually(lambda: case_escalated(h, case_id))


REPORT = ReferralReport(
    team=["inspector-7", "inspector-8"],
    facts="用人单位收到限期改正指令书后转移工程款，逾期仍未支付 12 名劳动者工资",
    subjective_element=SubjectiveElement.TRANSFERRED_ASSETS,
    evidence=[Evidence(kind=EvidenceKind.BANK_RECORD, ref="bank-statement-1")],
    submitted_by="inspector-7",
)


async def refer_with_approval(h: Harness, case_id: str) -> CaseStatus:
    """The case team's report and the bureau head's approval; the referral then goes to the police."""
    await h.eventually(lambda: approval_is(h, case_id, "awaiting_report"))
    await h.update(h.case(case_id), Updates.SUBMIT_REFERRAL_REPORT, REPORT, CaseStatus)
    await h.update(
        h.case(case_id),
        Updates.DECIDE_REFERRAL,
        ReferralDecisionRecord(approved=True, decided_by="bureau-head-1"),
        CaseStatus,
    )
    return await h.eventually(lambda: case_referred(h, case_id))


async def approval_is(h: Harness, case_id: str, outcome: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    approval = status.referral_approval
    return status if approval is not None and approval.outcome == outcome else None


async def case_referred(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if {"police", "procuratorate"} <= status.referrals.keys() else None


async def pass_order_deadline(h: Harness, case_id: str, status: CaseStatus) -> CaseStatus:
    """Past the order's deadline, unpaid: the case waits its grace for a late record before refusal."""
    await h.skip_to(status.deadlines["order.payment"].fire_at)
    return await h.eventually(lambda: with_deadline(h, case_id, "order.late_record"))


async def case_escalated(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    done = status.stage is CaseStage.REFUSAL and any(e.kind == "refusal.escalated" for e in status.timeline)
    return status if done or status.status is not Status.OPEN else None


async def complainant_told(h: Harness, complaint_id: str, template: str) -> bool:
    return template in h.sms.templates(complaint_id)


async def letters_issued(h: Harness, expected: list[LetterKind]) -> bool:
    return h.services.letters() == expected
