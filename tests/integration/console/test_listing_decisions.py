"""The city office's listing decisions on the real stack, as a browser without JavaScript uses them: a listing
whose employer made a statement waits for its review, a listed employer's early-removal application waits for
its decision (both brought there through the sanctions API, as the sanctions suite does); the city office sees
the statement and the application's facts (in Chromium, axe-core finds no serious violation), a refusal without a reason shows the API's message at its form, a
form without its CSRF token does nothing, a county inspector gets the not-found page; the defence accepted and
the application granted through the console reach the sanctions service under the person's name."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from deploy.stack import Stack
from tests.integration.sanctions.conftest import (
    Employer,
    Sanctions,
    sanctions,  # noqa: F401 (a fixture, used by name)
    wait_for,
)
from tests.support.axe import serious_violations
from tests.support.browser import DESK, chromium
from tests.support.console_agencies import signed_in_as
from tests.support.people import add_person

LISTINGS = "/city/listings"
STATEMENT = "我公司对拖欠数额有异议，部分工人已另行结算。"
GRANT_REASON_SHOWN = "准予提前移出"


@pytest.fixture(scope="module")
def compressed(sanctions: Sanctions, console: str) -> Iterator[Sanctions]:  # noqa: F811 (the fixture above)
    """The sanctions API starting procedures on a compressed clock: one legal day in 0.1 s, the defence period
    of 60 working days in about 6 s (time to record a statement), six months in about 18 s, and the listing's
    three years in about 110 s (time to decide an application through the console)."""
    sanctions.restart_api(ANXIN_WORKING_DAY_SECONDS="0.1", ANXIN_SANCTIONS_DEFENCE_DAYS="60")
    try:
        yield sanctions
    finally:
        sanctions.restart_api()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """Chromium, started before the listings are brought to the city office (their time is short)."""
    with chromium(DESK) as chrome:
        chrome.set_page_load_timeout(60)
        yield chrome


@pytest.fixture(scope="module")
def city_officer(stack: Stack, console: str) -> tuple[str, str]:
    person_id, password, _ = add_person(stack, "city_office")
    return person_id, password


@pytest.fixture(scope="module")
def inspector(stack: Stack, console: str) -> tuple[str, str]:
    person_id, password, _ = add_person(stack, "county_inspector", "--county", "130402")
    return person_id, password


def _proposed(sanctions: Sanctions, employer: Employer) -> str:  # noqa: F811 (the fixture above)
    body, key = sanctions.sanction_request(employer, "blacklist_procedure")
    created = sanctions.lifecycle_post("/v1/blacklist-procedures", body, key)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _waiting(sanctions: Sanctions, params: dict[str, str]) -> list[str]:  # noqa: F811 (the fixture above)
    listed = sanctions.city.get("/v1/listings", params={**params, "limit": "200"})
    assert listed.status_code == 200, listed.text
    return [item["listing_id"] for item in listed.json()["items"]]


def _in_review_and_waiting(sanctions: Sanctions) -> tuple[str, str, str]:  # noqa: F811 (the fixture above)
    """A listing under review after its employer's statement, and a listed one with an early-removal
    application waiting (after those refused automatically while too early): their ids and the application's."""
    defending, employer = sanctions.employer(), sanctions.employer()
    for filed in (defending, employer):  # both cases' facts known before the first defence period runs
        sanctions.file_complaint(filed)
    reviewed, repaired = _proposed(sanctions, defending), _proposed(sanctions, employer)
    sanctions.listing_until(reviewed, lambda item: item["stage"] == "defence", "the prior notice")
    statement = sanctions.inspector.post(f"/v1/listings/{reviewed}/statements", json={"text": STATEMENT})
    assert statement.status_code == 200, statement.text

    sanctions.listing_until(repaired, lambda item: item["stage"] == "listed", "the listing", timeout=90)
    paid, paid_key = sanctions.sanction_request(employer, "correction", basis="拒不支付后补发 60000.00 元（PAY-C）")
    assert sanctions.lifecycle_post("/v1/corrections", paid, paid_key).status_code == 201
    sanctions.listing_until(
        repaired, lambda item: bool((item["process"] or {}).get("paid_in_full_on")), "the correction in the process"
    )
    path = f"/v1/listings/{repaired}/early-removal-applications"

    def applied() -> str | None:
        answer = sanctions.inspector.post(path, json={"pledge_ref": "PLEDGE-C1", "payment_proof_ref": "BANK-C1"})
        assert answer.status_code in (200, 409), answer.text
        return str(answer.json()["application_id"]) if answer.status_code == 200 else None

    application_id: str = wait_for("six months after the payment", applied, timeout=60, interval=3)
    sanctions.listing_until(reviewed, lambda item: item["stage"] == "review", "the review stage")
    wait_for(
        "the application waiting in the listings",
        lambda: repaired in _waiting(sanctions, {"pending_application": "true"}),
        timeout=30,
    )
    return reviewed, repaired, application_id


