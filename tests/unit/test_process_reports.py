"""The one-truth rules judged once in services/contracts/process_reports.py."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from services.contracts.lifecycle import Status
from services.contracts.process_reports import (
    DeadlineView,
    ProcessSnapshot,
    describe_changes,
    disagreements,
    is_overdue,
    ledger_status,
)

DUE = datetime(2027, 3, 1, 15, 59, 59, tzinfo=UTC)


def snapshot(**fields: object) -> ProcessSnapshot:
    base: dict[str, object] = {"workflow_id": "case:C-1", "stage": "verification", "status": "open"}
    return ProcessSnapshot.model_validate(base | fields)


def limit(outcome: str = "pending", provisional: bool = True) -> DeadlineView:
    return DeadlineView(
        name="investigation.limit.60",
        due_at=DUE,
        due_date=date(2027, 3, 1),
        outcome=outcome,
        provisional=provisional,
        calendar_note="2027 年官方日历尚未录入" if provisional else None,
    )


def test_overdue_means_a_step_still_owed_past_its_limit() -> None:
    assert is_overdue(Status.OPEN, missed_deadline=True)
    assert is_overdue(Status.OPEN, missed_deadline=False, investigation_overdue=True)
    assert not is_overdue(Status.OPEN, missed_deadline=False)
    # A closed complaint owes only its call-back; the investigation limit no longer counts.
    assert is_overdue(Status.CLOSED, missed_deadline=True)
    assert not is_overdue(Status.CLOSED, missed_deadline=False, investigation_overdue=True)
    assert not is_overdue(Status.COMPLETED, missed_deadline=True, investigation_overdue=True)


def test_the_ledger_keeps_open_or_closed() -> None:
    assert [ledger_status(s) for s in ("open", "closed", "completed")] == ["open", "closed", "closed"]


def test_changes_are_described_for_the_timeline() -> None:
    first = snapshot(deadlines=[limit()])
    assert describe_changes(None, first) == ["阶段：verification", "期限「investigation.limit.60」：2027-03-01（暂定）"]
    confirmed = snapshot(deadlines=[limit(provisional=False)])
    assert describe_changes(first, confirmed) == ["期限「investigation.limit.60」重新计算：2027-03-01"]
    closed = snapshot(
        stage="closed",
        status="closed",
        closure_reason="handed_off",
        deadlines=[limit("met", provisional=False)],
        letters={"handoff": "L-1"},
    )
    assert describe_changes(confirmed, closed) == [
        "阶段：closed",
        "状态：closed（handed_off）",
        "期限「investigation.limit.60」已按期完成",
        "文书：handoff L-1",
    ]
    assert describe_changes(closed, closed) == []
    assert describe_changes(confirmed, confirmed.model_copy(update={"overdue": True})) == ["超期"]


def test_a_disagreement_names_the_field_and_both_values() -> None:
    workflow = snapshot(
        stage="closed",
        status="completed",
        closure_reason="handed_off",
        deadlines=[limit("met")],
        amount_paid=Decimal("0"),
    )
    assert (
        disagreements(
            workflow,
            snapshot(
                stage="closed",
                status="closed",
                closure_reason="handed_off",
                deadlines=[limit("met")],
                amount_paid=Decimal("0.00"),
            ),
        )
        == []
    )
    stale = snapshot(stage="handoff", status="open", overdue=True, deadlines=[limit()])
    found = disagreements(workflow, stale)
    assert "stage: workflow closed ≠ ledger handoff" in found
    assert "status: workflow closed ≠ ledger open" in found
    assert "overdue: workflow False ≠ ledger True" in found
    assert any(line.startswith("deadline investigation.limit.60: workflow") and "met" in line for line in found)
    assert disagreements(workflow, snapshot(stage="closed", status="closed", closure_reason="handed_off")) == [
        "deadline investigation.limit.60: missing in the ledger"
    ]


def test_fields_the_ledger_does_not_keep_are_not_compared() -> None:
    workflow = snapshot(amount_owed=Decimal("12000"), workers=3, classification="wage_arrears")
    assert disagreements(workflow, snapshot()) == []


def test_a_report_stored_before_parked_steps_existed_still_reads_as_nothing_parked() -> None:
    from services.contracts.cases_events import ProcessReported

    # A `process.reported` payload as the cases service stored it before the snapshot had `parked`.
    stored = {
        "report_id": "REPORT-20261101-1",
        "workflow_id": "case:C-1",
        "kind": "case",
        "process_case_id": "C-1",
        "county": "130402",
        "seq": 3,
        "at": "2026-11-01T09:00:00+08:00",
        "changes": ["阶段：service"],
        "snapshot": {
            "workflow_id": "case:C-1",
            "stage": "service",
            "status": "open",
            "overdue": False,
            "deadlines": [],
            "referrals": {},
            "letters": {},
        },
    }
    event = ProcessReported.model_validate(stored)
    assert event.snapshot.parked is None


def test_a_parked_step_is_described_and_audited_by_its_step_and_reason() -> None:
    parked = {"step": "cases.issue_order_to_pay", "message": "refused with 422", "since": "2026-11-02T10:00:00+08:00"}
    before, after = snapshot(stage="service"), snapshot(stage="service", parked=parked)
    assert describe_changes(before, after) == [
        "暂停：cases.issue_order_to_pay 被服务拒绝（refused with 422），待运维处理后重试"
    ]
    assert describe_changes(after, before) == ["恢复：重试 cases.issue_order_to_pay"]
    assert disagreements(after, before) == ["parked: workflow cases.issue_order_to_pay: refused with 422 ≠ ledger None"]
    # The instant is the timeline's; the ledger agrees when it shows the same step and reason.
    assert disagreements(after, snapshot(stage="service", parked={**parked, "since": None})) == []


def test_what_waits_for_a_decision_is_audited_and_an_older_report_reads_as_nothing_waiting() -> None:
    waiting = snapshot(stage="refusal", referral_approval="awaiting_decision", unconfirmed_members=["CMP-1"])
    assert disagreements(waiting, snapshot(stage="refusal")) == [
        "referral_approval: workflow awaiting_decision ≠ ledger None",
        "unconfirmed_members: workflow ['CMP-1'] ≠ ledger []",
    ]
    assert disagreements(waiting, waiting) == []
    older = ProcessSnapshot.model_validate({"workflow_id": "case:C-1", "stage": "refusal", "status": "open"})
    assert (older.referral_approval, older.referral_withdrawal, older.unconfirmed_members) == (None, None, [])


def test_a_proposed_withdrawal_is_pending_until_the_bureau_head_decides() -> None:
    from services.contracts.lifecycle import (
        ReferralWithdrawal,
        ReferralWithdrawalDecision,
        ReferralWithdrawalProposal,
    )

    at = datetime(2026, 11, 2, tzinfo=UTC)
    proposal = ReferralWithdrawalProposal(proposed_by="inspector-7", reason="工资及加付赔偿金均已付清")
    withdrawal = ReferralWithdrawal(proposal=proposal, proposed_at=at)
    assert withdrawal.outcome == "pending"
    refused = ReferralWithdrawalDecision(approved=False, decided_by="head-1", reason="公安已立案")
    assert withdrawal.model_copy(update={"decision": refused}).outcome == "refused"
    approved = ReferralWithdrawalDecision(approved=True, decided_by="head-1")
    assert withdrawal.model_copy(update={"decision": approved}).outcome == "approved"
