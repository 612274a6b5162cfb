"""The city office's listing decisions against stand-in issuer and sanctions answers: what the page lists (and
leaves out once decided), what each form sends, the API's message at the form it refused, other roles."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import jwt
from fastapi.testclient import TestClient

from services.console.app import ConsoleSettings, create_app
from services.console.pages.listing_decisions import GRANT_REASON

IN_REVIEW = {
    "listing_id": "BL-REVIEW-1",
    "case_id": "C-130402-0001",
    "county": "130402",
    "stage": "review",
    "ground": "criminal_threshold",
    "basis": "12 名劳动者，未付合计 60000.00 元",
    "amount": "60000.00",
    "proposed_at": "2026-11-20T09:00:00+08:00",
    "defence_due_date": "2026-11-27",
    "employer_ref": "employer_x",
    "employer_name": None,
    "actions": [{"kind": "statement", "detail": {}}],
}
REVIEWED = {**IN_REVIEW, "listing_id": "BL-REVIEW-2", "actions": [{"kind": "statement"}, {"kind": "review"}]}
LISTED = {
    "listing_id": "BL-LISTED-1",
    "case_id": "C-130402-0002",
    "county": "130402",
    "stage": "listed",
    "ground": "mass_incident",
    "amount": "60000.00",
    "employer_name": "邯郸市某建筑劳务有限公司",
    "credit_code": "91130400MA0000001X",
    "decision_number": "邯人社失〔2026〕1号",
    "listed_on": "2026-05-01",
    "expires_on": "2029-05-01",
    "amount_corrected": "60000.00",
    "paid_in_full_on": "2026-05-10",
    "early_removal_possible_from": "2026-11-10",
    "pending_application": "ER-1",
    "early_removal_applications": [
        {
            "application_id": "ER-0",
            "status": "refused",
            "pledge_ref": "P-0",
            "payment_proof_ref": "B-0",
            "refusal_reasons": ["six months have not passed since the correction"],
            "applied_at": "2026-06-01T10:00:00+08:00",
        },
        {
            "application_id": "ER-1",
            "status": "pending",
            "pledge_ref": "PLEDGE-9",
            "payment_proof_ref": "BANK-9",
            "refusal_reasons": [],
            "recorded_by": "person:zhao",
            "applied_at": "2026-11-28T10:00:00+08:00",
        },
    ],
}
DECIDED = {
    **LISTED,
    "listing_id": "BL-LISTED-2",
    "pending_application": "ER-2",
    "early_removal_applications": [{"application_id": "ER-2", "status": "granted"}],
}
STATEMENT = "我公司对拖欠数额有异议，已与工人协商。"
REASON_MISSING = {
    "title": "Invalid request",
    "detail": "The request body is invalid.",
    "errors": [{"field": "reason", "message": "String should have at least 2 characters"}],
}


def _services(asked: list[httpx.Request], role: str) -> httpx.MockTransport:
    token = jwt.encode({"sub": "person:li.ming", "role": role}, "k" * 32)
    views = {listing["listing_id"]: listing for listing in (IN_REVIEW, REVIEWED, LISTED, DECIDED)}

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        path = request.url.path
        if request.url.host == "issuer.test":
            return httpx.Response(200, json={"access_token": token, "expires_in": 900, "role": role})
        if path == "/v1/listings":
            if request.url.params.get("stage") == "review":
                return httpx.Response(200, json={"items": [IN_REVIEW, REVIEWED]})
            assert request.url.params["pending_application"] == "true"
            return httpx.Response(200, json={"items": [LISTED, DECIDED]})
        parts = path.split("/")
        if request.method == "GET" and len(parts) == 4 and parts[3] in views:
            return httpx.Response(200, json=views[parts[3]])
        if request.method == "GET" and path.endswith("/statements"):
            return httpx.Response(
                200,
                json={
                    "statements": [
                        {"statement_id": "ST-1", "text": STATEMENT, "received_at": "2026-11-25T10:00:00+08:00"}
                    ]
                },
            )
        if request.method == "POST":
            body = json.loads(request.content)
            if len(body.get("reason", "")) < 2:
                return httpx.Response(422, json=REASON_MISSING)
            return httpx.Response(200, json={"listing_id": parts[3]})
        return httpx.Response(404, json={"title": "Not found"})

    return httpx.MockTransport(answer)


def _console(asked: list[httpx.Request], role: str = "city_office") -> TestClient:
    values: dict[str, Any] = {
        "ANXIN_TOKEN_ISSUER_URL": "http://issuer.test",
        "ANXIN_SANCTIONS_URL": "http://sanctions.test",
        "ANXIN_CONSOLE_CLIENT_SECRET": "console-secret",
    }
    return TestClient(create_app(ConsoleSettings(**values), transport=_services(asked, role)), follow_redirects=False)


def _sign_in(browser: TestClient) -> str:
    form = browser.get("/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    assert (
        browser.post("/sign-in", data={"csrf": csrf.group(1), "person_id": "li.ming", "password": "right"}).status_code
        == 303
    )
    page = browser.get("/city/listings")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text
    return csrf.group(1)


def test_the_page_lists_statements_to_review_and_applications_waiting_and_leaves_out_the_decided() -> None:
    asked: list[httpx.Request] = []
    with _console(asked) as browser:
        _sign_in(browser)
        page = browser.get("/city/listings")
    assert page.status_code == 200 and 'href="/city/listings"' in page.text
    assert STATEMENT in page.text and 'action="/city/listings/BL-REVIEW-1/review"' in page.text
    assert "BL-REVIEW-2" not in page.text  # reviewed already: its stage follows when the process reports
    assert 'action="/city/listings/BL-LISTED-1/applications/ER-1/decision"' in page.text
    assert "BL-LISTED-2" not in page.text  # decided already
    assert "PLEDGE-9" in page.text and "BANK-9" in page.text and "six months have not passed" in page.text
    assert "2026-05-10" in page.text and "邯人社失〔2026〕1号" in page.text
    keys = re.findall(r'name="key" value="([0-9a-f]{32})"', page.text)
    assert len(keys) == 4 and len(set(keys)) == 4  # a fresh key per form
    for control in re.findall(r'<textarea id="([^"]+)"', page.text):
        assert f'<label for="{control}">' in page.text


def test_each_form_sends_its_decision_with_its_key_and_a_refusal_shows_the_apis_message() -> None:
    asked: list[httpx.Request] = []
    with _console(asked) as browser:
        csrf = _sign_in(browser)
        kept = browser.post(
            "/city/listings/BL-REVIEW-1/review",
            data={"csrf": csrf, "key": "k-review", "outcome": "list", "reason": "申辩理由不成立"},
        )
        granted = browser.post(
            "/city/listings/BL-LISTED-1/applications/ER-1/decision",
            data={"csrf": csrf, "key": "k-grant", "decision": "grant", "reason": ""},
        )
        refused = browser.post(
            "/city/listings/BL-LISTED-1/applications/ER-1/decision",
            data={"csrf": csrf, "key": "k-refuse", "decision": "refuse", "reason": ""},
        )
        forged = browser.post("/city/listings/BL-REVIEW-1/review", data={"outcome": "accept", "reason": "理由成立"})
        shown = browser.get(kept.headers["location"])
    assert kept.status_code == 303 and kept.headers["location"] == "/city/listings?maintained=BL-REVIEW-1"
    assert "已复核 BL-REVIEW-1：申辩理由不成立，维持列入。" in shown.text
    assert granted.status_code == 303 and granted.headers["location"] == "/city/listings?granted=BL-LISTED-1"
    sent = {
        r.headers.get("idempotency-key"): (r.url.path, json.loads(r.content))
        for r in asked
        if r.method == "POST" and r.url.host == "sanctions.test"
    }
    assert sent["k-review"] == ("/v1/listings/BL-REVIEW-1/review", {"list_employer": True, "reason": "申辩理由不成立"})
    assert sent["k-grant"] == (
        "/v1/listings/BL-LISTED-1/early-removal-applications/ER-1/decision",
        {"grant": True, "reason": GRANT_REASON},
    )
    assert refused.status_code == 422
    assert '<span class="error">String should have at least 2 characters</span>' in refused.text
    assert (
        forged.status_code == 403
        and len([r for r in asked if r.method == "POST" and r.url.host == "sanctions.test"]) == 3
    )


def test_another_role_gets_the_not_found_page() -> None:
    asked: list[httpx.Request] = []
    with _console(asked, role="county_inspector") as browser:
        form = browser.get("/sign-in")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf
        browser.post("/sign-in", data={"csrf": csrf.group(1), "person_id": "li.ming", "password": "right"})
        page = browser.get("/city/listings")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        tried = browser.post(
            "/city/listings/BL-REVIEW-1/review", data={"csrf": csrf.group(1), "outcome": "accept", "reason": "理由成立"}
        )
    assert page.status_code == 404 and "未找到" in page.text and 'href="/city/listings"' not in page.text
    assert tried.status_code == 404
    assert not [r for r in asked if r.url.host == "sanctions.test"]
