"""A real headless Chromium (Debian's) opens the form from a site's QR link, fills it in as a worker would
and gets a complaint number and tracking code; then follows the complaint on the status page."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from deploy.stack import Stack
from tests.integration.test_intake import PROCESSES, make_credit_code, make_id_number, make_phone
from tests.support.browser import PHONE, chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    # A phone-sized window: the form is used on cheap phones.
    with chromium(PHONE) as chrome:
        yield chrome


def test_a_worker_fills_the_form_from_a_qr_link_and_follows_the_complaint(
    stack: Stack, agency_token: Callable[[str], str], browser: webdriver.Chrome
) -> None:
    stack.start_processes(PROCESSES, timeout=120)
    base = stack.processes["intake-api"].url
    site_id = f"HD-{uuid.uuid4().hex[:8]}"
    registered = httpx.put(
        f"{base}/v1/sites/{site_id}",
        json={"site_id": site_id, "name": "邯山区浏览器测试项目", "county_code": "130402", "address": "测试路2号"},
        headers={"Authorization": f"Bearer {agency_token('clerk-130402')}"},
    )
    assert registered.status_code == 200, registered.text
    form_url = registered.json()["form_url"].replace("http://127.0.0.1:8001", base)

    seed = uuid.uuid4().int % 10**7
    browser.get(form_url)
    assert "邯山区浏览器测试项目" in browser.page_source
    fields = {
        "worker_name": "李四",
        "id_number": make_id_number(seed),
        "phone": make_phone(seed),
        "employer_name": "邯郸市浏览器测试劳务有限公司",
        "employer_credit_code": make_credit_code(seed),
        "amount_owed": "9600",
        "workers_affected": "1",
        "description": "今年七月到九月在该项目做木工，工资没有结清。",
    }
    for name, value in fields.items():
        element = browser.find_element(By.NAME, name)
        element.clear()
        element.send_keys(value)
    # Date inputs take the locale's keystrokes; setting the value is what a date picker does.
    for name, value in (("period_start", "2026-07-01"), ("period_end", "2026-09-30")):
        browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.NAME, name), value)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    WebDriverWait(browser, 30).until(expected_conditions.presence_of_element_located((By.ID, "tracking-code")))
    complaint_id = browser.find_element(By.ID, "complaint-id").text
    tracking_code = browser.find_element(By.ID, "tracking-code").text
    assert complaint_id.startswith("TS-") and len(tracking_code) == 9

    browser.find_element(By.PARTIAL_LINK_TEXT, "/status").click()
    browser.find_element(By.NAME, "complaint_id").send_keys(complaint_id)
    browser.find_element(By.NAME, "tracking_code").send_keys(tracking_code)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 30).until(expected_conditions.presence_of_element_located((By.CLASS_NAME, "timeline")))
    assert complaint_id in browser.page_source
    assert "受理" in browser.find_element(By.CLASS_NAME, "stage").text


def test_errors_are_shown_in_chinese_next_to_the_field(stack: Stack, browser: webdriver.Chrome) -> None:
    stack.start_processes(PROCESSES, timeout=120)
    browser.get(stack.processes["intake-api"].url + "/")
    Select(browser.find_element(By.NAME, "county_code")).select_by_value("130403")
    browser.find_element(By.NAME, "phone").send_keys("12345")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 30).until(expected_conditions.presence_of_element_located((By.CLASS_NAME, "alert")))
    assert "请填写11位手机号码" in browser.page_source
    assert browser.find_element(By.NAME, "phone").get_attribute("value") == "12345"
