"""Stand-in issuer, cases and monitoring answers for the console's payout, funds and early-warning pages: the
payouts, funds and cases they give, the console signed in as a role against them, and what its forms sent."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import jwt
from fastapi.testclient import TestClient

from services.console.app import ConsoleSettings, create_app

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


def payouts_console(asked: list[httpx.Request], role: str) -> TestClient:
    values: dict[str, Any] = {
        "ANXIN_TOKEN_ISSUER_URL": "http://issuer.test",
        "ANXIN_CASES_URL": "http://cases.test",
        "ANXIN_MONITORING_URL": "http://monitoring.test",
        "ANXIN_REFERRALS_URL": "http://referrals.test",
        "ANXIN_SANCTIONS_URL": "http://sanctions.test",
        "ANXIN_CONSOLE_CLIENT_SECRET": "console-secret",
    }
    return TestClient(create_app(ConsoleSettings(**values), transport=_services(asked, role)), follow_redirects=False)


def sign_in(browser: TestClient) -> None:
    form = browser.get("/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    signed = browser.post("/sign-in", data={"csrf": csrf.group(1), "person_id": "p", "password": "x"})
    assert signed.status_code == 303


def form_fields(page: str, action: str) -> dict[str, str]:
    found = re.search(r'<form method="post" action="' + re.escape(action) + r'"[^>]*>(.*?)</form>', page, re.S)
    assert found, f"no form for {action}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', found.group(1)))


def requests_sent(asked: list[httpx.Request], method: str = "POST") -> list[tuple[str, Any, str | None]]:
    return [
        (r.url.path, json.loads(r.content), r.headers.get("idempotency-key"))
        for r in asked
        if r.method == method and r.url.host != "issuer.test"
    ]
