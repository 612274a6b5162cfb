"""The queue's filters, its refresh that does not keep an idle session alive, and the inspector's registers (the
call-backs due, the site register with its posters) on the real stack: as a browser without JavaScript uses
them, with the APIs they read (the cases API's complaints at a stage, intake's sites), and in Chromium with
axe-core on each new page."""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from deploy.engines import REPO_ROOT
from deploy.stack import Stack
from tests.integration.cases.conftest import Agencies, complaint_body
from tests.integration.console.conftest import IDLE_SECONDS
from tests.support.agencies import wait_for
from tests.support.axe import serious_violations
from tests.support.browser import DESK, chromium
from tests.support.console_agencies import csrf_of, signed_in_as
from tests.support.people import add_person

COUNTY = "130403"
OTHER_COUNTY = "130402"
POLL = {"HX-Request": "true", "Anxin-Poll": "1"}
SCREENSHOTS = REPO_ROOT / ".data" / "console-screenshots"  # not committed


@pytest.fixture(scope="module")
def inspector(stack: Stack, console: str) -> tuple[str, str]:
    person_id, password, _ = add_person(stack, "county_inspector", "--county", COUNTY)
    return person_id, password


@pytest.fixture(scope="module")
def other_inspector(stack: Stack, console: str) -> tuple[str, str]:
    person_id, password, _ = add_person(stack, "county_inspector", "--county", OTHER_COUNTY)
    return person_id, password


@pytest.fixture()
def sign_in(console: str) -> Iterator[Callable[[tuple[str, str]], httpx.Client]]:
    """Signs a person in when the test asks (their browser is closed after the test)."""
    with contextlib.ExitStack() as opened:
        yield lambda person: opened.enter_context(signed_in_as(console, *person))


@pytest.fixture(scope="module")
def two_employers(agencies: Agencies) -> dict[str, Any]:
    """Two cases of the inspector's county, each of its own employer."""
    bodies = [complaint_body(uuid.uuid4().int % 10**6, county=COUNTY) for _ in range(2)]
    cases = [agencies.in_ledger(agencies.file(body))["case_id"] for body in bodies]
    return {"bodies": bodies, "cases": cases}


def test_the_queue_filters_by_employer_assignee_and_overdue_and_keeps_them_in_the_url(
    agencies: Agencies,
    sign_in: Callable[[tuple[str, str]], httpx.Client],
    inspector: tuple[str, str],
    two_employers: dict[str, Any],
) -> None:
    (first, second), (body, other_body) = two_employers["cases"], two_employers["bodies"]
    assigned = agencies.other_inspector.post(
        f"/v1/cases/{first}/assignment", json={"inspector": f"person:{inspector[0]}"}
    )
    assert assigned.status_code == 200, assigned.text
    browser = sign_in(inspector)
    everything = browser.get("/queue")
    assert first in everything.text and second in everything.text

    by_name = browser.get("/queue", params={"employer": body["employer_name"]})
    assert by_name.status_code == 200 and first in by_name.text and second not in by_name.text
    # The table's refresh asks for the same filters (the URL it polls is rendered from them).
    assert re.search(r'hx-get="/queue\?employer=[^"]+"', by_name.text), by_name.text
    by_code = browser.get("/queue", params={"employer": other_body["employer_credit_code"]})
    assert second in by_code.text and first not in by_code.text
    assert f'value="{other_body["employer_credit_code"]}"' in by_code.text  # the form shows what is filtered

    def assigned_to_me() -> httpx.Response | None:
        page = browser.get("/queue", params={"assignee": "mine"})
        assert page.status_code == 200, page.text
        return page if first in page.text else None

    mine = wait_for("the assignment in the ledger", assigned_to_me, 60)
    assert second not in mine.text and "我承办的</option>" in mine.text

    # Fresh cases are far from their deadlines: none is in the overdue-only list.
    overdue = browser.get("/queue", params={"overdue": "1"})
    assert overdue.status_code == 200 and first not in overdue.text and second not in overdue.text


def test_the_pages_refresh_does_not_keep_an_idle_session_alive(console: str, inspector: tuple[str, str]) -> None:
    with signed_in_as(console, *inspector) as browser:
        assert browser.get("/queue").status_code == 200
        last_activity = time.monotonic()
        # The page refreshes itself while the person is away: each poll is served while the session lives …
        while time.monotonic() - last_activity < IDLE_SECONDS - 2:
            polled = browser.get("/queue", params={"stage": "verification"}, headers=POLL)
            assert polled.status_code == 200 and 'id="queue"' in polled.text
            time.sleep(1)
        # … but none of them counted: IDLE_SECONDS after the person's last request, the session has ended.
        time.sleep(max(0.0, last_activity + IDLE_SECONDS + 2 - time.monotonic()))
        ended = browser.get("/queue")
    assert ended.status_code == 303 and ended.headers["location"] == "/sign-in?expired=1"


def test_an_htmx_request_of_the_person_still_counts_as_activity(
    sign_in: Callable[[tuple[str, str]], httpx.Client], inspector: tuple[str, str]
) -> None:
    browser = sign_in(inspector)
    for _ in range(3):
        time.sleep(IDLE_SECONDS / 2)
        # A filter changed in place (htmx, but not the refresh): the person is there.
        assert browser.get("/queue", params={"overdue": "1"}, headers={"HX-Request": "true"}).status_code == 200
    assert browser.get("/queue").status_code == 200


