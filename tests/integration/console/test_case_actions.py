"""The case page's actions on the real stack, as a browser without JavaScript uses them: an inspector made with
`anxin users add` accepts a complaint, asks for an extension, records the verification, serves the order
with a photographed receipt, records the payment that closes the case and the call-back, each through the
cases API with their own token; a resubmitted form acts once, a refused form shows the API's own message, a form
without its CSRF token acts on nothing, and revealing a complainant's identity is audited under the person
(with the reason) while another county's inspector gets the not-found page and no identity."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from markupsafe import escape

from deploy.stack import Stack
from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.agencies import wait_for
from tests.support.console_agencies import hidden_fields
from tests.support.console_forms import Browser, tiny_png
from tests.support.people import add_person

COUNTY = "130403"
OTHER_COUNTY = "130402"


@pytest.fixture(scope="module")
def inspector(stack: Stack, console: str) -> tuple[str, str]:
    person_id, password, _ = add_person(stack, "county_inspector", "--county", COUNTY)
    return person_id, password


@pytest.fixture(scope="module")
def other_inspector(stack: Stack, console: str) -> tuple[str, str]:
    person_id, password, _ = add_person(stack, "county_inspector", "--county", OTHER_COUNTY)
    return person_id, password


@pytest.fixture(scope="module")
def filed(agencies: Agencies) -> dict[str, Any]:
    """A complaint filed through intake in the inspector's county: its body, complaint id and case id."""
    body = complaint_body(uuid.uuid4().int % 10**6, county=COUNTY)
    complaint_id = agencies.file(body)
    return {"body": body, "complaint_id": complaint_id, "case_id": agencies.in_ledger(complaint_id)["case_id"]}


def test_an_inspector_accepts_verifies_and_serves_through_the_case_page(
    console: str, inspector: tuple[str, str], filed: dict[str, Any], agencies: Agencies
) -> None:
    case_id, complaint_id = filed["case_id"], filed["complaint_id"]
    browser = Browser(console, inspector)
    acceptance = f"/cases/{case_id}/complaints/{complaint_id}/acceptance"

    # Without its CSRF token the form acts on nothing: the complaint still waits for acceptance.
    forged = browser.http.post(acceptance, data={"decision": "accept", "key": uuid.uuid4().hex})
    assert forged.status_code == 403 and "表单已失效" in forged.text
    assert agencies.in_ledger(complaint_id)["stage"] == "awaiting_acceptance"

    accepted = browser.submit_until(case_id, acceptance, {"decision": "accept"}, retry_on=(404, 503))
    assert accepted.status_code == 303, accepted.text
    assert accepted.headers["location"] == f"/cases/{case_id}?done=acceptance"
    assert "受理决定已提交" in browser.http.get(accepted.headers["location"]).text
    # The same form sent again (a double click, a resubmitted page) is the same action: its first answer, where
    # a second decision would be refused.
    again = browser.http.post(acceptance, data=browser.last_sent)
    assert again.status_code == 303, again.text
    fresh = browser.http.post(acceptance, data={**browser.last_sent, "key": uuid.uuid4().hex})
    assert fresh.status_code == 409 and "未能提交" in fresh.text
    agencies.case_until(
        case_id, lambda c: bool(c["process_case_ids"]) and c["stage"] == "verification", "the case in verification"
    )

    # The extension request goes to the city office; a second one while it is pending is refused.
    extension = f"/cases/{case_id}/extension-requests"
    requested = browser.submit_until(case_id, extension, {"reason": "涉及人数多，需调取考勤记录"}, retry_on=(404, 503))
    assert requested.status_code == 303 and requested.headers["location"].endswith("?done=extension"), requested.text
    pending = browser.submit(case_id, extension, {"reason": "再次申请"})
    assert pending.status_code == 409 and "未能提交" in pending.text

    # A handoff outcome without its department: the API refuses (422) and the page shows its own message.
    verification = f"/cases/{case_id}/verification"
    refused = browser.submit(case_id, verification, {"outcome": "project_payment_dispute"})
    api = agencies.other_inspector.post(
        f"/v1/cases/{case_id}/verification", json={"outcome": "project_payment_dispute"}
    )
    assert api.status_code == refused.status_code == 422, refused.text
    assert escape(api.json()["detail"]) in refused.text
    assert "未能提交" in refused.text and 'id="verification-title"' in refused.text
    assert agencies.case(case_id)["amount_verified"] is None
    # Closure by hand is not offered in verification; sent anyway (a stale page), the process refuses it and the
    # page says why.
    page = browser.http.get(f"/cases/{case_id}")
    assert f'action="/cases/{case_id}/closure"' not in page.text
    closure = browser.http.post(
        f"/cases/{case_id}/closure",
        data={**hidden_fields(page, f"/cases/{case_id}/verification"), "reason": "paid_in_full"},
    )
    api = agencies.other_inspector.post(f"/v1/cases/{case_id}/closure", json={"reason": "paid_in_full"})
    assert closure.status_code == api.status_code == 409, api.text
    assert escape(api.json()["detail"]) in closure.text
    assert agencies.case(case_id)["status"] == "open"

    verified = browser.submit_until(
        case_id,
        verification,
        {
            "outcome": "wage_arrears",
            "confirmed_amount": "18000.00",
            "confirmed_workers": "3",
            "notes": "现场核实工资表",
        },
        retry_on=(404, 409, 503),
    )
    assert verified.status_code == 303, verified.text
    case = agencies.case_until(
        case_id,
        lambda c: c["stage"] == "service" and c["amount_verified"] is not None,
        "the verification recorded and the order issued",
    )
    assert case["amount_verified"] == "18000.00" and case["workers_affected"] == 3

    # The service form asks the phone for its camera; the photo goes to intake's evidence store first.
    page = browser.http.get(f"/cases/{case_id}")
    assert 'accept="image/*,application/pdf" capture="environment"' in page.text
    assert 'id="verification-title"' not in page.text  # only the forms the stage allows
    served = browser.submit_until(
        case_id,
        f"/cases/{case_id}/service",
        {"method": "in_person", "evidence_kind": "receipt"},
        files={"evidence": ("receipt.png", tiny_png(), "image/png")},
        retry_on=(404, 409, 503),
    )
    assert served.status_code == 303, served.text
    agencies.case_until(case_id, lambda c: c["stage"] == "payment", "the service recorded")
    # The service's event reaches the timeline a moment after the stage.
    wait_for(
        "the service in the case's timeline",
        lambda: [
            e
            for e in agencies.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]
            if e["type"] == "case.service_recorded"
        ],
        60,
    )
    page = browser.http.get(f"/cases/{case_id}")
    assert 'id="payment-title"' in page.text and 'id="service-title"' not in page.text

    # Payments with their evidence: more than is owed is refused with the process's reason; the whole sum
    # closes the case, and the complaint's call-back form appears.
    payments = f"/cases/{case_id}/payments"
    receipt = {"evidence": ("bank.png", tiny_png(), "image/png")}
    too_much = browser.submit(
        case_id, payments, {"payment_id": "P1", "amount": "18000.01", "evidence_kind": "bank_record"}, receipt
    )
    assert too_much.status_code == 409 and "18000" in too_much.text, too_much.text
    paid = browser.submit(
        case_id,
        payments,
        {
            "payment_id": "P1",
            "amount": "18000.00",
            "purpose": "wages",
            "paid_at": date.today().isoformat(),
            "evidence_kind": "bank_record",
        },
        receipt,
    )
    assert paid.status_code == 303 and paid.headers["location"].endswith("?done=payment"), paid.text
    case = agencies.case_until(case_id, lambda c: c["status"] == "closed", "the case closed after full payment")
    assert case["closure_reason"] == "paid_in_full" and case["amount_recovered"] == "18000.00"
    wait_for(
        "the complaint due for its call-back",
        lambda: agencies.in_ledger(complaint_id)["stage"] == "callback" or None,
        60,
    )
    callback = f"/cases/{case_id}/complaints/{complaint_id}/callback"
    called = browser.submit_until(
        case_id, callback, {"satisfaction": "satisfied", "notes": "工资已全部收到"}, retry_on=(404, 409, 503)
    )
    assert called.status_code == 303 and "回访已记录" in browser.http.get(called.headers["location"]).text


