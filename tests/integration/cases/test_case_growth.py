"""A case that grows after verification, on the real stack: a tenth worker's complaint joins the verified
case, the ledger counts its claim, the inspector confirms the new totals through the cases API, and the
workflow issues an amended order (its `case.order_issued` naming the order it amends) to be served anew."""

from __future__ import annotations

from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.factories import seed
from tests.support.ledger_audit import assert_ledger_agrees


def test_a_worker_joining_after_verification_brings_new_totals_and_an_amended_order(agencies: Agencies) -> None:
    a = agencies
    employer = seed()
    first, case_id = a.accepted_case(complaint_body(employer, amount_owed="36000.00", workers_affected=9))
    early = a.inspector.post(
        f"/v1/cases/{case_id}/figures", json={"confirmed_amount": "36000.00", "confirmed_workers": 9}
    )
    assert early.status_code == 409 and "verification outcome" in early.json()["detail"], early.text
    verified = a.act(
        a.inspector,
        f"/v1/cases/{case_id}/verification",
        {"outcome": "wage_arrears", "confirmed_amount": "36000.00", "confirmed_workers": 9},
    )
    assert verified.status_code == 200, verified.text
    served = a.act(
        a.inspector,
        f"/v1/cases/{case_id}/service",
        {"method": "in_person", "evidence": [{"kind": "receipt", "ref": "ev-growth-1"}]},
    )
    assert served.status_code == 200, served.text
    a.case_until(case_id, lambda c: c["stage"] == "payment", "the order running")

    # The tenth worker's complaint joins the case: counted at its claim until the inspector confirms.
    second, same_case = a.accepted_case(complaint_body(employer, amount_owed="4000.00", workers_affected=1))
    assert same_case == case_id
    a.case_until(case_id, lambda c: len(c["complaints"]) == 2, "the late complaint in the case")

    bad = a.inspector.post(f"/v1/cases/{case_id}/figures", json={"confirmed_amount": "-1", "confirmed_workers": 10})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert (
        a.other_inspector.post(
            f"/v1/cases/{case_id}/figures", json={"confirmed_amount": "40000.00", "confirmed_workers": 10}
        ).status_code
        == 404
    )
    confirmed = a.act(
        a.inspector,
        f"/v1/cases/{case_id}/figures",
        {"confirmed_amount": "40000.00", "confirmed_workers": 10, "notes": "补充核实第十名劳动者"},
    )
    assert confirmed.status_code == 200, confirmed.text

    def amended(case: dict) -> bool:
        # The amended order's event may be recorded before the confirmation's: wait for both.
        events = [e["type"] for e in a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]]
        return (
            case["stage"] == "service"
            and events.count("case.order_issued") == 2
            and "case.figures_confirmed" in events
            and case["processes"][0]["amount_verified"] == "40000.00"
        )

    case = a.case_until(case_id, amended, "the new totals and the amended order, awaiting service", timeout=90)
    process = case["processes"][0]
    assert process["amount_verified"] == "40000.00" and process["workers_verified"] == 10
    assert {first, second} <= {c["complaint_id"] for c in case["complaints"]}
    assert_ledger_agrees(a.stack, [case_id])
