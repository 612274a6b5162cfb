"""A refused case's workers paid from the project's wage deposit, on the real stack: the cases and monitoring
services, the lifecycle worker, Temporal, PostgreSQL and Kafka.

A case over the threshold is served on a compressed clock; before its deadline passes a payout is refused. Once
refused, the inspector's decision (`POST /v1/cases/{id}/payouts`) above what is owed is refused; within it, the
case's workflow asks the monitoring service (the real `monitoring.request_payout`), the same request again
answers the same payout. The city office approves it and the county records the bank's payment in the monitoring
API: the cases worker records the payment on the case's workflow, the ledger keeps it (workers paid, amount,
date) and its timeline shows the decision, the approval and the payment — and none of it is the employer's
payment: the case stays open in refusal, nothing recovered."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from services.contracts.legal_time import legal_date
from tests.integration.cases.conftest import Agencies
from tests.integration.monitoring.test_register import project
from tests.support.agencies import agency_clients, wait_for
from tests.support.ledger_audit import assert_ledger_agrees

MONITORING = ["issuer-api", "monitoring-api", "monitoring-relay", "monitoring-worker"]


def test_a_refused_case_s_workers_are_paid_from_the_deposit_and_the_employer_still_owes(
    agencies: Agencies, agency_token: Callable[[str], str]
) -> None:
    a = agencies
    a.stack.start_processes(MONITORING, timeout=240)
    monitoring = agency_clients(a.stack, agency_token)
    register, city_office = (
        monitoring("monitoring-api", "inspector-130402"),
        monitoring("monitoring-api", "city-office"),
    )
    registered = register.post("/v1/projects", json=project(f"HD-{uuid.uuid4().hex[:8].upper()}-P1", county="130402"))
    assert registered.status_code == 201, registered.text
    project_id = registered.json()["project_id"]

    case_id = a.served_over_the_threshold("ev-payout")
    decision = {"source": "deposit", "amount": "6000.00", "workers_paid": 1, "project_id": project_id}
    early = a.inspector.post(f"/v1/cases/{case_id}/payouts", json=decision)
    assert early.status_code == 409 and "stage refusal" in early.json()["detail"], early.text
    a.case_until(case_id, lambda c: c["stage"] == "refusal", "the refusal", timeout=120)

    too_much = a.inspector.post(f"/v1/cases/{case_id}/payouts", json={**decision, "amount": "6000.01"})
    assert too_much.status_code == 409 and "exceeds" in too_much.json()["detail"], too_much.text
    no_project = a.inspector.post(f"/v1/cases/{case_id}/payouts", json={**decision, "project_id": None})
    assert no_project.status_code == 422, no_project.text
    assert a.city.post(f"/v1/cases/{case_id}/payouts", json=decision).status_code == 403
    key = {"Idempotency-Key": f"payout-{case_id}"}
    decided = a.inspector.post(f"/v1/cases/{case_id}/payouts", json=decision, headers=key)
    assert decided.status_code == 200, decided.text
    payout = decided.json()["payout"]
    assert (payout["stage"], payout["sequence"], payout["amount"]) == ("requested", 1, "6000.00")
    assert decided.json()["payouts"]["uncovered"] == "0.00"
    again = a.inspector.post(f"/v1/cases/{case_id}/payouts", json=decision, headers=key)
    assert again.status_code == 200 and again.json()["payout"] == payout, again.text
    payout_id = payout["payout_id"]
    listed = city_office.get("/v1/payouts", params={"case": case_id}).json()["items"]
    assert [(p["payout_id"], p["stage"], p["project_id"]) for p in listed] == [(payout_id, "requested", project_id)]

    approved = city_office.post(f"/v1/payouts/{payout_id}/decision", json={"decision": "approve"})
    assert approved.status_code == 200, approved.text
    today = legal_date(datetime.now(UTC)).isoformat()
    paid = register.post(f"/v1/payouts/{payout_id}/payment", json={"paid_on": today}, headers={"Idempotency-Key": "p"})
    assert paid.status_code == 200, paid.text

    def recorded() -> list[dict[str, Any]] | None:
        answer = a.city.get(f"/v1/cases/{case_id}/payouts")
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        return items if items and items[0]["stage"] == "paid" else None

    (row,) = wait_for("the payment in the ledger", recorded, timeout=120)
    assert (row["payout_id"], row["source"], row["amount_paid"], row["workers_paid"], row["paid_on"]) == (
        payout_id,
        "deposit",
        "6000.00",
        1,
        today,
    )

    def told() -> list[dict[str, Any]] | None:
        events = a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]
        outcomes = [e for e in events if e["type"] == "case.payout_outcome_recorded"]
        return events if {e["detail"]["outcome"] for e in outcomes} == {"approved", "paid"} else None

    events = wait_for("the payment recorded on the case", told, timeout=120)
    assert any(e["type"] == "case.payout_decided" for e in events)
    paid_line = next(
        e for e in events if e["type"] == "case.payout_outcome_recorded" and e["detail"]["outcome"] == "paid"
    )
    assert "不视为用人单位支付" in paid_line["summary"] and "仅记入台账" not in paid_line["summary"]
    # The workers are paid; the employer is not: the case stays open in refusal with nothing recovered.
    case = a.case(case_id)
    assert (case["status"], case["stage"]) == ("open", "refusal")
    assert Decimal(case["amount_recovered"]) == 0
    closing = a.inspector.post(f"/v1/cases/{case_id}/closure", json={"reason": "paid_in_full"})
    assert closing.status_code == 409, closing.text
    assert_ledger_agrees(a.stack, [case_id])