def test_the_call_backs_due_list_a_rejected_complaint_of_the_county_only(
    agencies: Agencies,
    sign_in: Callable[[tuple[str, str]], httpx.Client],
    inspector: tuple[str, str],
    other_inspector: tuple[str, str],
) -> None:
    complaint_id = agencies.file(complaint_body(uuid.uuid4().int % 10**6, county=COUNTY))
    case_id = agencies.in_ledger(complaint_id)["case_id"]
    rejected = agencies.act(
        agencies.other_inspector,
        f"/v1/complaints/{complaint_id}/acceptance",
        {"decision": "reject", "reason": "not_labour_inspection_matter", "explanation": "不属劳动保障监察范围"},
        retry_on=(404, 503),
    )
    assert rejected.status_code == 200, rejected.text
    wait_for(
        "the complaint awaiting its call-back",
        lambda: agencies.in_ledger(complaint_id)["stage"] == "callback" or None,
        60,
    )

    listed = agencies.other_inspector.get("/v1/complaints", params={"stage": "callback"})
    assert listed.status_code == 200 and complaint_id in {c["complaint_id"] for c in listed.json()["items"]}
    assert all(c["county"] == COUNTY and c["stage"] == "callback" for c in listed.json()["items"])
    elsewhere = agencies.inspector.get("/v1/complaints", params={"stage": "callback"})
    assert complaint_id not in {c["complaint_id"] for c in elsewhere.json()["items"]}
    assert agencies.other_inspector.get("/v1/complaints", params={"stage": "nowhere"}).status_code == 422

    browser = sign_in(inspector)
    page = browser.get("/callbacks")
    assert page.status_code == 200 and complaint_id in page.text and f'href="/cases/{case_id}"' in page.text
    assert "不予受理" in page.text
    case_page = browser.get(f"/cases/{case_id}")
    assert f"/cases/{case_id}/complaints/{complaint_id}/callback" in case_page.text  # where the form is
    assert complaint_id not in sign_in(other_inspector).get("/callbacks").text


def _site(county: str) -> dict[str, str]:
    site_id = f"T-{uuid.uuid4().hex[:10].upper()}"
    return {
        "site_id": site_id,
        "name": f"登记测试安置房项目{site_id}",
        "county_code": county,
        "address": "丛台区人民路 100 号",
    }


def test_the_site_register_lists_the_countys_sites_with_their_posters_and_registers_one(
    agencies: Agencies,
    sign_in: Callable[[tuple[str, str]], httpx.Client],
    inspector: tuple[str, str],
    other_inspector: tuple[str, str],
) -> None:
    site = _site(COUNTY)
    registered = agencies.city_intake.put(f"/v1/sites/{site['site_id']}", json=site)
    assert registered.status_code == 200, registered.text
    by_api = agencies.city_intake.get("/v1/sites", params={"limit": "200"})
    assert by_api.status_code == 200
    county_clerk = agencies.clerk.get("/v1/sites", params={"limit": "200"}).json()["items"]
    assert site["site_id"] not in {s["site_id"] for s in county_clerk}
    assert all(s["county_code"] == OTHER_COUNTY for s in county_clerk)

    # The first poster takes intake a while to render (then it is kept): not in the session's idle time.
    assert agencies.city_intake.get(f"/v1/sites/{site['site_id']}/poster.pdf", timeout=120).status_code == 200
    assert agencies.city_intake.get(f"/v1/sites/{site['site_id']}/poster.png", timeout=120).status_code == 200
    browser = sign_in(inspector)
    page = browser.get("/sites")
    while site["site_id"] not in page.text and (more := re.search(r'href="(/sites\?cursor=[^"]+)"', page.text)):
        page = browser.get(more.group(1).replace("&amp;", "&"))
    assert site["site_id"] in page.text and site["name"] in page.text
    pdf = browser.get(f"/sites/{site['site_id']}/poster.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    png = browser.get(f"/sites/{site['site_id']}/poster.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert site["site_id"] not in sign_in(other_inspector).get("/sites").text

    # Registering through the console: the API's own message on a field it refuses, then the site registered.
    form = browser.get("/sites")
    mine = _site(COUNTY)
    sent = {**mine, "csrf": csrf_of(form), "key": str(uuid.uuid4())}
    refused = browser.post("/sites", data={**sent, "name": "x"})
    assert refused.status_code == 422 and 'id="site-name-error"' in refused.text, refused.text
    assert f'value="{mine["site_id"]}"' in refused.text  # what was typed is kept
    assert browser.post("/sites", data={**sent, "csrf": "forged"}).status_code == 403
    done = browser.post("/sites", data=sent)
    assert done.status_code == 303 and done.headers["location"] == f"/sites?done={mine['site_id']}"
    assert agencies.city_intake.get(f"/v1/sites/{mine['site_id']}").json()["county_code"] == COUNTY


def test_the_new_pages_have_no_serious_accessibility_violation(
    agencies: Agencies, console: str, inspector: tuple[str, str], two_employers: dict[str, Any]
) -> None:
    with chromium(DESK) as chrome:
        chrome.set_page_load_timeout(60)
        chrome.get(f"{console}/sign-in")
        chrome.find_element(By.ID, "person_id").send_keys(inspector[0])
        chrome.find_element(By.ID, "password").send_keys(inspector[1])
        chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(chrome, 30).until(expected_conditions.url_contains("/queue"))
        employer = two_employers["bodies"][0]["employer_name"]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for name, path in (
            ("queue-filtered", f"/queue?employer={employer}&assignee=mine"),
            ("callbacks", "/callbacks"),
            ("sites", "/sites"),
        ):
            chrome.get(f"{console}{path}")
            assert chrome.find_element(By.TAG_NAME, "h1").text, path
            chrome.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
            assert serious_violations(chrome) == [], path
