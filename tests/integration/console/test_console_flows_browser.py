"""The people's main flows in a real Chromium, on the real stack: an inspector accepts a complaint, records the
verification, serves the order with a photographed receipt, and watches the order's deadline pass into refusal
(on a compressed clock); a housing-department clerk signs for a handoff and answers it with a file; the city
office approves an inspector's extension request; another site's page posting a console form, and a session
left idle, are refused. Each page on the way is checked with axe-core and kept as a screenshot
(`.data/console-screenshots/`)."""

from __future__ import annotations

import contextlib
import http.server
import io
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from deploy.engines import REPO_ROOT
from deploy.stack import Stack
from tests.integration.cases.conftest import Agencies, complaint_body
from tests.integration.console.conftest import IDLE_SECONDS
from tests.support.axe import serious_violations
from tests.support.browser import DESK, chromium
from tests.support.console_agencies import handed_off_to_housing
from tests.support.factories import seed
from tests.support.people import add_person

SCREENSHOTS = REPO_ROOT / ".data" / "console-screenshots"
# One legal working day in seconds for the inspector's complaint: the order's deadline passes in a minute or two.
SECONDS_PER_DAY = 3


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    with chromium(DESK) as chrome:
        chrome.set_page_load_timeout(60)
        yield chrome


def _checked(browser: webdriver.Chrome, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    assert serious_violations(browser) == [], name


def _sign_in(browser: webdriver.Chrome, console: str, person_id: str, password: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{console}/sign-in")
    browser.find_element(By.ID, "person_id").send_keys(person_id)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda b: "/sign-in" not in b.current_url)


def _reload_until(
    browser: webdriver.Chrome, url: str, ready: Callable[[webdriver.Chrome], bool], what: str, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        browser.get(url)
        if ready(browser):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never showed on {url}")
        time.sleep(1.5)


def _has(selector: str) -> Callable[[webdriver.Chrome], bool]:
    return lambda b: bool(b.find_elements(By.CSS_SELECTOR, selector))


def _submit(browser: webdriver.Chrome, form_action: str) -> None:
    button = browser.find_element(By.CSS_SELECTOR, f'form[action="{form_action}"] button[type=submit]')
    browser.execute_script("arguments[0].scrollIntoView()", button)
    button.click()
    # While the next page replaces this one, Chrome can answer for the old button with "node does not belong to
    # the document" instead of a stale reference: the page is changing, so poll again until it is stale.
    WebDriverWait(browser, 30, ignored_exceptions=(WebDriverException,)).until(expected_conditions.staleness_of(button))


def _photo(folder: Path) -> Path:
    """A photographed receipt: a real JPEG, as a phone's camera gives (intake checks what a file is)."""
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 180, 150)).save(out, format="JPEG")
    path = folder / "receipt.jpg"
    path.write_bytes(out.getvalue())
    return path


