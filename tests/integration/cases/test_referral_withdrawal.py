"""A criminal referral withdrawn after payment, on the real stack: the wages paid (the police are told), the
additional compensation paid as its own kind of payment, an inspector's proposal and the bureau head's
approval; the referrals service marks the referral withdrawn and the ledger agrees with the workflow."""

from __future__ import annotations

from decimal import Decimal

from tests.integration.cases.conftest import Agencies
from tests.support.ledger_audit import assert_ledger_agrees


def _wait_for_step(a: Agencies, case_id: str, field: str, value: str, awaiting: str | None) -> None:
    """Wait until the case's process reports `field` as `value`; then the bureau head's `awaiting` list (when
    the step waits for someone) holds the case, and the other lists do not."""
    a.case_until(
        case_id,
        lambda c: any(p.get(field) == value for p in c["processes"]),
        f"the process's {field} {value}",
        timeout=120,
    )
    for name in ("referral_report", "referral_decision", "withdrawal_decision"):
        listed = a.bureau_head.get("/v1/cases", params={"awaiting": name, "status": "open", "limit": 200})
        assert listed.status_code == 200, listed.text
        assert (case_id in {c["case_id"] for c in listed.json()["items"]}) == (name == awaiting), (name, listed.text)


def test_a_referral_is_withdrawn_on_the_heads_approval_once_wages_and_compensation_are_paid(agencies: Agencies) -> None:
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
    case_id = a.served_over_the_threshold("ev-r-withdraw")
    # Refused and over the threshold, the process waits for its case team's report: the ledger says so, and the
    # queue's `awaiting` filter finds the case.
    _wait_for_step(a, case_id, "referral_approval", "awaiting_report", "referral_report")
    report = {
        "team": ["inspector-130402", "inspector-130402-b"],
        "facts": "逾期未支付，经查有能力支付而拒不支付",
        "subjective_element": "able_but_refused",
        "evidence": [{"kind": "bank_record", "ref": "ev-bank-w"}],
    }
    assert a.act(a.inspector, f"/v1/cases/{case_id}/referral-report", report, timeout=120).status_code == 200
    _wait_for_step(a, case_id, "referral_approval", "awaiting_decision", "referral_decision")
    assert (
        a.bureau_head.post(f"/v1/cases/{case_id}/referral-report/decision", json={"approved": True}).status_code == 200
    )
    _wait_for_step(a, case_id, "referral_approval", "approved", None)

    def referred(case: dict) -> bool:
        events = a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]
        return any(e["type"] == "referral.made" for e in events)

    a.case_until(case_id, referred, "the police referral", timeout=120)
    evidence = [{"kind": "bank_record", "ref": "ev-bank-paid"}]
    paid = a.act(
        a.inspector,
        f"/v1/cases/{case_id}/payments",
        {"payment_id": "wages-1", "amount": "6000.00", "evidence": evidence},
    )
    assert paid.status_code == 200, paid.text
    early = a.inspector.post(f"/v1/cases/{case_id}/referral-withdrawal", json={"reason": "工资已付清"})
    assert early.status_code == 409 and "compensation" in early.json()["detail"], early.text
    too_much = a.inspector.post(
        f"/v1/cases/{case_id}/payments",
        json={"payment_id": "comp-0", "amount": "9000.00", "evidence": evidence, "purpose": "compensation"},
    )
    assert too_much.status_code == 409, too_much.text
    compensation = a.act(
        a.inspector,
        f"/v1/cases/{case_id}/payments",
        {"payment_id": "comp-1", "amount": "3000.00", "evidence": evidence, "purpose": "compensation"},
    )
    assert compensation.status_code == 200, compensation.text

    proposed = a.act(a.inspector, f"/v1/cases/{case_id}/referral-withdrawal", {"reason": "工资及加付赔偿金均已付清"})
    assert proposed.status_code == 200, proposed.text
    _wait_for_step(a, case_id, "referral_withdrawal", "pending", "withdrawal_decision")
    decision = f"/v1/cases/{case_id}/referral-withdrawal/decision"
    assert a.inspector.post(decision, json={"approved": True}).status_code == 403
    approved = a.bureau_head.post(decision, json={"approved": True})
    assert approved.status_code == 200, approved.text

    def withdrawn(case: dict) -> bool:
        # The timeline is projected from every service's topic: the referrals service's `referral.withdrawn`
        # may come in before the cases service's own proposal and decision do.
        types = {e["type"] for e in a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]}
        return (
            case["status"] == "closed"
            and {"referral.withdrawn", "case.referral_withdrawal_proposed", "case.referral_withdrawal_decided"} <= types
        )

    case = a.case_until(case_id, withdrawn, "the case closed and the referral withdrawn", timeout=120)
    assert case["closure_reason"] == "paid_in_full"
    # Only wages count as recovered.
    assert Decimal(case["amount_recovered"]) == Decimal("6000.00")
    types = [e["type"] for e in a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]]
    assert "case.referral_withdrawal_proposed" in types and "case.referral_withdrawal_decided" in types
    assert_ledger_agrees(a.stack, [case_id])
