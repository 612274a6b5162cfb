"""Payouts from the deposit or the emergency fund, the funds and early-warning cases in the console, against
stand-in issuer, cases and monitoring answers: what each page shows to each role, what each form sends (with its
idempotency key), and the service's refusal shown at the form."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import jwt
from fastapi.testclient import TestClient

from services.console import texts
from services.console.app import ConsoleSettings, create_app
from services.contracts.guarantee_funds import PayoutSource, PayoutStage, WriteOffBasis
from services.contracts.monitoring_events import WarningCheck, WarningLevel, WarningResolution

COUNTY = "130403"
REQUESTED = {
    "payout_id": "PO-REQUESTED",
    "case_id": "C-130403-0001",
    "sequence": 1,
    "county": COUNTY,
    "project_id": "PRJ-1",
    "source": "deposit",
    "amount": "6000.00",
    "workers_paid": 2,
    "stage": "requested",
    "requested_by": "person:wang.li",
    "requested_at": "2026-11-30T09:00:00+08:00",
    "decided_by": None,
    "overdue": False,
    "settled": "0.00",
    "outstanding": "0.00",
    "reminders": 0,
    "movements": [],
}
APPROVED = {
    **REQUESTED,
    "payout_id": "PO-APPROVED",
    "stage": "approved",
    "decided_by": "person:city",
    "approved_on": "2026-11-30",
    "pay_by": "2026-12-07",
    "outstanding": "6000.00",
    "movements": [
        {"kind": "deposit_drawn", "amount": "6000.00", "on": "2026-11-30", "recorded_by": "person:city"},
    ],
}
DRAWN = {**APPROVED, "payout_id": "PO-DRAWN", "stage": "paid", "paid_on": "2026-12-01"}
ADVANCED = {**DRAWN, "payout_id": "PO-ADVANCED", "source": "emergency_fund", "project_id": None}
NOT_COVERED = {
    "title": "Refused",
    "status": 409,
    "detail": "项目保证金可动用余额 2000.00 元，少于申请的 6000.00 元",
}
FUNDS = {
    "counties": [
        {
            "county": COUNTY,
            "name": "丛台区",
            "emergency_fund": {
                "reserve_set": True,
                "reserve": "1000000.00",
                "advanced": "6000.00",
                "recovered": "0.00",
                "outstanding": "6000.00",
                "available": "994000.00",
                "advances_outstanding": 1,
            },
            "deposits": {
                "projects": 3,
                "lodged": "900000.00",
                "drawn": "6000.00",
                "topped_up": "0.00",
                "outstanding_top_ups": "6000.00",
                "available": "894000.00",
                "payouts_awaiting_top_up": 1,
            },
        },
        {
            "county": "130402",
            "name": "邯山区",
            "emergency_fund": {
                "reserve_set": False,
                "reserve": "0.00",
                "advanced": "0.00",
                "recovered": "0.00",
                "outstanding": "0.00",
                "available": "0.00",
                "advances_outstanding": 0,
            },
            "deposits": {
                "projects": 0,
                "lodged": "0.00",
                "drawn": "0.00",
                "topped_up": "0.00",
                "outstanding_top_ups": "0.00",
                "available": "0.00",
                "payouts_awaiting_top_up": 0,
            },
        },
    ],
    "totals": {
        "emergency_fund": {"reserve": "1000000.00", "advanced": "6000.00", "available": "994000.00"},
        "deposits": {"projects": 3, "lodged": "900000.00", "available": "7654321.00"},
    },
}
REFUSED_CASE = {
    "case_id": "C-130403-0001",
    "county": COUNTY,
    "kind": "complaint",
    "employer_name": "邯郸市某建筑劳务有限公司",
    "stage": "refusal",
    "status": "open",
    "next_deadline": None,
    "complaint_count": 1,
    "deadlines": [],
    "complaints": [{"complaint_id": "TS-1", "workers_affected": 2, "amount_owed": "6000.00", "stage": "in_case"}],
}
WARNING_CASE = {
    **REFUSED_CASE,
    "case_id": "C-130403-WARN",
    "kind": "early_warning",
    "project_id": "PRJ-7",
    "stage": "verification",
    "complaint_count": 0,
    "complaints": [],
    "warnings": [
        {
            "warning_id": "WRN-1",
            "project_id": "PRJ-7",
            "month": "2026-10",
            "check": "roster_paid",
            "level": "orange",
            "raised_at": "2026-11-05T09:00:00+08:00",
            "resolution": None,
            "resolved_at": None,
        }
    ],
}
CASE_PAYOUTS = {
    "case_id": "C-130403-0001",
    "items": [
        {
            "payout_id": "PO-APPROVED",
            "source": "deposit",
            "project_id": "PRJ-1",
            "stage": "paid",
            "amount_requested": "6000.00",
            "amount_paid": "6000.00",
            "workers_paid": 2,
            "paid_on": "2026-12-01",
            "owed_back": "6000.00",
        }
    ],
}


def _services(asked: list[httpx.Request], role: str) -> httpx.MockTransport:
    token = jwt.encode({"sub": "person:p", "role": role, "county": COUNTY}, "k" * 32)
    payouts = {p["payout_id"]: p for p in (REQUESTED, APPROVED, DRAWN, ADVANCED)}
    cases = {c["case_id"]: c for c in (REFUSED_CASE, WARNING_CASE)}

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        path, host = request.url.path, request.url.host
        if host == "issuer.test":
            return httpx.Response(200, json={"access_token": token, "expires_in": 900, "role": role})
        if host == "monitoring.test":
            if path == "/v1/payouts":
                return httpx.Response(200, json={"items": [REQUESTED, APPROVED], "next_cursor": "NEXT"})
            if path == "/v1/funds":
                return httpx.Response(200, json=FUNDS)
            if request.method == "PUT":
                if json.loads(request.content)["reserve"] == "1":
                    return httpx.Response(409, json={"title": "Reserve refused", "detail": "低于尚未归还的 6000.00 元"})
                return httpx.Response(200, json={"county": COUNTY})
            parts = path.split("/")
            if len(parts) >= 4 and parts[3] in payouts:
                if request.method == "POST" and json.loads(request.content).get("decision") == "approve":
                    return httpx.Response(409, json=NOT_COVERED)
                return httpx.Response(200, json=payouts[parts[3]])
        if host == "cases.test":
            parts = path.split("/")
            if path == "/v1/cases":
                return httpx.Response(200, json={"items": [WARNING_CASE, REFUSED_CASE], "next_cursor": None})
            if len(parts) >= 4 and parts[3] in cases:
                tail = parts[4] if len(parts) > 4 else ""
                if tail == "" and request.method == "GET":
                    return httpx.Response(200, json=cases[parts[3]])
                if tail == "timeline":
                    return httpx.Response(200, json={"events": []})
                if tail == "documents":
                    return httpx.Response(200, json={"documents": []})
                if tail == "payouts" and request.method == "GET":
                    return httpx.Response(200, json=CASE_PAYOUTS if parts[3] == REFUSED_CASE["case_id"] else {})
                if tail == "payouts":
                    if json.loads(request.content)["amount"] == "9999.00":
                        return httpx.Response(409, json={"title": "Refused", "detail": "exceeds the wages owed"})
                    return httpx.Response(200, json={"payout": {"payout_id": "PO-NEW"}})
        return httpx.Response(404, json={"title": "Not found"})

    return httpx.MockTransport(answer)


def _console(asked: list[httpx.Request], role: str) -> TestClient:
    values: dict[str, Any] = {
        "ANXIN_TOKEN_ISSUER_URL": "http://issuer.test",
        "ANXIN_CASES_URL": "http://cases.test",
        "ANXIN_MONITORING_URL": "http://monitoring.test",
        "ANXIN_REFERRALS_URL": "http://referrals.test",
        "ANXIN_SANCTIONS_URL": "http://sanctions.test",
        "ANXIN_CONSOLE_CLIENT_SECRET": "console-secret",
    }
    return TestClient(create_app(ConsoleSettings(**values), transport=_services(asked, role)), follow_redirects=False)


def _sign_in(browser: TestClient) -> None:
    form = browser.get("/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    signed = browser.post("/sign-in", data={"csrf": csrf.group(1), "person_id": "p", "password": "x"})
    assert signed.status_code == 303


def _form(page: str, action: str) -> dict[str, str]:
    found = re.search(r'<form method="post" action="' + re.escape(action) + r'"[^>]*>(.*?)</form>', page, re.S)
    assert found, f"no form for {action}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', found.group(1)))


def _sent(asked: list[httpx.Request], method: str = "POST") -> list[tuple[str, Any, str | None]]:
    return [
        (r.url.path, json.loads(r.content), r.headers.get("idempotency-key"))
        for r in asked
        if r.method == method and r.url.host != "issuer.test"
    ]


def test_every_payout_stage_source_and_warning_has_its_chinese_name() -> None:
    assert {s.value for s in PayoutStage} == set(texts.PAYOUT_STAGES)
    assert {s.value for s in PayoutSource} == set(texts.PAYOUT_SOURCES)
    assert {b.value for b in WriteOffBasis} == set(texts.WRITE_OFF_BASES)
    assert {c.value for c in WarningCheck} == set(texts.WARNING_CHECKS)
    assert {lv.value for lv in WarningLevel} == set(texts.WARNING_LEVELS)
    assert {r.value for r in WarningResolution} == set(texts.WARNING_RESOLUTIONS)


def test_the_payouts_list_filters_and_pages_as_the_api() -> None:
    asked: list[httpx.Request] = []
    with _console(asked, "county_inspector") as browser:
        _sign_in(browser)
        listing = browser.get("/payouts", params={"stage": "requested", "source": "deposit", "county": "x"})
    assert listing.status_code == 200
    assert 'href="/payouts"' in listing.text and 'href="/funds"' in listing.text  # in the header
    assert 'href="/payouts/PO-REQUESTED"' in listing.text and "待市局审批" in listing.text
    assert "已批准，待银行支付" in listing.text and "动用工资保证金" in listing.text
    assert 'href="/payouts?stage=requested&amp;source=deposit&amp;cursor=NEXT"' in listing.text
    (listed,) = [r for r in asked if r.url.path == "/v1/payouts"]
    assert dict(listed.url.params) == {"limit": "50", "stage": "requested", "source": "deposit"}
    assert listed.headers["authorization"].startswith("Bearer ")


def test_the_city_office_decides_and_a_payout_not_covered_shows_the_services_message() -> None:
    asked: list[httpx.Request] = []
    with _console(asked, "city_office") as browser:
        _sign_in(browser)
        shown = browser.get("/payouts/PO-REQUESTED")
        approve = _form(shown.text, "/payouts/PO-REQUESTED/decision")
        refused = browser.post("/payouts/PO-REQUESTED/decision", data=approve)
        forms = re.findall(r'name="key" value="([0-9a-f]{32})"', shown.text)
        refusal = {**approve, "decision": "refuse", "key": forms[1], "reason": "总包单位承诺三日内自行支付"}
        done = browser.post("/payouts/PO-REQUESTED/decision", data=refusal)
        forged = browser.post("/payouts/PO-REQUESTED/decision", data={**refusal, "csrf": "forged"})
    assert shown.status_code == 200 and "批准动用" in shown.text and "不予动用" in shown.text
    assert "记录银行支付" not in shown.text  # requested: nothing to pay yet
    assert refused.status_code == 409 and "项目保证金可动用余额 2000.00 元，少于申请的 6000.00 元" in refused.text
    assert done.status_code == 303 and done.headers["location"] == "/payouts/PO-REQUESTED?done=refused"
    assert forged.status_code == 403
    assert _sent(asked) == [
        ("/v1/payouts/PO-REQUESTED/decision", {"decision": "approve", "reason": None}, approve["key"]),
        ("/v1/payouts/PO-REQUESTED/decision", {"decision": "refuse", "reason": "总包单位承诺三日内自行支付"}, forms[1]),
    ]


def test_the_county_records_the_banks_payment_and_the_top_up_or_the_recovery() -> None:
    asked: list[httpx.Request] = []
    with _console(asked, "county_inspector") as browser:
        _sign_in(browser)
        approved = browser.get("/payouts/PO-APPROVED")
        payment = _form(approved.text, "/payouts/PO-APPROVED/payment")
        paid = browser.post("/payouts/PO-APPROVED/payment", data={**payment, "paid_on": "2026-12-01"})
        drawn = browser.get("/payouts/PO-DRAWN")
        top_up = _form(drawn.text, "/payouts/PO-DRAWN/top-ups")
        browser.post("/payouts/PO-DRAWN/top-ups", data={**top_up, "topped_up_on": "2026-12-02", "amount": ""})
        advanced = browser.get("/payouts/PO-ADVANCED")
        recovery = _form(advanced.text, "/payouts/PO-ADVANCED/recoveries")
        browser.post(
            "/payouts/PO-ADVANCED/recoveries", data={**recovery, "recovered_on": "2026-12-03", "amount": "100.00"}
        )
    assert "批准动用" not in approved.text  # the city office's decision
    assert "记录补足保证金" not in approved.text and "记录银行支付" not in drawn.text  # a top-up once paid only
    assert "动用保证金" in approved.text and "6000.00" in approved.text  # the movement
    assert paid.status_code == 303 and paid.headers["location"] == "/payouts/PO-APPROVED?done=paid"
    assert "记录追回垫付款" in advanced.text and "记录银行支付" not in advanced.text
    assert "核销垫付款" not in advanced.text  # the city office's
    assert _sent(asked) == [
        ("/v1/payouts/PO-APPROVED/payment", {"paid_on": "2026-12-01"}, payment["key"]),
        ("/v1/payouts/PO-DRAWN/top-ups", {"topped_up_on": "2026-12-02", "amount": None}, top_up["key"]),
        ("/v1/payouts/PO-ADVANCED/recoveries", {"recovered_on": "2026-12-03", "amount": "100.00"}, recovery["key"]),
    ]


def test_the_city_office_writes_off_what_is_left_of_an_advance() -> None:
    asked: list[httpx.Request] = []
    with _console(asked, "city_office") as browser:
        _sign_in(browser)
        advanced = browser.get("/payouts/PO-ADVANCED")
        drawn = browser.get("/payouts/PO-DRAWN")
        form = _form(advanced.text, "/payouts/PO-ADVANCED/write-off")
        body = {**form, "basis": "bankruptcy_closed", "reason": "（2026）冀0403破12号 破产程序终结"}
        done = browser.post("/payouts/PO-ADVANCED/write-off", data=body)
    assert "核销垫付款" in advanced.text and "破产程序已终结" in advanced.text
    assert "核销垫付款" not in drawn.text  # a deposit is topped up, never written off
    assert done.status_code == 303 and done.headers["location"] == "/payouts/PO-ADVANCED?done=written_off"
    assert _sent(asked) == [
        (
            "/v1/payouts/PO-ADVANCED/write-off",
            {"basis": "bankruptcy_closed", "reason": "（2026）冀0403破12号 破产程序终结"},
            form["key"],
        )
    ]


def test_the_funds_page_sets_a_reserve_for_the_city_office_only() -> None:
    asked: list[httpx.Request] = []
    with _console(asked, "city_office") as browser:
        _sign_in(browser)
        funds = browser.get("/funds")
        csrf = _form(funds.text, "/funds/reserve")["csrf"]
        set_ = browser.post("/funds/reserve", data={"csrf": csrf, "county": "130402", "reserve": "5000000"})
        too_low = browser.post("/funds/reserve", data={"csrf": csrf, "county": COUNTY, "reserve": "1"})
    assert funds.status_code == 200 and "丛台区（130403）" in funds.text and "994000.00" in funds.text
    assert "7654321.00" in funds.text and "合计" in funds.text  # the city's totals as the API sums them
    assert "未设定" in funds.text  # 邯山区 has no reserve
    assert set_.status_code == 303 and set_.headers["location"] == "/funds?reserve_set=130402"
    assert too_low.status_code == 409 and "低于尚未归还的 6000.00 元" in too_low.text
    assert _sent(asked, "PUT") == [
        ("/v1/funds/130402/reserve", {"reserve": "5000000"}, None),
        (f"/v1/funds/{COUNTY}/reserve", {"reserve": "1"}, None),
    ]

    asked.clear()
    with _console(asked, "bureau_head") as browser:
        _sign_in(browser)
        funds = browser.get("/funds")
        csrf = re.search(r'name="csrf" value="([^"]+)"', funds.text)
        assert csrf
        tried = browser.post("/funds/reserve", data={"csrf": csrf.group(1), "county": COUNTY, "reserve": "9"})
    assert funds.status_code == 200 and "/funds/reserve" not in funds.text
    assert tried.status_code == 404 and not _sent(asked, "PUT")


def test_a_refused_case_offers_the_inspector_the_payout_request_and_shows_its_payouts() -> None:
    asked: list[httpx.Request] = []
    case_id = REFUSED_CASE["case_id"]
    with _console(asked, "county_inspector") as browser:
        _sign_in(browser)
        shown = browser.get(f"/cases/{case_id}")
        fields = _form(shown.text, f"/cases/{case_id}/payouts")
        sent = {"source": "deposit", "project_id": "PRJ-1", "amount": "6000.00", "workers_paid": "2"}
        done = browser.post(f"/cases/{case_id}/payouts", data={**fields, **sent})
        advance = {**sent, "source": "emergency_fund", "amount": "9999.00"}
        refused = browser.post(f"/cases/{case_id}/payouts", data={**fields, **advance})
    assert "申请动用工资保证金或应急周转金垫付" in shown.text
    assert 'href="/payouts/PO-APPROVED"' in shown.text and "已支付，待补足或追偿" in shown.text
    assert done.status_code == 303 and done.headers["location"] == f"/cases/{case_id}?done=payout"
    assert refused.status_code == 409 and "exceeds the wages owed" in refused.text
    assert 'value="9999.00"' in refused.text  # what was typed, kept
    assert _sent(asked) == [
        (f"/v1/cases/{case_id}/payouts", {**sent, "workers_paid": "2"}, fields["key"]),
        (
            f"/v1/cases/{case_id}/payouts",
            {"source": "emergency_fund", "amount": "9999.00", "workers_paid": "2"},
            fields["key"],
        ),
    ]

    with _console([], "city_office") as browser:
        _sign_in(browser)
        city = browser.get(f"/cases/{case_id}")
    assert f"/cases/{case_id}/payouts" not in city.text and "PO-APPROVED" in city.text


def test_an_early_warning_case_shows_its_origin_and_may_find_no_arrears_until_a_complaint_joins() -> None:
    asked: list[httpx.Request] = []
    with _console(asked, "county_inspector") as browser:
        _sign_in(browser)
        warning = browser.get(f"/cases/{WARNING_CASE['case_id']}")
        complaint = browser.get(f"/cases/{REFUSED_CASE['case_id']}")
        queue = browser.get("/queue", params={"kind": "early_warning"})
    assert "预警案件" in warning.text and 'href="/projects/PRJ-7"' in warning.text
    assert "WRN-1" in warning.text and "考勤在册工人未获发放" in warning.text and "橙色预警" in warning.text
    assert '<option value="no_arrears_found">未发现欠薪</option>' in warning.text
    assert "no_arrears_found" not in complaint.text and "投诉案件" in complaint.text
    assert queue.text.count("预警案件") >= 2  # the filter's option and the early-warning case's row
    listed = next(r for r in asked if r.url.path == "/v1/cases")
    assert listed.url.params["kind"] == "early_warning"


def test_the_payout_pages_are_not_for_other_roles() -> None:
    with _console([], "department") as browser:
        _sign_in(browser)
        assert browser.get("/payouts").status_code == 404
        assert browser.get("/payouts/PO-REQUESTED").status_code == 404
        assert browser.get("/funds").status_code == 404
