"""A step its service refuses for good parks the case visibly: the reason is in the case API, `anxin stuck`
prints it with the command to retry, and `anxin audit ledger` compares it."""

from __future__ import annotations

import re

from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.factories import seed
from tests.support.ledger_audit import assert_ledger_agrees
from tests.support.operator_cli import anxin


def test_a_refused_order_parks_the_case_with_its_reason_in_the_case_api(agencies: Agencies) -> None:
    a = agencies
    complaint_id, case_id = a.accepted_case(complaint_body(seed()))
    # The cases service refuses the workflow's order for good: its idempotency key was already used for
    # another order (422), which no retry can change.
    key = f"case:{case_id}:order"
    squatter = {
        "idempotency_key": key,
        "case_id": case_id,
        "county": "130402",
        "employer_ref": "E-OTHER",
        "project_ref": "P-OTHER",
        "amount_owed": "1.00",
        "workers": 1,
        "pay_days": 7,
        "pay_unit": "calendar",
    }
    taken = a.lifecycle.post("/v1/orders", json=squatter, headers={"Idempotency-Key": key})
    assert taken.status_code == 201, taken.text
    verified = a.act(a.inspector, f"/v1/cases/{case_id}/verification", {"outcome": "wage_arrears"})
    assert verified.status_code == 200, verified.text

    case = a.case_until(case_id, lambda c: bool(c["parked"]), "the parked step in the case API", timeout=60)
    [parked] = case["parked"]
    assert parked["workflow_id"] == f"case:{case_id}"
    assert parked["step"] == "cases.issue_order_to_pay" and "422" in parked["message"], parked
    assert parked["since"] is not None
    process = next(p for p in case["processes"] if p["process_case_id"] == case_id)
    assert process["parked"]["step"] == "cases.issue_order_to_pay"
    assert all(c["parked"] is None for c in case["complaints"])
    assert a.city.get(f"/v1/complaints/{complaint_id}").json()["parked"] is None
    timeline = a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]
    assert any(e["type"] == "process.reported" and "暂停：cases.issue_order_to_pay" in e["summary"] for e in timeline)
    # The ledger says what the workflow says, parked step included.
    assert_ledger_agrees(a.stack, [case_id], parked_allowed=True)

    stuck = anxin(a.stack, "stuck")
    assert stuck.returncode == 0, stuck.stderr
    # The table wraps a long reason over several lines (the columns are as wide as the terminal allows).
    assert re.search(rf"case:{case_id}\s+│ parked: cases.issue_order_to_pay refused", stuck.stdout), stuck.stdout
    assert f"anxin case retry case:{case_id}`" in stuck.stdout, stuck.stdout

    # Retried while the cause is still there: refused again, and parked again.
    retried = anxin(a.stack, "case", "retry", f"case:{case_id}")
    assert retried.returncode == 0 and "retrying" in retried.stdout, retried.stdout + retried.stderr
    a.case_until(
        case_id,
        lambda c: (
            any(
                "恢复" in e["summary"]
                for e in a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]
                if e["type"] == "process.reported"
            )
            and bool(c["parked"])
        ),
        "the retry and the new refusal in the ledger",
        timeout=60,
    )
    nothing = anxin(a.stack, "case", "retry", f"complaint:{complaint_id}")
    assert nothing.returncode == 1 and "nothing is parked" in nothing.stdout, nothing.stdout + nothing.stderr
