"""A refused case's workers paid from the project's wage deposit through the console, on the real stack (intake,
cases, the lifecycle worker, monitoring with its payout workflow, Temporal, Kafka, PostgreSQL): the county's
inspector asks for the payout on the case page; the city office's approval is refused while the deposit does not
cover it (the service's message on the page), then approved once the deposit is raised; the inspector records
the bank's payment on the payout's page, and the case page shows the payout paid; the city office sets the
county's emergency-fund reserve on the funds page, which shows the deposit drawn. The payouts, a payout's page,
the funds page and the case page pass axe-core."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from deploy.engines import REPO_ROOT
from deploy.stack import Stack
from services.contracts.legal_time import legal_date
from tests.integration.cases.conftest import Agencies
from tests.integration.monitoring.test_register import project
from tests.support.agencies import agency_clients, wait_for
from tests.support.axe import serious_violations
from tests.support.browser import DESK, chromium
from tests.support.console_agencies import hidden_fields, signed_in_as
from tests.support.people import add_person

COUNTY = "130402"  # the cases fixture's inspector's county, where its cases are filed
MONITORING = ["monitoring-api", "monitoring-relay", "monitoring-worker"]
SCREENSHOTS = REPO_ROOT / ".data" / "console-screenshots"  # not committed


@pytest.fixture(scope="module")
def monitoring(stack: Stack, console: str) -> None:
    stack.start_processes(MONITORING, timeout=240)


def test_a_payout_is_asked_on_the_case_page_approved_by_the_city_office_and_its_payment_recorded(
    stack: Stack, console: str, monitoring: None, agencies: Agencies, agency_token: Callable[[str], str]
) -> None:
    a = agencies
    register = agency_clients(stack, agency_token)("monitoring-api", f"inspector-{COUNTY}")
    # A deposit short of the payout: the city office's approval is refused until it is raised.
    short = {"amount": "5000.00", "form": "cash", "status": "lodged"}
    code = f"HD-{uuid.uuid4().hex[:8].upper()}-C"
    registered = register.post("/v1/projects", json=project(code, county=COUNTY, site_ids=[], deposit=short))
    assert registered.status_code == 201, registered.text
    project_id = registered.json()["project_id"]
    inspector = add_person(stack, "county_inspector", "--county", COUNTY)[:2]
    city_office = add_person(stack, "city_office")[:2]

    case_id = a.served_over_the_threshold("ev-console-payout")
    a.case_until(case_id, lambda c: c["stage"] == "refusal", "the refusal", timeout=120)

    with signed_in_as(console, *inspector) as browser:
        case_page = browser.get(f"/cases/{case_id}")
        assert case_page.status_code == 200 and "申请动用工资保证金或应急周转金垫付" in case_page.text
        form = hidden_fields(case_page, f"/cases/{case_id}/payouts")
        ask = {"source": "deposit", "project_id": project_id, "workers_paid": "1"}
        too_much = browser.post(f"/cases/{case_id}/payouts", data={**form, **ask, "amount": "6000.01"})
        assert too_much.status_code == 409 and "exceeds" in too_much.text, too_much.text
        asked = browser.post(
            f"/cases/{case_id}/payouts",
            data={**hidden_fields(too_much, f"/cases/{case_id}/payouts"), **ask, "amount": "6000.00"},
        )
        assert asked.status_code == 303 and asked.headers["location"] == f"/cases/{case_id}?done=payout", asked.text

    with signed_in_as(console, *city_office) as browser:
        listing = browser.get("/payouts", params={"stage": "requested"})
        found = re.search(
            r'<a href="/payouts/(PO-[^"]+)">[^<]+</a></td>\s*<td><a href="/cases/' + case_id, listing.text
        )
        assert found, listing.text
        payout_id = found.group(1)
        payout = browser.get(f"/payouts/{payout_id}")
        approve = {**hidden_fields(payout, f"/payouts/{payout_id}/decision"), "decision": "approve"}
        not_covered = browser.post(f"/payouts/{payout_id}/decision", data=approve)
        assert not_covered.status_code == 409, not_covered.text
        assert "5000.00" in not_covered.text and "6000.00" in not_covered.text  # the service's figures

    raised = register.patch(f"/v1/projects/{project_id}", json={"deposit": {**short, "amount": "300000.00"}})
    assert raised.status_code == 200, raised.text
    with signed_in_as(console, *city_office) as browser:
        payout = browser.get(f"/payouts/{payout_id}")
        approve = {**hidden_fields(payout, f"/payouts/{payout_id}/decision"), "decision": "approve"}
        approved = browser.post(f"/payouts/{payout_id}/decision", data=approve)
        assert approved.status_code == 303, approved.text
        shown = browser.get(approved.headers["location"])
        assert "已批准" in shown.text and "动用保证金" in shown.text and "记录银行支付" in shown.text
        funds = browser.get("/funds")
        reserve = {**hidden_fields(funds, "/funds/reserve"), "county": COUNTY, "reserve": "1000000.00"}
        set_reserve = browser.post("/funds/reserve", data=reserve)
        assert set_reserve.status_code == 303, set_reserve.text
        funds = browser.get(set_reserve.headers["location"])
        assert f"已设定 {COUNTY} 的应急周转金规模" in funds.text and "1000000.00" in funds.text
        # The county's row of each table: its emergency fund's, then its deposits' (projects, lodged, drawn, …).
        rows = re.findall(r'<th scope="row">[^<]*（' + COUNTY + r"）</th>\s*((?:<td>[^<]*</td>)+)", funds.text)
        fund, deposits = ([re.findall(r"<td>([^<]*)</td>", row) for row in rows] + [[], []])[:2]
        assert fund[0] == "1000000.00" and Decimal(deposits[2]) >= Decimal("6000.00"), funds.text

    today = legal_date(datetime.now(UTC)).isoformat()
    with signed_in_as(console, *inspector) as browser:
        payout = browser.get(f"/payouts/{payout_id}")
        assert "批准动用" not in payout.text  # the city office's form only
        payment = {**hidden_fields(payout, f"/payouts/{payout_id}/payment"), "paid_on": today}
        paid = browser.post(f"/payouts/{payout_id}/payment", data=payment)
        assert paid.status_code == 303 and paid.headers["location"] == f"/payouts/{payout_id}?done=paid", paid.text
        again = browser.post(f"/payouts/{payout_id}/payment", data=payment)  # the same form: one payment
        assert again.status_code == 303, again.text
        assert "记录补足保证金" in browser.get(f"/payouts/{payout_id}").text

    def case_shows_it_paid() -> bool:
        with signed_in_as(console, *inspector) as browser:
            text = browser.get(f"/cases/{case_id}").text
        return f'href="/payouts/{payout_id}"' in text and "已支付，待补足或追偿" in text and today in text

    wait_for("the payment on the case page", case_shows_it_paid, timeout=120)

    with chromium(DESK) as chrome:
        chrome.set_page_load_timeout(60)
        chrome.get(f"{console}/sign-in")
        chrome.find_element(By.ID, "person_id").send_keys(city_office[0])
        chrome.find_element(By.ID, "password").send_keys(city_office[1])
        chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(chrome, 30).until(expected_conditions.url_contains("/city"))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for name, path in (
            ("payouts", "/payouts"),
            ("payout", f"/payouts/{payout_id}"),
            ("funds", "/funds"),
            ("case-payouts", f"/cases/{case_id}"),
        ):
            chrome.get(f"{console}{path}")
            assert chrome.find_element(By.TAG_NAME, "h1").text, path
            chrome.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
            assert serious_violations(chrome) == [], path
