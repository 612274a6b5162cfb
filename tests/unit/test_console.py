"""The console's pieces without a stack: sessions (idle timeout, token expiry, sign-out everywhere), the
countdown in working days, the vendored htmx, and the pages against stand-in issuer and cases answers."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from services.common.crypto import new_key
from services.console import texts
from services.console.app import HERE, ConsoleSettings, create_app
from services.console.sessions import MemorySessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_ends_when_idle_or_when_its_token_expires_and_sign_out_everywhere_ends_all() -> None:
    asyncio.run(_a_session_ends_when_idle_or_when_its_token_expires_and_sign_out_everywhere_ends_all())


async def _a_session_ends_when_idle_or_when_its_token_expires_and_sign_out_everywhere_ends_all() -> None:
    clock = Clock()
    store = MemorySessionStore(idle_seconds=60, clock=clock)
    kept = await store.open("wang.li", "county_inspector", "130403", None, "t1", expires_in=300)
    other = await store.open("wang.li", "county_inspector", "130403", None, "t2", expires_in=300)
    someone_else = await store.open("li.na", "city_office", None, None, "t3", expires_in=300)
    clock.now += 50
    assert await store.get(kept.session_id) is kept  # a request resets the idle time …
    clock.now += 50
    assert await store.get(kept.session_id) is kept
    assert await store.get(other.session_id) is None  # … of that session only: 100 s idle
    clock.now += 40
    assert await store.get(kept.session_id) is kept
    clock.now += 170  # 310 s after it opened: its token has expired, however active it was
    assert await store.get(kept.session_id) is None
    fresh = await store.open("wang.li", "county_inspector", "130403", None, "t4", expires_in=300)
    again = await store.open("wang.li", "county_inspector", "130403", None, "t5", expires_in=300)
    assert await store.close_all("wang.li") == 2
    assert await store.get(fresh.session_id) is None and await store.get(again.session_id) is None
    assert someone_else.session_id not in {fresh.session_id, again.session_id}
    assert fresh.csrf_matches(fresh.csrf) and not fresh.csrf_matches("guess") and not fresh.csrf_matches(None)


def test_the_countdown_counts_working_days_and_marks_the_overdue() -> None:
    monday = date(2026, 11, 30)
    assert texts.working_days_left("2026-12-02T15:59:59+00:00", monday) == 2
    assert texts.working_days_left("2026-12-07T00:00:00+08:00", monday) == 5  # over a weekend
    assert texts.working_days_left("2026-11-30T10:00:00+08:00", monday) == 0
    assert texts.working_days_left("2026-11-27T10:00:00+08:00", monday) == -1  # Friday, then the weekend
    assert texts.countdown(2) == "剩余 2 个工作日"
    assert texts.countdown(0) == "今日到期"
    assert texts.countdown(-1) == "逾期 1 个工作日"
    row = texts.queue_row(
        {"case_id": "C-1", "stage": "verification", "next_deadline": "2026-11-27T10:00:00+08:00", "overdue": False},
        monday,
        texts.WorkingCalendar(texts.CalendarConfig()),
    )
    assert row["overdue"] and row["stage"] == "核实中"


def test_the_vendored_htmx_is_the_file_its_comment_names() -> None:
    text = (HERE / "static" / "htmx.min.js").read_text()
    comment, _, body = text.partition("*/\n")
    stated = re.search(r"sha256 of the file below this comment: ([0-9a-f]{64})", comment)
    assert stated and "htmx.org 2.0.11" in comment
    assert hashlib.sha256(body.encode()).hexdigest() == stated.group(1)


def _settings(**extra: Any) -> ConsoleSettings:
    values = {
        "ANXIN_TOKEN_ISSUER_URL": "http://issuer.test",
        "ANXIN_CASES_URL": "http://cases.test",
        "ANXIN_CONSOLE_CLIENT_SECRET": "console-secret",
        **extra,
    }
    return ConsoleSettings(**values)


def test_the_console_refuses_to_start_without_its_issuer_or_its_secret() -> None:
    with pytest.raises(SystemExit, match="ANXIN_CONSOLE_CLIENT_SECRET"):
        create_app(_settings(ANXIN_CONSOLE_CLIENT_SECRET=""))
    # Its sessions seal the people's tokens: without its key ring it does not start either.
    with pytest.raises(SystemExit, match="ANXIN_CONSOLE_KEYS"):
        create_app(_settings())
    create_app(_settings(ANXIN_CONSOLE_KEYS=f'{{"c1": "{new_key()}"}}', ANXIN_CONSOLE_KEY_ID="c1"))


CASE = {
    "case_id": "C-130403-0001",
    "county": "130403",
    "employer_name": "邯郸市某建筑劳务有限公司",
    "stage": "verification",
    "status": "open",
    "next_deadline": "2020-01-03T15:59:59+00:00",
    "overdue": True,
    "complaint_count": 1,
    "workers_affected": 3,
    "amount_claimed": "18600.00",
    "deadlines": [
        {"name": "verification", "due_date": "2020-01-03", "due_at": "2020-01-03T15:59:59+00:00", "outcome": "pending"}
    ],
    "complaints": [
        {
            "complaint_id": "TS-1",
            "channel": "form",
            "workers_affected": 3,
            "amount_owed": "18600.00",
            "stage": "verification",
        }
    ],
}


def _services(asked: list[httpx.Request]) -> httpx.MockTransport:
    token = jwt.encode({"sub": "person:wang.li", "role": "county_inspector", "county": "130403"}, "k" * 32)

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        if request.url.host == "issuer.test":
            form = dict(pair.split("=") for pair in request.content.decode().split("&"))
            if form.get("password") != "right":
                return httpx.Response(401, json={"title": "Unauthorized"})
            return httpx.Response(200, json={"access_token": token, "expires_in": 900, "role": "county_inspector"})
        if request.url.path == "/v1/cases":
            return httpx.Response(200, json={"items": [CASE], "next_cursor": None})
        if request.url.path == f"/v1/cases/{CASE['case_id']}":
            return httpx.Response(200, json=CASE)
        if request.url.path == f"/v1/cases/{CASE['case_id']}/timeline":
            return httpx.Response(200, json={"events": [{"at": "2026-11-30T09:00:00+08:00", "summary": "受理投诉"}]})
        return httpx.Response(404, json={"title": "Not found"})

    return httpx.MockTransport(answer)


def test_the_pages_sign_in_list_and_show_through_the_apis_with_the_persons_token() -> None:
    asked: list[httpx.Request] = []
    with TestClient(create_app(_settings(), transport=_services(asked)), follow_redirects=False) as browser:
        form = browser.get("/sign-in")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf and '<label for="password">' in form.text
        assert browser.post("/sign-in", data={"person_id": "wang.li", "password": "right"}).status_code == 403
        wrong = browser.post("/sign-in", data={"csrf": csrf.group(1), "person_id": "wang.li", "password": "wrong"})
        assert wrong.status_code == 401 and "不正确" in wrong.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', wrong.text)
        assert csrf
        signed_in = browser.post("/sign-in", data={"csrf": csrf.group(1), "person_id": "wang.li", "password": "right"})
        assert signed_in.status_code == 303, signed_in.text
        queue = browser.get("/queue", params={"stage": "verification"})
        page = browser.get(f"/cases/{CASE['case_id']}")
        missing = browser.get("/cases/C-NONE")
    assert 'class="overdue"' in queue.text and "逾期" in queue.text and "核实中" in queue.text
    assert "受理投诉" in page.text and "身份已隐去" in page.text and "核实期限" in page.text
    assert missing.status_code == 404 and "未找到" in missing.text
    listed = next(r for r in asked if r.url.path == "/v1/cases")
    assert listed.url.params["stage"] == "verification" and listed.url.params["sort"] == "next_deadline"
    assert listed.headers["authorization"].startswith("Bearer ")
    issuer_calls = [r for r in asked if r.url.host == "issuer.test"]
    assert all(r.headers["authorization"].startswith("Basic ") for r in issuer_calls)
    assert "Content-Security-Policy" in queue.headers and queue.headers["cache-control"] == "no-store"


def test_the_pages_need_no_script_and_label_every_control() -> None:
    for template in (Path(HERE) / "templates").glob("*.html"):
        text = template.read_text()
        assert "style=" not in text and "onclick" not in text, template.name
        for control in re.findall(r'<(?:input|select)\b[^>]*\bid="([^"]+)"', text):
            assert f'<label for="{control}">' in text, (template.name, control)


def test_every_stage_has_its_chinese_name() -> None:
    from services.contracts.lifecycle.enums import CaseStage, ComplaintStage

    assert {stage.value for stage in ComplaintStage} <= set(texts.COMPLAINT_STAGES)
    assert {stage.value for stage in CaseStage} <= set(texts.STAGES)
    assert texts.complaint_stage_name("awaiting_acceptance") == "待受理"


def test_a_page_the_persons_role_may_not_read_says_so_and_each_role_lands_on_its_own_work() -> None:
    from services.console.pages.sign_in import landing

    assert landing("department") == "/inbox" and landing("city_office") == "/city"
    assert landing("county_inspector") == "/queue" and landing("intake_clerk") == "/sites"
    # Every person's landing page is one their header offers them (a page of their own work, not a refusal).
    from services.console.app import PAGES

    nav = [item for module in PAGES for item in module.NAV]
    for role in (
        "intake_clerk",
        "county_inspector",
        "bureau_head",
        "city_office",
        "department",
        "police",
        "procuratorate",
        "arbitration",
        "legal_aid",
    ):
        assert any(item.href == landing(role) and role in item.roles for item in nav), role

    def refusing(request: httpx.Request) -> httpx.Response:
        if request.url.host == "issuer.test":
            token = jwt.encode({"sub": "person:li.na", "role": "department", "department": "housing"}, "k" * 32)
            return httpx.Response(200, json={"access_token": token, "expires_in": 900, "role": "department"})
        return httpx.Response(403, json={"title": "Forbidden", "detail": "The role department may not do this."})

    with TestClient(
        create_app(_settings(), transport=httpx.MockTransport(refusing)), follow_redirects=False
    ) as browser:
        form = browser.get("/sign-in")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf
        signed_in = browser.post("/sign-in", data={"csrf": csrf.group(1), "person_id": "li.na", "password": "x"})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/inbox"
        queue = browser.get("/queue")
        assert queue.status_code == 403 and "无权办理" in queue.text


def test_every_channel_has_its_chinese_name() -> None:
    from typing import get_args

    from services.contracts.intake_events import Channel

    assert set(get_args(Channel)) == set(texts.CHANNELS)


def test_the_style_sheet_closes_every_block_it_opens() -> None:
    # Blocks appended by each page: one left open would swallow every rule after it into a media query.
    css = re.sub(r"/\*.*?\*/", "", (HERE / "static" / "console.css").read_text(), flags=re.S)
    depth = 0
    for char in css:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0
