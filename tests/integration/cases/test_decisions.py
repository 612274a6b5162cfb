"""Acceptance decisions, extension, closure and call-back on the real stack; scope; the lifecycle's
requests answered once per Idempotency-Key."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

import psycopg

from services.cases import domain, periods
from services.contracts.legal_time import legal_date
from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.agencies import wait_for
from tests.support.factories import seed
from tests.support.ledger_audit import assert_ledger_agrees


def test_reject_request_more_information_and_forward(agencies: Agencies) -> None:
    a = agencies
    employer = seed()
    rejected, more_info, forwarded = (a.file(complaint_body(employer)) for _ in range(3))
    case_id = a.in_ledger(rejected)["case_id"]
    for complaint_id in (more_info, forwarded):
        a.in_ledger(complaint_id)

    # Wages owed until 2026-09 are within the 2-year limit: the process refuses that reason.
    too_old = a.act(
        a.inspector,
        f"/v1/complaints/{rejected}/acceptance",
        {"decision": "reject", "reason": "violation_too_old", "explanation": "超过两年"},
        until=409,
        retry_on=(404, 503),
    )
    assert too_old.status_code == 409 and "2-year" in too_old.json()["detail"]
    # A rejection without its written explanation breaks the contract's rule.
    bare = a.inspector.post(f"/v1/complaints/{rejected}/acceptance", json={"decision": "reject", "reason": "other"})
    assert bare.status_code == 422
    r = a.inspector.post(
        f"/v1/complaints/{rejected}/acceptance",
        json={"decision": "reject", "reason": "not_labour_inspection_matter", "explanation": "不属劳动保障监察范围"},
    )
    assert r.status_code == 200, r.text

    none_listed = a.inspector.post(f"/v1/complaints/{more_info}/acceptance", json={"decision": "request_more_info"})
    assert none_listed.status_code == 422
    r = a.act(
        a.inspector,
        f"/v1/complaints/{more_info}/acceptance",
        {"decision": "request_more_info", "missing_items": ["用人单位名称"]},
    )
    assert r.status_code == 200, r.text

    r = a.act(
        a.inspector,
        f"/v1/complaints/{forwarded}/acceptance",
        {"decision": "forward", "forward_to": "130400-HOUSING", "explanation": "属住建部门管辖"},
    )
    assert r.status_code == 200, r.text

    # The forwarding letter comes back from the workflow through POST /v1/forwardings.
    def settled(case: dict) -> bool:
        by_id = {c["complaint_id"]: c for c in case["complaints"]}
        return (
            by_id[rejected]["closure_reason"] == "rejected"
            and by_id[forwarded]["closure_reason"] == "forwarded"
            and by_id[more_info]["stage"] == "awaiting_information"
            and "complaint.forwarded"
            in {e["type"] for e in a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]}
        )

    case = a.case_until(case_id, settled, "the three decisions in the ledger")
    assert case["stage"] == "information" and case["status"] == "open"
    # Rejected and forwarded complaints no longer count toward the case's workers and amount.
    assert case["complaint_count"] == 3 and case["complainant_count"] == 1
    assert_ledger_agrees(a.stack, [case_id])


def test_a_complaint_past_the_two_year_limit_shows_the_mark_and_the_suggested_rejection(agencies: Agencies) -> None:
    """Wages owed until three years ago: intake marks the complaint, the ledger stores the mark and shows the
    rejection the lifecycle suggests while the complaint awaits acceptance; the process takes that rejection."""
    a = agencies
    today = legal_date(datetime.now(UTC))
    owed_until = date(today.year - 3, today.month, min(today.day, 28))
    period_start = date(owed_until.year, 1, 1) if owed_until.month > 1 else date(owed_until.year - 1, 12, 1)
    complaint_id = a.file(
        complaint_body(seed(), period_start=period_start.isoformat(), period_end=owed_until.isoformat())
    )

    complaint = a.in_ledger(complaint_id)
    assert complaint["stage"] == "awaiting_acceptance"
    assert complaint["stale_for_rejection"] is True and complaint["owed_until"] == owed_until.isoformat()
    suggestion = complaint["suggested_decision"]
    assert suggestion["decision"] == "reject" and suggestion["reason"] == "violation_too_old"
    assert owed_until.isoformat() in suggestion["basis"]
    member = next(c for c in a.case(complaint["case_id"])["complaints"] if c["complaint_id"] == complaint_id)
    assert member["stale_for_rejection"] is True and member["suggested_decision"] == suggestion

    # The inspector follows the suggestion; the process agrees the complaint is too old.
    r = a.act(
        a.inspector,
        f"/v1/complaints/{complaint_id}/acceptance",
        {"decision": suggestion["decision"], "reason": suggestion["reason"], "explanation": suggestion["basis"]},
        retry_on=(404, 503),
    )
    assert r.status_code == 200, r.text

    def decided() -> dict[str, Any] | None:
        view = a.city.get(f"/v1/complaints/{complaint_id}").json()
        return view if view["decision"] == "reject" else None

    view = wait_for("the rejection in the ledger", decided, 60)
    assert view["stale_for_rejection"] is True and view["suggested_decision"] is None


def test_extension_is_requested_by_the_county_and_approved_by_the_city_once(agencies: Agencies) -> None:
    a = agencies
    _, case_id = a.accepted_case(complaint_body(seed()))
    r = a.act(
        a.inspector, f"/v1/cases/{case_id}/extension-requests", {"reason": "涉及人数多，需调取考勤记录"}, until=201
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "pending"
    pending = a.inspector.post(f"/v1/cases/{case_id}/extension-requests", json={"reason": "再次申请"})
    assert pending.status_code == 409

    by_county = a.inspector.post(f"/v1/cases/{case_id}/extension-requests/approval", json={})
    assert by_county.status_code == 403
    approved = a.city.post(f"/v1/cases/{case_id}/extension-requests/approval", json={})
    assert approved.status_code == 200, approved.text
    assert approved.json()["process"]["extension_approved"] is True

    again = a.inspector.post(f"/v1/cases/{case_id}/extension-requests", json={"reason": "第三次"})
    assert again.status_code == 409 and "already extended" in again.json()["detail"]
    nothing_pending = a.city.post(f"/v1/cases/{case_id}/extension-requests/approval", json={})
    assert nothing_pending.status_code == 409

    case = a.case_until(case_id, lambda c: c["processes"][0]["extension_approved"], "the extension in the ledger")
    assert [e["status"] for e in case["extension_requests"]] == ["approved"]
    assert any(d["name"] == "investigation.limit.90" for d in case["deadlines"]), case["deadlines"]
    assert_ledger_agrees(a.stack, [case_id])


def test_pending_extension_requests_are_listed_for_the_city_and_the_cases_county_and_refused_with_a_reason(
    agencies: Agencies,
) -> None:
    a = agencies
    _, case_id = a.accepted_case(complaint_body(seed()))

    def listed(client: Any, status: str = "pending") -> list[str]:
        r = client.get("/v1/extension-requests", params={"status": status})
        assert r.status_code == 200, r.text
        return [e["case_id"] for e in r.json()["items"]]

    assert case_id not in listed(a.city)
    r = a.act(a.inspector, f"/v1/cases/{case_id}/extension-requests", {"reason": "需调取工程款拨付记录"}, until=201)
    assert r.status_code == 201, r.text
    city_view = a.city.get("/v1/extension-requests").json()["items"]
    row = next(e for e in city_view if e["case_id"] == case_id)
    assert row["reason"] == "需调取工程款拨付记录" and row["county"] == "130402" and row["status"] == "pending"
    assert case_id in listed(a.inspector)
    assert case_id not in listed(a.other_inspector)  # another county's inspector
    # Refused with a reason: no longer waiting, the limit stands and the county may ask again.
    assert (
        a.inspector.post(f"/v1/cases/{case_id}/extension-requests/refusal", json={"reason": "理由不充分"}).status_code
        == 403
    )
    assert a.city.post(f"/v1/cases/{case_id}/extension-requests/refusal", json={}).status_code == 422
    refused = a.city.post(f"/v1/cases/{case_id}/extension-requests/refusal", json={"reason": "理由不充分，请补充说明"})
    assert refused.status_code == 200 and refused.json()["status"] == "refused", refused.text
    assert (
        a.city.post(f"/v1/cases/{case_id}/extension-requests/refusal", json={"reason": "再次不予批准"}).status_code
        == 409
    )
    assert case_id not in listed(a.city) and case_id in listed(a.city, "refused")
    timeline = a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]
    assert not any(e["type"] == "case.extension_approved" for e in timeline)
    a.case_until(
        case_id,
        lambda c: (
            [e["status"] for e in c["extension_requests"]] == ["refused"]
            and not c["processes"][0]["extension_approved"]
        ),
        "the refusal in the ledger",
    )
    again = a.inspector.post(f"/v1/cases/{case_id}/extension-requests", json={"reason": "补充：需调取银行流水"})
    assert again.status_code == 201, again.text
    assert a.city.post(f"/v1/cases/{case_id}/extension-requests/approval", json={}).status_code == 200
    assert case_id not in listed(a.city) and case_id in listed(a.city, "approved")
    wait_for(
        "the refusal in the timeline",
        lambda: any(
            e["type"] == "case.extension_refused" and "理由不充分" in e["summary"]
            for e in a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]
        ),
    )


def test_closure_with_a_reason_after_refusal_to_pay(agencies: Agencies) -> None:
    """On a compressed clock (one day = 2 s) the 7-day order deadline passes unpaid: the case reaches
    refusal, where only a closure the process allows is accepted."""
    a = agencies
    with a.compressed_clock():
        # Below the criminal threshold: no police referral, so the refusal stage waits for the inspector.
        _, case_id = a.accepted_case(complaint_body(seed(), amount_owed="3000.00", workers_affected=1))

    r = a.act(a.inspector, f"/v1/cases/{case_id}/verification", {"outcome": "wage_arrears"})
    assert r.status_code == 200, r.text
    early = a.inspector.post(f"/v1/cases/{case_id}/closure", json={"reason": "administrative_decision"})
    assert early.status_code == 409 and "closes through its own steps" in early.json()["detail"]
    served = a.act(
        a.inspector,
        f"/v1/cases/{case_id}/service",
        {"method": "posting", "evidence": [{"kind": "photo", "ref": "ev-posting-1"}]},
    )
    assert served.status_code == 200, served.text

    a.case_until(case_id, lambda c: c["stage"] == "refusal", "the refusal stage (compensation decided)", timeout=90)
    unpaid = a.inspector.post(f"/v1/cases/{case_id}/closure", json={"reason": "paid_in_full"})
    assert unpaid.status_code == 409 and "outstanding" in unpaid.json()["detail"]
    closed = a.act(a.inspector, f"/v1/cases/{case_id}/closure", {"reason": "administrative_decision"})
    assert closed.status_code == 200, closed.text
    case = a.case_until(case_id, lambda c: c["status"] == "closed", "the case closed")
    assert case["closure_reason"] == "administrative_decision"
    assert case["processes"][0]["compensation_id"].startswith("COMP-")
    assert "refusal" in case["stage_times"]
    assert_ledger_agrees(a.stack, [case_id])


def test_a_county_inspector_sees_and_acts_on_their_county_only(agencies: Agencies) -> None:
    a = agencies
    complaint_id = a.file(complaint_body(seed(), county="130402"))
    case_id = a.in_ledger(complaint_id)["case_id"]

    assert a.other_inspector.get(f"/v1/cases/{case_id}").status_code == 404
    assert a.other_inspector.get(f"/v1/cases/{case_id}/timeline").status_code == 404
    assert a.other_inspector.get(f"/v1/complaints/{complaint_id}").status_code == 404
    refused = a.other_inspector.post(f"/v1/complaints/{complaint_id}/acceptance", json={"decision": "accept"})
    assert refused.status_code == 404
    assert a.other_inspector.post(f"/v1/cases/{case_id}/verification", json={"outcome": "unfounded"}).status_code == 404
    listed = a.other_inspector.get("/v1/cases", params={"county": "130402"}).json()["items"]
    assert listed == []
    own = a.other_inspector.get("/v1/cases", params={"limit": 200}).json()["items"]
    assert all(c["county"] == "130403" for c in own)

    assert a.inspector.get(f"/v1/cases/{case_id}").status_code == 200
    assert a.city.get(f"/v1/cases/{case_id}").status_code == 200
    assert a.anonymous.get(f"/v1/cases/{case_id}").status_code == 401


def test_lifecycle_requests_are_recorded_once_per_idempotency_key(agencies: Agencies) -> None:
    a = agencies
    key = f"case:C-TEST{uuid.uuid4().hex[:8].upper()}:order"
    order = {
        "idempotency_key": key,
        "case_id": key.split(":")[1],
        "county": "130402",
        "employer_ref": "E-TEST",
        "project_ref": "P-TEST",
        "amount_owed": "5000.00",
        "workers": 2,
        "pay_days": 7,
        "pay_unit": "calendar",
    }
    first = a.lifecycle.post("/v1/orders", json=order, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    assert set(first.json()) == {"id"}  # exactly the contract's DocumentRef
    second = a.lifecycle.post("/v1/orders", json=order, headers={"Idempotency-Key": key})
    assert second.status_code == 200 and second.json() == first.json()

    changed = a.lifecycle.post("/v1/orders", json={**order, "amount_owed": "6000.00"}, headers={"Idempotency-Key": key})
    assert changed.status_code == 422
    assert a.lifecycle.post("/v1/orders", json=order).status_code == 400
    # Only the lifecycle worker issues orders: no token is 401, an agency's or an operator's token 403.
    assert a.anonymous.post("/v1/orders", json=order, headers={"Idempotency-Key": key}).status_code == 401
    assert a.inspector.post("/v1/orders", json=order, headers={"Idempotency-Key": key}).status_code == 403

    with psycopg.connect(a.stack.postgres.service_url("cases")) as conn:
        documents = conn.execute("SELECT count(*) FROM cases.documents WHERE idempotency_key = %s", (key,)).fetchone()
        events = conn.execute(
            "SELECT count(*) FROM cases.outbox WHERE envelope->'payload'->>'order_id' = %s", (first.json()["id"],)
        ).fetchone()
    assert documents is not None and documents[0] == 1
    assert events is not None and events[0] == 1


def test_refusal_above_the_threshold_reaches_the_police_on_the_heads_approval_and_is_counted(
    agencies: Agencies,
) -> None:
    """End to end with the referrals service: at refusal the case team submits its referral report, the
    bureau head approves it (an inspector may not), the workflow refers the case to the police (POST
    /v1/referrals on referrals), referrals publishes `referral.made`, and the ledger counts it."""
    a = agencies
    # The refusal's sanctions come first (the listing, the publication mark), then the referral.
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
    today = periods.period_containing("daily", domain.legal_date(datetime.now(UTC))).label

    def county_referrals() -> int:
        rows = a.city.get("/v1/statistics", params={"period": "daily", "label": today}).json()["rows"]
        return next((r["criminal_referrals"] for r in rows if r["level"] == "county" and r["area"] == "130402"), 0)

    before = county_referrals()
    case_id = a.served_over_the_threshold("ev-r-police")

    report = {
        "team": ["inspector-130402", "inspector-130402-b"],
        "facts": "逾期未支付，经查有能力支付而拒不支付",
        "subjective_element": "able_but_refused",
        "evidence": [{"kind": "bank_record", "ref": "ev-bank-1"}],
    }
    submitted = a.act(a.inspector, f"/v1/cases/{case_id}/referral-report", report, timeout=120)
    assert submitted.status_code == 200, submitted.text
    decision = f"/v1/cases/{case_id}/referral-report/decision"
    assert a.inspector.post(decision, json={"approved": True}).status_code == 403
    refusal_without_reason = a.bureau_head.post(decision, json={"approved": False})
    assert refusal_without_reason.status_code == 422, refusal_without_reason.text
    approved = a.bureau_head.post(decision, json={"approved": True})
    assert approved.status_code == 200, approved.text

    def referred(case: dict) -> bool:
        events = a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]
        return case["stage"] == "refusal" and any(e["type"] == "referral.made" for e in events)

    a.case_until(case_id, referred, "the police referral in the case's timeline", timeout=120)
    events = [e["type"] for e in a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]]
    # (Events of two services arrive in either order; the workflow's own timeline orders approval and referral.)
    assert events.index("case.referral_report_submitted") < events.index("case.referral_approval_decided")
    assert county_referrals() == before + 1
    assert_ledger_agrees(a.stack, [case_id])


def test_a_handoff_to_a_department_the_directory_does_not_know_is_refused_at_once(agencies: Agencies) -> None:
    """The referrals service publishes its department directory; the cases service refuses a verification
    that hands a case off to a department not in it (a typo would otherwise leave the handoff refused later),
    and accepts a department that is."""
    a = agencies
    a.stack.start_processes(["referrals-api", "referrals-relay"], timeout=120)
    _, case_id = a.accepted_case(complaint_body(seed()))

    def directory_heard() -> bool:
        with psycopg.connect(a.stack.postgres.service_url("cases")) as conn:
            row = conn.execute("SELECT count(*) FROM cases.department_directory WHERE takes_handoffs").fetchone()
        return row is not None and row[0] > 0

    deadline = time.monotonic() + 60
    while not directory_heard():
        assert time.monotonic() < deadline, "the department directory never reached the cases service"
        time.sleep(0.5)
    typo = a.act(
        a.inspector,
        f"/v1/cases/{case_id}/verification",
        {"outcome": "project_payment_dispute", "department": "housng"},
        until=422,
    )
    assert typo.status_code == 422 and typo.headers["content-type"] == "application/problem+json"
    assert "housng" in typo.json()["detail"] and "housing" in typo.json()["detail"]
    police = a.act(
        a.inspector,
        f"/v1/cases/{case_id}/verification",
        {"outcome": "project_payment_dispute", "department": "police"},
        until=422,
    )
    assert police.status_code == 422  # the police receive referrals, not handoffs
    case = a.city.get(f"/v1/cases/{case_id}").json()
    assert case["stage"] == "verification"  # nothing reached the process
    ok = a.act(
        a.inspector,
        f"/v1/cases/{case_id}/verification",
        {"outcome": "project_payment_dispute", "department": "housing"},
    )
    assert ok.status_code == 200, ok.text