def _fields(page: str, action: str, marker: str) -> dict[str, str]:
    """The hidden fields of the page's form posting to `action` that holds `marker` (two forms post to each
    action: one for each outcome)."""
    forms = re.findall(r'<form method="post" action="' + re.escape(action) + r'"[^>]*>(.*?)</form>', page, re.S)
    chosen = [form for form in forms if marker in form]
    assert len(chosen) == 1, page
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', chosen[0])
    }


def _accessible(browser: webdriver.Chrome, console: str, person: tuple[str, str], reviewed: str) -> None:
    """The page with its statement and application, in Chromium: axe-core finds no serious violation."""
    browser.delete_all_cookies()
    browser.get(f"{console}/sign-in")
    browser.find_element(By.ID, "person_id").send_keys(person[0])
    browser.find_element(By.ID, "password").send_keys(person[1])
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda b: "/sign-in" not in b.current_url)
    browser.get(f"{console}{LISTINGS}")
    assert STATEMENT in browser.page_source and reviewed in browser.page_source
    assert serious_violations(browser) == []


def test_the_city_office_reviews_a_statement_and_grants_an_early_removal(
    compressed: Sanctions,
    console: str,
    city_officer: tuple[str, str],
    inspector: tuple[str, str],
    browser: webdriver.Chrome,
) -> None:
    reviewed, repaired, application_id = _in_review_and_waiting(compressed)
    _accessible(browser, console, city_officer, reviewed)
    review_action = f"{LISTINGS}/{reviewed}/review"
    decision_action = f"{LISTINGS}/{repaired}/applications/{application_id}/decision"

    with signed_in_as(console, *inspector) as county:
        page = county.get(LISTINGS)
        assert page.status_code == 404 and "未找到" in page.text
        assert f'href="{LISTINGS}"' not in page.text  # not in the inspector's header
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf, page.text
        tried = county.post(review_action, data={"csrf": csrf.group(1), "outcome": "accept", "reason": "理由成立"})
        assert tried.status_code == 404 and "未找到" in tried.text

    with signed_in_as(console, *city_officer) as city:
        page = city.get(LISTINGS)
        assert page.status_code == 200 and f'href="{LISTINGS}"' in page.text
        assert STATEMENT in page.text  # the statement in clear, read through the sanctions API
        assert "PLEDGE-C1" in page.text and "BANK-C1" in page.text
        assert "six months have not passed" in page.text  # the applications refused automatically before
        accept = _fields(page.text, review_action, 'name="outcome" value="accept"')
        grant = _fields(page.text, decision_action, 'name="decision" value="grant"')
        refuse = _fields(page.text, decision_action, 'name="decision" value="refuse"')

        # Without the CSRF token the form does nothing.
        forged = city.post(review_action, data={**accept, "csrf": "", "reason": "申辩理由成立"})
        assert forged.status_code == 403
        assert not [a for a in compressed.listing(reviewed)["actions"] if a["kind"] == "review"]

        # A refusal without a reason: the API's message next to that form, nothing decided.
        refused = city.post(decision_action, data={**refuse, "reason": ""})
        assert refused.status_code == 422, refused.text
        assert re.search(r'<span class="error">[^<]+</span>', refused.text), refused.text
        assert f'action="{decision_action}"' in refused.text
        assert [a["status"] for a in compressed.listing(repaired)["early_removal_applications"]][-1] == "pending"

        accepted = city.post(review_action, data={**accept, "reason": "申辩理由成立，工资已另行结算"})
        assert accepted.status_code == 303, accepted.text
        assert accepted.headers["location"] == f"{LISTINGS}?accepted={reviewed}"
        granted = city.post(decision_action, data={**grant, "reason": ""})
        assert granted.status_code == 303, granted.text
        assert granted.headers["location"] == f"{LISTINGS}?granted={repaired}"
        shown = city.get(granted.headers["location"])
        assert f"已准予 {repaired} 提前移出失信名单" in shown.text
        assert f'action="{review_action}"' not in shown.text and f'action="{decision_action}"' not in shown.text
        # The same form sent again acts once (its idempotency key).
        again = city.post(decision_action, data={**grant, "reason": ""})
        assert again.status_code == 303

    person = f"person:{city_officer[0]}"
    not_listed = compressed.listing_until(reviewed, lambda item: item["stage"] == "not_listed", "the defence accepted")
    assert not_listed["not_listed_reason"] == "defence_accepted"
    assert [a["actor"] for a in not_listed["actions"] if a["kind"] == "review"] == [person]
    removed = compressed.listing_until(repaired, lambda item: item["stage"] == "removed", "the early removal")
    assert removed["removal_reason"] == "credit_repair"
    decided = [a for a in removed["early_removal_applications"] if a["application_id"] == application_id]
    assert [(a["status"], a["decided_by"]) for a in decided] == [("granted", person)]
    assert GRANT_REASON_SHOWN in decided[0]["decision_reason"]
    assert len([a for a in removed["actions"] if a["kind"] == "early_removal_decision"]) == 1
