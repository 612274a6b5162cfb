"""An early-warning case in the console on the real stack: the monitoring service warns of a project's missing
payroll and the cases service opens the project's case; the inspector finds it in the queue by its kind, reads its
origin on the case page (the project linked, the warning), is refused a complainant's outcome with the case
process's own message, and closes it finding no arrears — the outcome the verification form offers only to an
early-warning case no complaint joined. The case page passes axe-core."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from deploy.stack import Stack
from tests.integration.cases.conftest import Agencies
from tests.integration.cases.test_early_warning_cases import (
    COUNTY,
    check_last_month_without_payroll,
    early_warning_case,
    register_project,
)
from tests.support.agencies import agency_clients
from tests.support.axe import serious_violations
from tests.support.browser import DESK, chromium
from tests.support.console_agencies import hidden_fields, signed_in_as
from tests.support.people import add_person


@pytest.fixture(scope="module")
def monitoring(stack: Stack, console: str, agencies: Agencies, agency_token: Callable[[str], str]) -> httpx.Client:
    """The monitoring service, as the county's inspector."""
    stack.start_processes(["monitoring-api", "monitoring-relay", "monitoring-worker"], timeout=240)
    return agency_clients(stack, agency_token)("monitoring-api", f"inspector-{COUNTY}")


def test_an_early_warning_case_shows_its_origin_and_closes_finding_no_arrears(
    stack: Stack, console: str, agencies: Agencies, monitoring: httpx.Client
) -> None:
    a = agencies
    project_id, contractor, _ = register_project(
        monitoring, a, deposit={"amount": "1160000.00", "form": "bank_guarantee", "status": "lodged"}
    )
    check_last_month_without_payroll(monitoring, a, project_id)
    case_id = early_warning_case(
        a, contractor, lambda c: len(c["warnings"]) == 1 and bool(c["process_case_ids"]), "the early-warning case"
    )["case_id"]
    inspector = add_person(stack, "county_inspector", "--county", COUNTY)[:2]
    verification = f"/cases/{case_id}/verification"

    with signed_in_as(console, *inspector) as browser:
        queue = browser.get("/queue", params={"kind": "early_warning", "employer": contractor})
        assert f'href="/cases/{case_id}"' in queue.text and '<small class="kind">预警案件</small>' in queue.text
        complaints_only = browser.get("/queue", params={"kind": "complaint", "employer": contractor})
        assert f'href="/cases/{case_id}"' not in complaints_only.text

        page = browser.get(f"/cases/{case_id}")
        assert page.status_code == 200 and "<dd>预警案件</dd>" in page.text
        assert f'href="/projects/{project_id}"' in page.text and "当月工资发放明细未报送" in page.text
        assert '<option value="no_arrears_found">未发现欠薪</option>' in page.text
        unfounded = browser.post(verification, data={**hidden_fields(page, verification), "outcome": "unfounded"})
        assert unfounded.status_code == 409 and "no complainant" in unfounded.text, unfounded.text
        none_found = {**hidden_fields(unfounded, verification), "outcome": "no_arrears_found"}
        done = browser.post(verification, data=none_found)
        assert done.status_code == 303 and done.headers["location"] == f"/cases/{case_id}?done=verification"

    case = a.case_until(case_id, lambda c: c["status"] == "closed", "the case closed", timeout=90)
    assert (case["outcome"], case["closure_reason"]) == ("no_arrears_found", "no_arrears_found")

    with chromium(DESK) as chrome:
        chrome.set_page_load_timeout(60)
        chrome.get(f"{console}/sign-in")
        chrome.find_element(By.ID, "person_id").send_keys(inspector[0])
        chrome.find_element(By.ID, "password").send_keys(inspector[1])
        chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(chrome, 30).until(expected_conditions.url_contains("/queue"))
        chrome.get(f"{console}/cases/{case_id}")
        assert "预警案件" in chrome.find_element(By.TAG_NAME, "main").text
        assert serious_violations(chrome) == []
