"""Merging, new totals and splitting through the case page on the real stack, as a browser without JavaScript
uses it: an inspector merges a second case into a verified one (a one-character reason first refused with the
API's message), the merged complaint waits for the case's totals to be confirmed anew and the page offers the
form, the new totals go through, and the complaint is split off again into a case of its own."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from deploy.stack import Stack
from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.console_forms import Browser
from tests.support.factories import seed
from tests.support.people import add_person

COUNTY = "130402"


@pytest.fixture(scope="module")
def inspector(stack: Stack, console: str) -> tuple[str, str]:
    person_id, password, _ = add_person(stack, "county_inspector", "--county", COUNTY)
    return person_id, password


def _unconfirmed(case: dict[str, Any]) -> list[str]:
    return [m for p in case["processes"] if p["status"] == "open" for m in p.get("unconfirmed_members", [])]


def test_an_inspector_merges_confirms_the_new_totals_and_splits_through_the_case_page(
    agencies: Agencies, console: str, inspector: tuple[str, str]
) -> None:
    a = agencies
    _, case_a = a.accepted_case(complaint_body(seed(), amount_owed="4000.00", workers_affected=1))
    two, case_b = a.accepted_case(complaint_body(seed(), amount_owed="6000.00", workers_affected=2))
    verified = a.act(a.inspector, f"/v1/cases/{case_a}/verification", {"outcome": "wage_arrears"})
    assert verified.status_code == 200, verified.text

    browser = Browser(console, inspector)
    merge = f"/cases/{case_a}/merge"
    short = browser.submit(case_a, merge, {"other_case_id": case_b, "reason": "x"})
    assert short.status_code == 422 and "未能提交" in short.text, short.text
    merged = browser.submit(case_a, merge, {"other_case_id": case_b, "reason": "同一用人单位的两个名称"})
    assert merged.status_code == 303, merged.text
    assert merged.headers["location"] == f"/cases/{case_a}?done=merge"

    # Case B's complaint joined case A's verified process: counted at its claim until the totals are confirmed.
    a.case_until(case_a, lambda c: two in _unconfirmed(c), "the merged complaint waiting for new totals", timeout=120)
    page = browser.http.get(f"/cases/{case_a}")
    assert "重新确认案件金额与人数" in page.text and two in page.text, page.text
    figures = f"/cases/{case_a}/figures"
    confirmed = browser.submit(case_a, figures, {"confirmed_amount": "10000.00", "confirmed_workers": "3"})
    assert confirmed.status_code == 303, confirmed.text
    case = a.case_until(case_a, lambda c: not _unconfirmed(c), "the new totals confirmed", timeout=120)
    assert Decimal(case["amount_claimed"]) == Decimal("10000.00")
    assert "重新确认案件金额与人数" not in browser.http.get(f"/cases/{case_a}").text

    split = browser.submit(case_a, f"/cases/{case_a}/split", {"complaint_ids": two, "reason": "核实为不同项目"})
    assert split.status_code == 303, split.text
    remaining = a.case_until(case_a, lambda c: c["complaint_count"] == 1, "the case after the split", timeout=120)
    assert two not in {c["complaint_id"] for c in remaining["complaints"]}
