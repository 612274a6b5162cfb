"""Inspector actions on the real stack: each one accepted by the live process and refused when the
process cannot take it, with the ledger, the timeline and the event stream following."""

from __future__ import annotations

import time
from decimal import Decimal

from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.factories import seed
from tests.support.ledger_audit import assert_ledger_agrees


def test_two_complaints_make_one_case_that_runs_from_acceptance_to_call_back(agencies: Agencies) -> None:
    a = agencies
    employer = seed()
    first = a.file(complaint_body(employer, amount_owed="12000.00", workers_affected=2))
    second = a.file(complaint_body(employer, amount_owed="8000.00", workers_affected=1))
    case_id = a.in_ledger(first)["case_id"]
    assert a.in_ledger(second)["case_id"] == case_id

    case = a.case_until(case_id, lambda c: c["complaint_count"] == 2, "both complaints in the case")
    assert case["complainant_count"] == 2 and case["workers_affected"] == 3
    assert Decimal(case["amount_claimed"]) == Decimal("20000.00")
    assert case["stage"] == "acceptance" and case["status"] == "open"
    # The 5-working-day acceptance period, as the complaints' workflows computed and reported it.
    case = a.case_until(case_id, lambda c: c["next_deadline"] is not None, "the acceptance period in the ledger")
    assert any(d["name"] == "acceptance" for d in case["deadlines"])
    assert "id_number" not in str(case) and "测试工人" not in str(case)

    # Accept both; a second decision on the same complaint is refused by the process.
    for complaint_id in (first, second):
        r = a.act(a.inspector, f"/v1/complaints/{complaint_id}/acceptance", {"decision": "accept"})
        assert r.status_code == 200, r.text
        assert r.json()["accepted"] is True
    again = a.inspector.post(f"/v1/complaints/{first}/acceptance", json={"decision": "accept"})
    assert again.status_code == 409, again.text
    assert again.headers["content-type"].startswith("application/problem+json")
    assert "in_case" in again.json()["detail"]

    case = a.case_until(
        case_id, lambda c: bool(c["process_case_ids"]) and c["stage"] == "verification", "the case in verification"
    )
    assert "accepted" in case["stage_times"] and "verification" in case["stage_times"]

    # A handoff outcome without its department breaks the contract's own rule: 422, nothing recorded.
    bad = a.inspector.post(f"/v1/cases/{case_id}/verification", json={"outcome": "project_payment_dispute"})
    assert bad.status_code == 422 and "department" in bad.json()["detail"]

    r = a.act(
        a.inspector,
        f"/v1/cases/{case_id}/verification",
        {"outcome": "wage_arrears", "confirmed_amount": "18000.00", "confirmed_workers": 3},
    )
    assert r.status_code == 200, r.text
    assert r.json()["process"]["classification"] == "wage_arrears"

    # The workflow issues its order through POST /v1/orders; the ledger shows the service stage.
    case = a.case_until(
        case_id,
        lambda c: c["stage"] == "service" and c["amount_verified"] is not None,
        "the verification recorded and the order to pay issued",
    )
    assert Decimal(case["amount_verified"]) == Decimal("18000.00") and case["workers_affected"] == 3
    assert case["processes"][0]["order_id"].startswith("ORDER-")

    # Service in person needs the signed receipt (contract rule, 422); with it the process accepts.
    no_receipt = a.inspector.post(
        f"/v1/cases/{case_id}/service", json={"method": "in_person", "evidence": [{"kind": "photo", "ref": "ev-1"}]}
    )
    assert no_receipt.status_code == 422
    served = a.act(
        a.inspector,
        f"/v1/cases/{case_id}/service",
        {"method": "in_person", "evidence": [{"kind": "receipt", "ref": "ev-receipt-1"}]},
    )
    assert served.status_code == 200, served.text
    twice = a.inspector.post(
        f"/v1/cases/{case_id}/service",
        json={"method": "in_person", "evidence": [{"kind": "receipt", "ref": "ev-receipt-2"}]},
    )
    assert twice.status_code == 409

    # Payments: more than is outstanding is refused; a part, then the rest, close the case.
    too_much = a.inspector.post(
        f"/v1/cases/{case_id}/payments",
        json={"payment_id": "P1", "amount": "18000.01", "evidence": [{"kind": "bank_record", "ref": "ev-bank-0"}]},
    )
    assert too_much.status_code == 409 and "18000" in too_much.json()["detail"]
    part = a.inspector.post(
        f"/v1/cases/{case_id}/payments",
        json={"payment_id": "P1", "amount": "8000.00", "evidence": [{"kind": "bank_record", "ref": "ev-bank-1"}]},
    )
    assert part.status_code == 200, part.text
    repeat_id = a.inspector.post(
        f"/v1/cases/{case_id}/payments",
        json={"payment_id": "P1", "amount": "10.00", "evidence": [{"kind": "bank_record", "ref": "ev-bank-x"}]},
    )
    assert repeat_id.status_code == 409
    rest = a.inspector.post(
        f"/v1/cases/{case_id}/payments",
        json={"payment_id": "P2", "amount": "10000.00", "evidence": [{"kind": "bank_record", "ref": "ev-bank-2"}]},
    )
    assert rest.status_code == 200, rest.text

    case = a.case_until(case_id, lambda c: c["status"] == "closed", "the case closed after full payment")
    assert case["closure_reason"] == "paid_in_full"
    assert Decimal(case["amount_recovered"]) == Decimal("18000.00")
    for stage in ("received", "accepted", "verification", "service", "payment", "closed"):
        assert stage in case["stage_times"], stage

    # Acting on a closed case is refused: its process has finished.
    late = a.inspector.post(f"/v1/cases/{case_id}/verification", json={"outcome": "unfounded"})
    assert late.status_code == 409 and "finished" in late.json()["detail"]

    # Call-back: once the complaint's workflow has heard of the closure; only once.
    called = a.act(a.inspector, f"/v1/complaints/{first}/callback", {"satisfaction": "satisfied"})
    assert called.status_code == 200, called.text
    again = a.inspector.post(f"/v1/complaints/{first}/callback", json={"satisfaction": "satisfied"})
    assert again.status_code == 409

    # The call-back reaches the case's timeline as an event, a moment after the answer.
    for _ in range(60):
        timeline = a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]
        types = [e["type"] for e in timeline]
        if "complaint.callback_recorded" in types:
            break
        time.sleep(0.5)
    for expected in (
        "complaint.submitted",
        "case.opened",
        "complaint.acceptance_decided",
        "case.verification_recorded",
        "case.order_issued",
        "case.service_recorded",
        "case.payment_recorded",
        "complaint.callback_recorded",
    ):
        assert expected in types, (expected, types)
    assert (
        types.index("case.order_issued") < types.index("case.service_recorded") < types.index("case.payment_recorded")
    )
    assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)
    assert_ledger_agrees(a.stack, [case_id])
