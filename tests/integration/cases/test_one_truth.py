"""One truth: what the workflows do by themselves reaches the ledger, and `anxin audit ledger` finds no
disagreement (services/contracts/process_reports.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import httpx
import psycopg

from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.agencies import wait_for
from tests.support.factories import seed
from tests.support.ledger_audit import assert_ledger_agrees
from tests.support.operator_cli import anxin


def test_a_new_case_shows_its_investigation_limit_as_soon_as_the_workflow_computes_it(
    agencies: Agencies,
) -> None:
    a = agencies
    complaint_id, case_id = a.accepted_case(complaint_body(seed()))

    def limit_of(case: dict) -> dict | None:
        return next((d for d in case["deadlines"] if d["name"].startswith("investigation.limit")), None)

    # No inspector acts after the acceptance: only the case workflow's own report can bring the limit.
    case = a.case_until(case_id, lambda c: limit_of(c) is not None, "the investigation limit in the ledger", timeout=20)
    limit = limit_of(case)
    assert limit is not None and limit["outcome"] == "pending"
    if date.fromisoformat(limit["due_date"]).year > 2026:  # beyond the installed calendar's data
        assert limit["provisional"] is True and limit["calendar_note"], limit
    assert case["next_deadline"] is not None and case["status"] == "open"
    complaint = a.city.get(f"/v1/complaints/{complaint_id}").json()
    assert complaint["stage"] == "in_case"
    assert_ledger_agrees(a.stack, [case_id])


def test_a_case_closed_by_a_departments_answer_leaves_the_open_queue(
    agencies: Agencies, agency_token: Callable[[str], str]
) -> None:
    a = agencies
    a.stack.start_processes(["referrals-api", "referrals-relay", "referrals-worker"], timeout=120)
    housing = httpx.Client(
        base_url=a.stack.processes["referrals-api"].url,
        timeout=30,
        headers={"Authorization": f"Bearer {agency_token('dept-housing')}"},
    )
    _, case_id = a.accepted_case(complaint_body(seed()))
    verified = a.act(
        a.inspector,
        f"/v1/cases/{case_id}/verification",
        {"outcome": "project_payment_dispute", "department": "housing"},
    )
    assert verified.status_code == 200, verified.text
    handoff = wait_for(
        "the handoff in housing's inbox",
        lambda: next(iter(housing.get("/v1/handoffs", params={"case_id": case_id}).json()["items"]), None),
        timeout=60,
    )
    answered = housing.post(
        f"/v1/handoffs/{handoff['handoff_id']}/response",
        json={"outcome": "resolved", "summary": "已督促建设单位拨付工程款"},
    )
    assert answered.status_code == 200, answered.text

    # The department's answer closes the case in the workflow; no inspector acts on the case afterwards.
    case = a.case_until(case_id, lambda c: c["status"] == "closed", "the case closed in the ledger", timeout=60)
    assert case["stage"] == "closed" and case["overdue"] is False
    assert case["closure_reason"] == "handed_off"
    employer = case["employer_credit_code"]
    open_queue = a.inspector.get("/v1/cases", params={"status": "open", "employer": employer}).json()["items"]
    closed = a.inspector.get("/v1/cases", params={"status": "closed", "employer": employer}).json()["items"]
    assert case_id not in {c["case_id"] for c in open_queue} and case_id in {c["case_id"] for c in closed}
    timeline = a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]
    assert any(e["type"] == "process.reported" and "closed" in e["summary"] for e in timeline)
    assert_ledger_agrees(a.stack, [case_id])


def test_a_report_is_recorded_once_per_key_and_an_older_one_changes_nothing(agencies: Agencies) -> None:
    """The lifecycle's report command is idempotent, and the projection keeps the highest seq."""
    a = agencies
    complaint_id = a.file(complaint_body(seed()))
    a.in_ledger(complaint_id)
    workflow_id = f"complaint:{complaint_id}"
    # The workflow's own reports, then a stale one with a low seq sent by hand, as a retried old report would be.
    wait_for("the workflow's first report", lambda: _reported_seq(a, workflow_id))
    key = f"{workflow_id}:report:test-stale"
    stale = {
        "idempotency_key": key,
        "workflow_id": workflow_id,
        "seq": 1,
        "at": "2026-01-05T09:00:00+08:00",
        "changes": ["阶段：callback"],
        "snapshot": {"workflow_id": workflow_id, "stage": "callback", "status": "closed"},
    }
    first = a.lifecycle.post("/v1/process-reports", json=stale, headers={"Idempotency-Key": key})
    again = a.lifecycle.post("/v1/process-reports", json=stale, headers={"Idempotency-Key": key})
    assert first.status_code == 201 and again.status_code == 200 and first.json() == again.json()
    other = a.lifecycle.post("/v1/process-reports", json={**stale, "seq": 2}, headers={"Idempotency-Key": key})
    assert other.status_code == 422 and other.headers["content-type"] == "application/problem+json"
    refused = a.inspector.post("/v1/process-reports", json=stale, headers={"Idempotency-Key": "x"})
    assert refused.status_code == 403
    complaint = a.city.get(f"/v1/complaints/{complaint_id}").json()
    assert complaint["stage"] == "awaiting_acceptance" and complaint["status"] == "open"