def test_an_inspector_takes_a_complaint_from_acceptance_to_refusal(
    stack: Stack, console: str, agencies: Agencies, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    person_id, password, _ = add_person(stack, "county_inspector", "--county", "130402")
    body = complaint_body(seed(), county="130402")
    with agencies.compressed_clock(SECONDS_PER_DAY):
        complaint_id = agencies.file(body)
    case_id = agencies.in_ledger(complaint_id)["case_id"]
    case_url = f"{console}/cases/{case_id}"
    _sign_in(browser, console, person_id, password)

    # Acceptance, from the complaint's row (a folded form).
    acceptance = f"/cases/{case_id}/complaints/{complaint_id}/acceptance"
    _reload_until(browser, case_url, _has(f'form[action="{acceptance}"]'), "the acceptance form")
    _checked(browser, "case-acceptance")
    browser.find_element(By.CSS_SELECTOR, "details.action summary").click()
    Select(browser.find_element(By.ID, f"decision-{complaint_id}")).select_by_value("accept")
    _submit(browser, acceptance)

    # Verification: wage arrears confirmed, the amount and the workers of the complaint.
    verification = f"/cases/{case_id}/verification"
    _reload_until(browser, case_url, _has(f'form[action="{verification}"]'), "the verification form")
    _checked(browser, "case-verification")
    Select(browser.find_element(By.ID, "outcome")).select_by_value("wage_arrears")
    browser.find_element(By.ID, "confirmed_amount").send_keys(str(body["amount_owed"]))
    browser.find_element(By.ID, "confirmed_workers").send_keys(str(body["workers_affected"]))
    _submit(browser, verification)

    # Service of the order, by posting, with the photograph taken on site.
    service = f"/cases/{case_id}/service"
    _reload_until(browser, case_url, _has(f'form[action="{service}"]'), "the service form")
    _checked(browser, "case-service")
    Select(browser.find_element(By.ID, "service-method")).select_by_value("posting")
    Select(browser.find_element(By.ID, "service-evidence-kind")).select_by_value("photo")
    browser.find_element(By.ID, "service-evidence").send_keys(str(_photo(tmp_path)))
    _submit(browser, service)

    # The order's deadline passes unpaid: the case page shows the refusal stage.
    _reload_until(
        browser,
        case_url,
        lambda b: "拒不支付" in b.find_element(By.TAG_NAME, "main").text,
        "the refusal after the order's deadline",
        timeout=300,
    )
    _checked(browser, "case-refusal")
    assert agencies.case(case_id)["stage"] == "refusal"


def test_a_department_clerk_signs_for_a_handoff_and_answers_it_with_a_file(
    stack: Stack, console: str, agencies: Agencies, referrals: None, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    case_id = handed_off_to_housing(agencies)
    person_id, password, _ = add_person(stack, "department", "--department", "housing")
    _sign_in(browser, console, person_id, password)
    _reload_until(browser, f"{console}/inbox", lambda b: case_id in b.page_source, "the handoff in the inbox", 120)
    _checked(browser, "inbox")
    row = browser.find_element(By.XPATH, f"//tr[td[contains(., '{case_id}')]]//a[starts-with(@href, '/handoffs/')]")
    handoff_url = row.get_attribute("href")
    row.click()
    handoff_path = handoff_url.split(console, 1)[-1]
    _checked(browser, "handoff")
    _submit(browser, f"{handoff_path}/acknowledgement")
    assert "待签收" not in browser.find_element(By.TAG_NAME, "main").text
    Select(browser.find_element(By.ID, "outcome")).select_by_value("under_handling")
    browser.find_element(By.ID, "summary").send_keys("已约谈总包单位，责令十日内结清工程款。")
    browser.find_element(By.ID, "files").send_keys(str(_photo(tmp_path)))
    _submit(browser, f"{handoff_path}/response")
    _checked(browser, "handoff-answered")
    assert "receipt.jpg" in browser.page_source


def test_the_city_office_approves_an_inspectors_extension_request(
    stack: Stack, console: str, agencies: Agencies, browser: webdriver.Chrome
) -> None:
    _, case_id = agencies.accepted_case(complaint_body(seed()))
    requested = agencies.act(
        agencies.inspector,
        f"/v1/cases/{case_id}/extension-requests",
        {"reason": "涉及人数多，需调取考勤记录"},
        until=201,
    )
    assert requested.status_code == 201, requested.text
    person_id, password, _ = add_person(stack, "city_office")
    _sign_in(browser, console, person_id, password)
    browser.get(f"{console}/city")
    _checked(browser, "city-dashboard")
    _reload_until(browser, f"{console}/city/approvals", lambda b: case_id in b.page_source, "the request", 60)
    _checked(browser, "city-approvals")
    _submit(browser, f"/city/approvals/{case_id}")
    case = agencies.case_until(case_id, lambda c: c["processes"][0]["extension_approved"], "the extension approved")
    assert [e["status"] for e in case["extension_requests"]] == ["approved"]


@contextlib.contextmanager
def _another_site(page: str) -> Iterator[str]:
    """An attacker's page on another origin (another port: the same site for cookies, so the session's cookie
    goes along and only the form's CSRF token stands in the way)."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_another_sites_form_and_an_idle_session_are_refused(
    stack: Stack, console: str, agencies: Agencies, browser: webdriver.Chrome
) -> None:
    person_id, password, _ = add_person(stack, "county_inspector", "--county", "130402")
    _, case_id = agencies.accepted_case(complaint_body(seed()))
    _sign_in(browser, console, person_id, password)
    # A page elsewhere submits the verification form into the signed-in person's console, without its token.
    forged = (
        f'<form method="post" action="{console}/cases/{case_id}/verification">'
        '<input name="outcome" value="unfounded"></form><script>document.forms[0].submit()</script>'
    )
    with _another_site(forged) as attacker:
        browser.get(attacker)
        WebDriverWait(browser, 30).until(lambda b: b.current_url.startswith(console))
    assert "表单已失效" in browser.page_source
    assert agencies.case(case_id)["stage"] == "verification"  # nothing was recorded

    # Left idle past the console's idle time, the next page is the sign-in page, saying why.
    browser.get(f"{console}/queue")
    assert "/queue" in browser.current_url
    time.sleep(IDLE_SECONDS + 2)
    browser.get(f"{console}/queue")
    assert "/sign-in" in browser.current_url and "expired=1" in browser.current_url
