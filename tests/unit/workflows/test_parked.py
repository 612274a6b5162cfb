"""A step its service refuses for good parks the process visibly: in the `status` query and in the reports the
ledger keeps, until an operator retries it."""

from __future__ import annotations

from typing import Any

from services.contracts.lifecycle import (
    AcceptanceDecision,
    AcceptanceDecisionKind,
    ActivityNames,
    CaseStage,
    CaseStatus,
    ComplaintStage,
    ComplaintStatus,
    Signals,
    Updates,
)
from services.contracts.process_reports import ProcessReport

from .harness import Harness, search_attributes


def _last_report(h: Harness, workflow_id: str) -> ProcessReport | None:
    return h.services.last_report(workflow_id) if h.services.reports.get(workflow_id) else None


async def _case_parked(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    report = _last_report(h, f"case:{case_id}")
    return status if status.parked is not None and report is not None and report.snapshot.parked else None


async def _order_issued(h: Harness, case_id: str) -> tuple[CaseStatus, ProcessReport] | None:
    status = await h.case_status(case_id)
    report = _last_report(h, f"case:{case_id}")
    if status.order_id is None or report is None or report.snapshot.parked is not None:
        return None
    return status, report


async def test_a_refused_step_parks_the_case_visibly_until_it_is_retried(harness: Harness) -> None:
    h = harness
    h.services.refusing.add(ActivityNames.ISSUE_ORDER_TO_PAY)
    _, case_id = await h.verified_case()
    status = await h.eventually(lambda: _case_parked(h, case_id))
    parked = status.parked
    assert parked is not None
    assert parked.step == ActivityNames.ISSUE_ORDER_TO_PAY
    assert "employer_ref unknown" in parked.message
    # Since the refusal's own entry: other entries (a deadline computed meanwhile) may come after it.
    refusals = [entry for entry in status.timeline if entry.kind == "step.refused"]
    assert parked.since is not None and [parked.since] == [entry.at for entry in refusals]
    assert (await search_attributes(h.case(case_id)))["AnxinOverdue"] is True
    # The ledger is told at once, with the reason, and not later by chance: one report says it parked (a later
    # one, of a deadline computed meanwhile, may follow it), and what the ledger keeps shows it parked.
    told = [
        report
        for report in h.services.reports[f"case:{case_id}"].values()
        if any(c.startswith("暂停：cases.issue_order_to_pay") for c in report.changes)
    ]
    assert [report.snapshot.parked for report in told] == [parked]
    assert h.services.last_report(f"case:{case_id}").snapshot.parked == parked

    h.services.refusing.clear()
    await h.case(case_id).signal(Signals.RETRY_REFUSED_STEP)
    status, _ = await h.eventually(lambda: _order_issued(h, case_id))
    assert status.parked is None and status.stage is CaseStage.SERVICE
    reports = h.services.reports[f"case:{case_id}"]
    assert any(f"恢复：重试 {ActivityNames.ISSUE_ORDER_TO_PAY}" in r.changes for r in reports.values())


async def _complaint_parked(h: Harness, handle: Any) -> ComplaintStatus | None:
    status = await h.complaint_status(handle)
    report = _last_report(h, handle.id)
    return status if status.parked is not None and report is not None and report.snapshot.parked else None


async def test_a_refused_forwarding_parks_the_complaint_with_its_reason(harness: Harness) -> None:
    h = harness
    h.services.refusing.add(ActivityNames.FORWARD_COMPLAINT)
    handle = await h.start_complaint()
    await h.update(
        handle,
        Updates.DECIDE_ACCEPTANCE,
        AcceptanceDecision(
            decision=AcceptanceDecisionKind.FORWARD,
            decided_by="inspector-7",
            forward_to="130403-hrss",
            explanation="项目在复兴区",
        ),
        ComplaintStatus,
    )
    status = await h.eventually(lambda: _complaint_parked(h, handle))
    assert status.parked is not None and status.parked.step == ActivityNames.FORWARD_COMPLAINT
    assert h.services.last_report(handle.id).snapshot.parked == status.parked

    h.services.refusing.clear()
    await handle.signal(Signals.RETRY_REFUSED_STEP)

    async def forwarded() -> ComplaintStatus | None:
        status = await h.complaint_status(handle)
        report = _last_report(h, handle.id)
        done = status.stage is ComplaintStage.CALLBACK and report is not None and report.snapshot.parked is None
        return status if done else None

    status = await h.eventually(forwarded)
    assert status.parked is None
