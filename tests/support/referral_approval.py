"""The criminal referral's approval, given on a case workflow directly (the paths that drive workflows through
Temporal): the case team's report, then the bureau head's approval."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from services.contracts.lifecycle import (
    Evidence,
    EvidenceKind,
    ReferralDecisionRecord,
    ReferralReport,
    SubjectiveElement,
    Updates,
)

REPORT = ReferralReport(
    team=["inspector-130402", "inspector-130402-b"],
    facts="收到限期改正指令书后逾期未支付，经查有能力支付而拒不支付",
    subjective_element=SubjectiveElement.ABLE_BUT_REFUSED,
    evidence=[Evidence(kind=EvidenceKind.BANK_RECORD, ref="bank-statement")],
    submitted_by="inspector-130402",
)
APPROVAL = ReferralDecisionRecord(approved=True, decided_by="bureau-head-130402")


async def approve_referral(case: WorkflowHandle[Any, Any], timeout: float = 120) -> None:
    """Submit the report as soon as the workflow asks for it, then approve it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await case.execute_update(Updates.SUBMIT_REFERRAL_REPORT, REPORT)
            break
        except WorkflowUpdateFailedError:  # refused: the refusal stage has not proposed the referral yet
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
    await case.execute_update(Updates.DECIDE_REFERRAL, APPROVAL)
