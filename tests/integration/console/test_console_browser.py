"""The console in a real headless Chromium, at a desk and on a phone: an inspector signs in, opens the queue and
a case; another county's case by its URL is the not-found page; on every page axe-core (pinned, from the npm
registry) finds no serious or critical accessibility violation. Each page's screenshot is saved under
`.data/console-screenshots/` (not committed; docs/console.md shows a committed set)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from deploy.engines import REPO_ROOT
from deploy.stack import Stack
from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.axe import serious_violations
from tests.support.browser import DESK, PHONE, chromium
from tests.support.people import add_person

SCREENSHOTS = REPO_ROOT / ".data" / "console-screenshots"


@pytest.fixture(scope="module", params=[DESK, PHONE], ids=["desk", "phone"])
def browser(request: pytest.FixtureRequest) -> Iterator[webdriver.Chrome]:
    with chromium(request.param) as chrome:
        chrome.set_page_load_timeout(60)
        yield chrome


def _checked(browser: webdriver.Chrome, name: str) -> None:
    """The page is accessible (no serious or critical violation) and its screenshot is kept."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = browser.get_window_size()["width"]
    browser.save_screenshot(str(SCREENSHOTS / f"{name}-{width}.png"))
    assert serious_violations(browser) == [], name


def test_an_inspector_works_the_queue_and_a_case_in_a_browser(
    stack: Stack, console: str, agencies: Agencies, browser: webdriver.Chrome
) -> None:
    person_id, password, _ = add_person(stack, "county_inspector", "--county", "130402")
    mine = agencies.in_ledger(agencies.file(complaint_body(uuid.uuid4().int % 10**6, county="130402")))["case_id"]
    theirs = agencies.in_ledger(agencies.file(complaint_body(uuid.uuid4().int % 10**6, county="130403")))["case_id"]
    wait = WebDriverWait(browser, 30)

    browser.delete_all_cookies()
    browser.get(f"{console}/sign-in")
    _checked(browser, "sign-in")
    browser.find_element(By.ID, "person_id").send_keys(person_id)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(expected_conditions.url_contains("/queue"))
    assert mine in browser.page_source and theirs not in browser.page_source
    _checked(browser, "queue")

    browser.find_element(By.LINK_TEXT, mine).click()
    wait.until(expected_conditions.url_contains(f"/cases/{mine}"))
    assert "身份已隐去" in browser.page_source
    _checked(browser, "case")

    browser.get(f"{console}/cases/{theirs}")
    assert "未找到该案件" in browser.page_source and "邯郸" not in browser.find_element(By.TAG_NAME, "main").text
    _checked(browser, "not-found")