def _reported_seq(a: Agencies, workflow_id: str) -> int | None:
    with psycopg.connect(a.stack.postgres.service_url("cases")) as conn:
        row = conn.execute("SELECT seq FROM cases.reported_processes WHERE workflow_id = %s", (workflow_id,)).fetchone()
    return row[0] if row else None


def _department(a: Agencies, agency_token: Callable[[str], str], client_id: str) -> httpx.Client:
    a.stack.start_processes(["referrals-api", "referrals-relay", "referrals-worker"], timeout=120)
    return httpx.Client(
        base_url=a.stack.processes["referrals-api"].url,
        timeout=30,
        headers={"Authorization": f"Bearer {agency_token(client_id)}"},
    )


def _handoff(department: httpx.Client, case_id: str, exclude: str | None = None) -> dict:
    def probe() -> dict | None:
        rows = department.get("/v1/handoffs", params={"case_id": case_id}).json()["items"]
        return next((h for h in rows if h["handoff_id"] != exclude), None)

    return wait_for("the handoff in the department's inbox", probe, timeout=60)  # type: ignore[no-any-return]


def test_a_returned_handoff_goes_back_to_verification_in_the_ledger_too(
    agencies: Agencies, agency_token: Callable[[str], str]
) -> None:
    a = agencies
    transport = _department(a, agency_token, "dept-transport")
    housing = _department(a, agency_token, "dept-housing")
    _, case_id = a.accepted_case(complaint_body(seed()))
    assert (
        a.act(
            a.inspector,
            f"/v1/cases/{case_id}/verification",
            {"outcome": "project_payment_dispute", "department": "transport"},
        ).status_code
        == 200
    )
    first = _handoff(transport, case_id)
    returned = transport.post(
        f"/v1/handoffs/{first['handoff_id']}/return",
        json={"reason": "not_competent", "explanation": "该项目为房建工程，归住建部门监管"},
    )
    assert returned.status_code == 200, returned.text
    # The return reaches the workflow through referrals' event; only the workflow's report brings it here.
    a.case_until(case_id, lambda c: c["stage"] == "verification", "the case back in verification", timeout=60)
    assert_ledger_agrees(a.stack, [case_id])

    assert (
        a.act(
            a.inspector,
            f"/v1/cases/{case_id}/verification",
            {"outcome": "project_payment_dispute", "department": "housing"},
        ).status_code
        == 200
    )
    second = _handoff(housing, case_id)
    assert (
        housing.post(
            f"/v1/handoffs/{second['handoff_id']}/response", json={"outcome": "resolved", "summary": "已处理"}
        ).status_code
        == 200
    )
    a.case_until(case_id, lambda c: c["status"] == "closed", "the case closed on housing's answer", timeout=60)
    assert_ledger_agrees(a.stack, [case_id])


def test_an_unanswered_handoff_climbs_the_ladder_and_the_ledger_follows_each_rung(
    agencies: Agencies, agency_token: Callable[[str], str]
) -> None:
    a = agencies
    housing = _department(a, agency_token, "dept-housing")
    with a.compressed_clock(seconds_per_day=0.5):
        _, case_id = a.accepted_case(complaint_body(seed()))
    assert (
        a.act(
            a.inspector,
            f"/v1/cases/{case_id}/verification",
            {"outcome": "project_payment_dispute", "department": "housing"},
        ).status_code
        == 200
    )
    _handoff(housing, case_id)

    def overdue_answer(case: dict) -> bool:
        return case["overdue"] and any(
            d["name"].startswith("handoff.response") and d["outcome"] == "expired" for d in case["deadlines"]
        )

    # Nobody acts on the case: the expired answer deadline and the overdue flag come from the workflow alone.
    a.case_until(case_id, overdue_answer, "the handoff's answer deadline expired in the ledger", timeout=90)
    assert_ledger_agrees(a.stack, [case_id])
    timeline = a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]
    assert any(e["type"] == "process.reported" and "超期" in e["summary"] for e in timeline)


