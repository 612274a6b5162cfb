"""The console on the real stack, as a browser without JavaScript uses it: a person made with `anxin users add`
signs in, sees their county's queue and a case page, and nothing of another county; wrong passwords, disabled
accounts, forms without their CSRF token and idle sessions are refused."""

from __future__ import annotations

import io
import re
import time
import uuid

import httpx
import pytest
from openpyxl import load_workbook

from deploy.stack import Stack
from tests.integration.cases.conftest import Agencies, complaint_body
from tests.integration.console.conftest import IDLE_SECONDS
from tests.support.people import add_person, users


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def _browser(console: str) -> httpx.Client:
    return httpx.Client(base_url=console, timeout=30, follow_redirects=False)


def _sign_in(browser: httpx.Client, person_id: str, password: str, **extra: str) -> httpx.Response:
    form = browser.get("/sign-in")
    assert form.status_code == 200, form.text
    return browser.post("/sign-in", data={"csrf": _csrf(form), "person_id": person_id, "password": password, **extra})


@pytest.fixture(scope="module")
def inspector(stack: Stack, console: str) -> tuple[str, str]:
    person_id, password, _ = add_person(stack, "county_inspector", "--county", "130403")
    return person_id, password


@pytest.fixture(scope="module")
def cases(agencies: Agencies) -> dict[str, str]:
    """A case filed through intake in each county: county → case id."""
    filed = {}
    for county in ("130403", "130402"):
        complaint_id = agencies.file(complaint_body(uuid.uuid4().int % 10**6, county=county))
        filed[county] = agencies.in_ledger(complaint_id)["case_id"]
    return filed


def test_an_inspector_signs_in_and_sees_their_countys_queue_and_case(
    console: str, inspector: tuple[str, str], cases: dict[str, str]
) -> None:
    with _browser(console) as browser:
        signed_in = _sign_in(browser, *inspector)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/queue", signed_in.text
        cookie = signed_in.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        queue = browser.get("/queue")
        assert queue.status_code == 200, queue.text
        assert cases["130403"] in queue.text and cases["130402"] not in queue.text
        assert "个工作日" in queue.text or "今日到期" in queue.text
        # The stage filter: the new case waits for acceptance, so it is listed there and not under payment.
        assert cases["130403"] in browser.get("/queue", params={"stage": "acceptance"}).text
        assert cases["130403"] not in browser.get("/queue", params={"stage": "payment"}).text
        # The queue with its filter as a workbook: the county's case, not the other county's.
        workbook = browser.get("/queue.xlsx", params={"stage": "acceptance"})
        assert workbook.status_code == 200 and workbook.content.startswith(b"PK"), workbook.text
        assert workbook.headers["cache-control"] == "no-store"
        ids = [row[0].value for row in load_workbook(io.BytesIO(workbook.content)).active.iter_rows(min_row=3)]  # type: ignore[union-attr]
        assert cases["130403"] in ids and cases["130402"] not in ids
        page = browser.get(f"/cases/{cases['130403']}")
        assert page.status_code == 200, page.text
        assert "身份已隐去" in page.text and "办理经过" in page.text and "测试工人" not in page.text


def test_another_countys_case_is_the_same_not_found_as_a_missing_one(
    console: str, inspector: tuple[str, str], cases: dict[str, str]
) -> None:
    with _browser(console) as browser:
        _sign_in(browser, *inspector)
        other = browser.get(f"/cases/{cases['130402']}")
        missing = browser.get("/cases/C-NO-SUCH-CASE")
    assert other.status_code == missing.status_code == 404
    assert other.text == missing.text


def test_wrong_password_and_disabled_account_are_refused(stack: Stack, console: str) -> None:
    person_id, password, _ = add_person(stack, "county_inspector", "--county", "130402")
    with _browser(console) as browser:
        wrong = _sign_in(browser, person_id, password + "x")
        assert wrong.status_code == 401 and "不正确" in wrong.text
        assert "anxin_console=" not in wrong.headers.get("set-cookie", "")
        users(stack, "disable", person_id)
        disabled = _sign_in(browser, person_id, password)
        assert disabled.status_code == 403 and "已停用" in disabled.text
        assert browser.get("/queue").status_code == 303


def test_forms_without_their_csrf_token_are_refused(console: str, inspector: tuple[str, str]) -> None:
    with _browser(console) as browser:
        browser.get("/sign-in")
        no_token = browser.post("/sign-in", data={"person_id": inspector[0], "password": inspector[1]})
        assert no_token.status_code == 403
        assert _sign_in(browser, *inspector).status_code == 303
        forged = browser.post("/sign-out", data={"csrf": "guessed"})
        assert forged.status_code == 403
        assert browser.get("/queue").status_code == 200  # still signed in


def test_an_idle_session_ends(console: str, inspector: tuple[str, str]) -> None:
    with _browser(console) as browser:
        _sign_in(browser, *inspector)
        assert browser.get("/queue").status_code == 200
        time.sleep(IDLE_SECONDS + 1)
        expired = browser.get("/queue")
    assert expired.status_code == 303 and expired.headers["location"] == "/sign-in?expired=1"


def test_sign_out_everywhere_ends_every_session_of_the_person(console: str, inspector: tuple[str, str]) -> None:
    with _browser(console) as phone, _browser(console) as desk:
        _sign_in(phone, *inspector)
        _sign_in(desk, *inspector)
        queue = desk.get("/queue")
        assert queue.status_code == 200
        signed_out = desk.post("/sign-out", data={"csrf": _csrf(queue), "everywhere": "1"})
        assert signed_out.status_code == 303
        assert phone.get("/queue").status_code == 303
        assert desk.get("/queue").status_code == 303