def test_revealing_the_complainant_is_audited_under_the_person_and_refused_to_another_county(
    stack: Stack,
    console: str,
    inspector: tuple[str, str],
    other_inspector: tuple[str, str],
    filed: dict[str, Any],
    agencies: Agencies,
) -> None:
    case_id, complaint_id, body = filed["case_id"], filed["complaint_id"], filed["body"]
    reveal = f"/cases/{case_id}/complaints/{complaint_id}/complainant"
    browser = Browser(console, inspector)
    reason = f"回访核对联系方式 {uuid.uuid4().hex[:6]}"

    assert browser.http.post(reveal, data={"reason": reason}).status_code == 403  # no CSRF token
    no_reason = browser.submit(case_id, reveal, {"reason": ""})
    assert no_reason.status_code == 422 and "请填写查看身份的理由" in no_reason.text

    shown = browser.submit(case_id, reveal, {"reason": reason})
    assert shown.status_code == 200, shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert body["phone"] in shown.text and body["worker_name"] in shown.text and body["id_number"] in shown.text
    assert body["phone"] not in browser.http.get(f"/cases/{case_id}").text

    # Another county's inspector: the same not-found page as for a missing case, and nothing read.
    stranger = Browser(console, other_inspector)
    queue = stranger.http.get("/queue")
    csrf = re.search(r'name="csrf" value="([^"]+)"', queue.text)
    assert csrf
    refused = stranger.http.post(reveal, data={"csrf": csrf.group(1), "reason": "想看一下"})
    assert refused.status_code == 404 and "未找到" in refused.text and body["phone"] not in refused.text

    trail = agencies.city_intake.get("/v1/audit", params={"subject": complaint_id})
    assert trail.status_code == 200, trail.text
    reads = [e for e in trail.json()["items"] if e["action"] == "complainant.read"]
    assert [(e["actor"], e["role"], e["detail"]) for e in reads] == [
        (f"person:{inspector[0]}", "county_inspector", {"clear": True, "reason": reason})
    ]
    assert all(body["phone"] not in str(e) for e in trail.json()["items"])
    # Neither the identity nor what the inspector typed is in the console's log (URLs are logged there).
    log = (stack.log_dir / "console.log").read_text(encoding="utf-8")
    assert complaint_id in log
    for secret in (body["phone"], body["id_number"], reason, quote(reason), quote_plus(reason)):
        assert secret not in log