def test_a_withdrawn_complaint_leaves_its_case_in_the_ledger_as_in_the_workflows(agencies: Agencies) -> None:
    """The withdrawal is an Update on the complaint's workflow: only the workflows' reports tell the ledger."""
    import asyncio

    from services.contracts.lifecycle import ComplaintStatus, Updates, Withdrawal, complaint_workflow_id
    from tests.support.ledger_audit import keyed_client

    a = agencies
    employer = seed()
    stays, case_id = a.accepted_case(complaint_body(employer))
    leaves = a.file(complaint_body(employer))
    assert a.act(a.inspector, f"/v1/complaints/{leaves}/acceptance", {"decision": "accept"}).status_code == 200
    a.case_until(
        case_id, lambda c: all(x["stage"] == "in_case" for x in c["complaints"]), "both complaints in the case"
    )

    async def withdraw() -> None:
        client = await keyed_client(a.stack)
        await client.get_workflow_handle(complaint_workflow_id(leaves)).execute_update(
            Updates.WITHDRAW_COMPLAINT, Withdrawal(reason="已与老板协商解决"), result_type=ComplaintStatus
        )

    asyncio.run(withdraw())

    def withdrawn(case: dict) -> bool:
        by_id = {c["complaint_id"]: c for c in case["complaints"]}
        return by_id[leaves]["closure_reason"] == "withdrawn" and by_id[stays]["status"] == "open"

    case = a.case_until(case_id, withdrawn, "the withdrawal in the ledger", timeout=60)
    assert case["status"] == "open" and case["stage"] == "verification"
    assert_ledger_agrees(a.stack, [case_id])


def test_the_audit_finds_a_row_written_outside_the_projection_and_fix_has_the_workflow_report_again(
    agencies: Agencies,
) -> None:
    import subprocess

    a = agencies
    _, case_id = a.accepted_case(complaint_body(seed()))
    assert_ledger_agrees(a.stack, [case_id])
    with psycopg.connect(a.stack.postgres.service_url("cases")) as conn:
        conn.execute("UPDATE cases.processes SET stage = 'refusal', overdue = true WHERE case_id = %s", (case_id,))

    def audit(*args: str) -> subprocess.CompletedProcess[str]:
        return anxin(a.stack, "audit", "ledger", "--case", case_id, "--settle", "0.5", *args)

    found = audit()
    assert found.returncode == 1, found.stdout + found.stderr
    assert f"case:{case_id}" in found.stdout and "stage: workflow verification ≠ ledger refusal" in found.stdout
    assert "overdue: workflow False ≠ ledger True" in found.stdout
    fixed = audit("--fix")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "0 disagree" in fixed.stdout
    case = a.case(case_id)
    assert case["stage"] == "verification" and case["overdue"] is False
    assert audit().returncode == 0


def test_a_handoff_to_a_county_bureau_has_its_own_five_days_in_the_workflow_the_letter_and_the_ledger(
    agencies: Agencies, agency_token: Callable[[str], str]
) -> None:
    """The directory gives a county HRSS 5 working days (the workflow's own setting is 10): the workflow, the
    handoff record the department reads and the ledger all carry the same date."""
    a = agencies
    a.stack.start_processes(["referrals-api", "referrals-relay", "referrals-worker"], timeout=120)
    city = _department(a, agency_token, "city-office")
    _, case_id = a.accepted_case(complaint_body(seed()))
    verified = a.act(
        a.inspector,
        f"/v1/cases/{case_id}/verification",
        {"outcome": "project_payment_dispute", "department": "hrss-130402"},
    )
    assert verified.status_code == 200, verified.text
    handoff = _handoff(city, case_id)
    assert handoff["department"] == "hrss-130402"

    def answer_deadline(case: dict) -> dict | None:
        return next((d for d in case["deadlines"] if d["name"] == "handoff.response"), None)

    case = a.case_until(case_id, answer_deadline, "the handoff's answer deadline in the ledger", timeout=60)
    assert answer_deadline(case)["due_date"] == handoff["due_date"]  # type: ignore[index]
    terms = city.get("/v1/departments/hrss-130402/terms").json()
    assert terms["response_days"] == 5 and terms["response_unit"] == "working"
    assert city.get("/v1/departments/nowhere/terms").status_code == 404
    assert_ledger_agrees(a.stack, [case_id])
