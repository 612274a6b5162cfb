"""The refusal's timing on the real stack, on a compressed clock: a payment dated on time but recorded after
the order's deadline ends the case as paid on time; a criminal referral whose report and approval lapse is
followed up (the case team reminded, the bureau head reminded, the supervising office told)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.factories import seed
from tests.support.ledger_audit import assert_ledger_agrees


def _deadline(case: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((d for d in case["deadlines"] if d["name"] == name), None)


def _served(a: Agencies, case_id: str, ref: str) -> None:
    assert a.act(a.inspector, f"/v1/cases/{case_id}/verification", {"outcome": "wage_arrears"}).status_code == 200
    served = a.act(
        a.inspector,
        f"/v1/cases/{case_id}/service",
        {"method": "in_person", "evidence": [{"kind": "receipt", "ref": ref}]},
    )
    assert served.status_code == 200, served.text


def test_a_payment_dated_on_time_but_recorded_after_the_deadline_is_on_time(agencies: Agencies) -> None:
    a = agencies
    with a.compressed_clock(seconds_per_day=6):
        _, case_id = a.accepted_case(complaint_body(seed(), amount_owed="3000.00", workers_affected=1))
    _served(a, case_id, "ev-r-late-record")

    def deadline_passed(case: dict[str, Any]) -> bool:
        deadline = _deadline(case, "order.payment")
        return deadline is not None and deadline["outcome"] == "expired"

    case = a.case_until(case_id, deadline_passed, "the order's deadline passed unpaid", timeout=120)
    due_at = datetime.fromisoformat(_deadline(case, "order.payment")["due_at"])  # type: ignore[index]
    # The inspector records the bank transfer the next morning, with the bank's date.
    paid = a.act(
        a.inspector,
        f"/v1/cases/{case_id}/payments",
        {
            "payment_id": "bank-1",
            "amount": "3000.00",
            "paid_at": (due_at - timedelta(hours=2)).isoformat(),
            "evidence": [{"kind": "bank_record", "ref": "ev-bank-late-record"}],
        },
    )
    assert paid.status_code == 200, paid.text

    case = a.case_until(case_id, lambda c: c["status"] == "closed", "the case closed", timeout=60)
    assert case["closure_reason"] == "paid_in_full"
    assert case["processes"][0]["compensation_id"] is None
    assert "refusal" not in case["stage_times"]
    assert_ledger_agrees(a.stack, [case_id])


def test_a_referral_whose_report_and_approval_lapse_is_followed_up(agencies: Agencies) -> None:
    a = agencies
    a.stack.start_processes(
        [
            "referrals-api",
            "referrals-relay",
            "referrals-worker",
            "sanctions-api",
            "sanctions-relay",
            "sanctions-worker",
        ],
        timeout=120,
    )
    with a.compressed_clock():
        _, case_id = a.accepted_case(complaint_body(seed(), amount_owed="6000.00", workers_affected=1))
    _served(a, case_id, "ev-r-lapse")

    def notices(case: dict[str, Any]) -> set[str]:
        events = a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]
        return {e["detail"].get("kind") for e in events if e["type"] == "case.notice_recorded"}

    # No report within 3 working days: the case team is reminded.
    a.case_until(case_id, lambda c: "referral.report" in notices(c), "the report's reminder", timeout=120)
    report = {
        "team": ["inspector-130402", "inspector-130402-b"],
        "facts": "逾期未支付，经查有能力支付而拒不支付",
        "subjective_element": "able_but_refused",
        "evidence": [{"kind": "bank_record", "ref": "ev-bank-l"}],
    }
    assert a.act(a.inspector, f"/v1/cases/{case_id}/referral-report", report).status_code == 200
    # No decision: the bureau head is reminded, then the lapse goes to the supervising office.
    a.case_until(
        case_id,
        lambda c: {"referral.approval_reminder", "referral.approval"} <= notices(c),
        "the head reminded and the lapse escalated",
        timeout=120,
    )
    approved = a.bureau_head.post(f"/v1/cases/{case_id}/referral-report/decision", json={"approved": True})
    assert approved.status_code == 200, approved.text

    def referred(case: dict[str, Any]) -> bool:
        events = a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]
        return any(e["type"] == "referral.made" for e in events)

    a.case_until(case_id, referred, "the referral made after the late approval", timeout=120)
    assert_ledger_agrees(a.stack, [case_id])
