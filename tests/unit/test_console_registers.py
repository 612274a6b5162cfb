"""The queue's filters, its polled refresh that leaves the idle time alone, and the registers (call-backs due, the
site register and its posters) against stand-in issuer, cases and intake answers."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
from fastapi.testclient import TestClient

from services.console.app import HERE, ConsoleSettings, create_app
from services.console.pages.queue import CLASSIFICATIONS
from services.console.pages.registers import CLOSURE_REASONS
from services.console.sessions import MemorySessionStore
from services.contracts.lifecycle.enums import Classification, ClosureReason

CASE = {
    "case_id": "C-130403-0007",
    "county": "130403",
    "employer_name": "邯郸市某建筑劳务有限公司",
    "stage": "service",
    "status": "open",
    "next_deadline": "2099-01-05T15:59:59+00:00",
    "overdue": False,
    "workers_affected": 2,
    "amount_claimed": "9000.00",
}
CALLBACK = {
    "complaint_id": "TS-CALLBACK-1",
    "case_id": "C-130403-0008",
    "county": "130403",
    "amount_owed": "5000.00",
    "workers_affected": 1,
    "stage": "callback",
    "status": "closed",
    "closure_reason": "rejected",
    "closed_at": "2026-11-27T10:00:00+08:00",
    "overdue": False,
    "deadlines": [{"name": "callback", "due_at": "2099-01-05T15:59:59+00:00", "outcome": "pending"}],
}
SITE = {
    "site_id": "HD-2026-0042",
    "name": "邯郸市丛台区某安置房项目",
    "county_code": "130403",
    "address": "丛台区人民路 100 号",
    "owner_name": "邯郸市某建设投资有限公司",
    "general_contractor": None,
}
PDF = b"%PDF-1.4 poster"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_poll_reads_a_live_session_without_resetting_its_idle_time() -> None:
    asyncio.run(_a_poll_reads_a_live_session_without_resetting_its_idle_time())


async def _a_poll_reads_a_live_session_without_resetting_its_idle_time() -> None:
    clock = Clock()
    store = MemorySessionStore(idle_seconds=60, clock=clock)
    session = await store.open("wang.li", "county_inspector", "130403", None, "t", expires_in=3600)
    for _ in range(5):
        clock.now += 11
        assert await store.get(session.session_id, touch=False) is session
    clock.now += 10  # 65 s since the person last did anything, however often the page polled
    assert await store.get(session.session_id, touch=False) is None
    assert await store.get(session.session_id) is None


def _services(asked: list[httpx.Request], site_refusal: dict[str, Any] | None = None) -> httpx.MockTransport:
    token = jwt.encode({"sub": "person:wang.li", "role": "county_inspector", "county": "130403"}, "k" * 32)

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        path = request.url.path
        if request.url.host == "issuer.test":
            return httpx.Response(200, json={"access_token": token, "expires_in": 900, "role": "county_inspector"})
        if path == "/v1/cases":
            return httpx.Response(200, json={"items": [CASE], "next_cursor": "NEXT"})
        if path == "/v1/complaints":
            return httpx.Response(200, json={"items": [CALLBACK]})
        if path == "/v1/sites":
            return httpx.Response(200, json={"items": [SITE], "next_cursor": None})
        if path == f"/v1/sites/{SITE['site_id']}/poster.pdf":
            return httpx.Response(200, content=PDF, headers={"content-type": "application/pdf"})
        if request.method == "PUT" and path.startswith("/v1/sites/"):
            if site_refusal is not None:
                return httpx.Response(422, json=site_refusal)
            return httpx.Response(200, json={**json.loads(request.content), "poster_pdf": "…"})
        return httpx.Response(404, json={"title": "Not found"})

    return httpx.MockTransport(answer)


def _console(asked: list[httpx.Request], site_refusal: dict[str, Any] | None = None) -> TestClient:
    values: dict[str, Any] = {
        "ANXIN_TOKEN_ISSUER_URL": "http://issuer.test",
        "ANXIN_CASES_URL": "http://cases.test",
        "ANXIN_INTAKE_URL": "http://intake.test",
        "ANXIN_CONSOLE_CLIENT_SECRET": "console-secret",
    }
    return TestClient(
        create_app(ConsoleSettings(**values), transport=_services(asked, site_refusal)), follow_redirects=False
    )


def _sign_in(browser: TestClient) -> str:
    form = browser.get("/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    assert (
        browser.post("/sign-in", data={"csrf": csrf.group(1), "person_id": "wang.li", "password": "right"}).status_code
        == 303
    )
    queue = browser.get("/queue")
    csrf = re.search(r'name="csrf" value="([^"]+)"', queue.text)
    assert csrf
    return csrf.group(1)


def test_the_queue_sends_its_filters_and_keeps_them_in_its_next_page_and_its_refresh() -> None:
    asked: list[httpx.Request] = []
    with _console(asked) as browser:
        _sign_in(browser)
        asked.clear()
        page = browser.get(
            "/queue",
            params={
                "stage": "service",
                "classification": "wage_arrears",
                "employer": "91130400MA0000001X",
                "assignee": "mine",
                "overdue": "1",
            },
        )
        odd = browser.get("/queue", params={"classification": "made_up", "assignee": "someone.else"})
    sent = asked[0].url.params
    assert sent["stage"] == "service" and sent["classification"] == "wage_arrears" and sent["overdue"] == "true"
    assert sent["employer"] == "91130400MA0000001X" and sent["inspector"] == "person:wang.li"
    assert (
        odd.status_code == 200
        and "classification" not in asked[1].url.params
        and "inspector" not in asked[1].url.params
    )
    next_link = re.search(r'<a href="([^"]+)">下一页</a>', page.text)
    assert next_link
    kept = parse_qs(urlparse(next_link.group(1).replace("&amp;", "&")).query)
    assert kept == {
        "stage": ["service"],
        "classification": ["wage_arrears"],
        "employer": ["91130400MA0000001X"],
        "assignee": ["mine"],
        "overdue": ["1"],
        "cursor": ["NEXT"],
    }
    refresh = re.search(r'<section id="queue" hx-get="([^"]+)" hx-trigger="every 30s"', page.text)
    assert refresh and "cursor" not in refresh.group(1) and "assignee=mine" in refresh.group(1)
    assert 'hx-headers=\'{"Anxin-Poll": "1"}\'' in page.text
    assert "checked" in page.text and 'value="wage_arrears" selected' in page.text


def test_the_call_backs_due_link_each_complaint_to_its_case() -> None:
    asked: list[httpx.Request] = []
    with _console(asked) as browser:
        _sign_in(browser)
        page = browser.get("/callbacks")
    assert page.status_code == 200
    assert CALLBACK["complaint_id"] in page.text and f'href="/cases/{CALLBACK["case_id"]}"' in page.text
    assert "不予受理" in page.text and "2099-01-05" in page.text
    listed = next(r for r in asked if r.url.path == "/v1/complaints")
    assert listed.url.params["stage"] == "callback" and listed.headers["authorization"].startswith("Bearer ")


def test_the_site_register_lists_passes_posters_through_and_shows_the_apis_messages() -> None:
    asked: list[httpx.Request] = []
    refusal: dict[str, Any] = {
        "title": "Invalid site",
        "detail": "工地信息有误。",
        "errors": [{"field": "name", "message": "项目名称至少 2 个字。"}],
    }
    with _console(asked, site_refusal=refusal) as browser:
        csrf = _sign_in(browser)
        page = browser.get("/sites")
        poster = browser.get(f"/sites/{SITE['site_id']}/poster.pdf")
        missing = browser.get("/sites/NOPE/poster.pdf")
        refused = browser.post(
            "/sites",
            data={
                "csrf": csrf,
                "key": "k1",
                "site_id": "HD-2026-0043",
                "name": "x",
                "county_code": "130403",
                "address": "丛台区",
            },
        )
        forged = browser.post("/sites", data={"csrf": "forged", "site_id": "HD-2026-0043"})
    assert SITE["name"] in page.text and f"/sites/{SITE['site_id']}/poster.pdf" in page.text
    assert poster.status_code == 200 and poster.content == PDF and poster.headers["content-type"] == "application/pdf"
    assert missing.status_code == 404
    assert (
        refused.status_code == 422
        and "项目名称至少 2 个字。" in refused.text
        and 'value="HD-2026-0043"' in refused.text
    )
    assert forged.status_code == 403
    put = next(r for r in asked if r.method == "PUT")
    assert put.url.path == "/v1/sites/HD-2026-0043" and put.headers["idempotency-key"] == "k1"
    assert "owner_name" not in json.loads(put.content)  # an optional field left empty is not sent

    with _console(asked) as browser:
        csrf = _sign_in(browser)
        done = browser.post(
            "/sites",
            data={
                "csrf": csrf,
                "key": "k2",
                "site_id": "HD-2026-0044",
                "name": "某项目",
                "county_code": "130403",
                "address": "丛台区人民路",
            },
        )
    assert done.status_code == 303 and done.headers["location"] == "/sites?done=HD-2026-0044"


def test_the_registers_label_every_control_and_name_every_reason_and_class() -> None:
    for template in (Path(HERE) / "templates" / "registers").glob("*.html"):
        text = template.read_text()
        assert "style=" not in text and "<script" not in text, template.name
    sites = (Path(HERE) / "templates" / "registers" / "sites.html").read_text()
    assert '<label for="site-{{ name }}">' in sites and 'id="site-{{ name }}"' in sites
    assert {reason.value for reason in ClosureReason} == set(CLOSURE_REASONS)
    assert {kind.value for kind in Classification} == set(CLASSIFICATIONS)
