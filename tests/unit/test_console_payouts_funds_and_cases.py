"""The funds and the cases in the console, against stand-in issuer, cases and monitoring answers: the funds page
sets a county's reserve for the city office only; a refused case offers the inspector the payout request and
shows its payouts; an early-warning case shows its origin and may close with no arrears found until a complaint
joins it."""

from __future__ import annotations

import re

import httpx

from .console_payout_services import (
    COUNTY,
    REFUSED_CASE,
    WARNING_CASE,
    form_fields,
    payouts_console,
    requests_sent,
    sign_in,
)


def test_the_funds_page_sets_a_reserve_for_the_city_office_only() -> None:
    asked: list[httpx.Request] = []
    with payouts_console(asked, "city_office") as browser:
        sign_in(browser)
        funds = browser.get("/funds")
        csrf = form_fields(funds.text, "/funds/reserve")["csrf"]
        set_ = browser.post("/funds/reserve", data={"csrf": csrf, "county": "130402", "reserve": "5000000"})
        too_low = browser.post("/funds/reserve", data={"csrf": csrf, "county": COUNTY, "reserve": "1"})
    assert funds.status_code == 200 and "丛台区（130403）" in funds.text and "994000.00" in funds.text
    assert "7654321.00" in funds.text and "合计" in funds.text  # the city's totals as the API sums them
    assert "未设定" in funds.text  # 邯山区 has no reserve
    assert set_.status_code == 303 and set_.headers["location"] == "/funds?reserve_set=130402"
    assert too_low.status_code == 409 and "低于尚未归还的 6000.00 元" in too_low.text
    assert requests_sent(asked, "PUT") == [
        ("/v1/funds/130402/reserve", {"reserve": "5000000"}, None),
        (f"/v1/funds/{COUNTY}/reserve", {"reserve": "1"}, None),
    ]

    asked.clear()
    with payouts_console(asked, "bureau_head") as browser:
        sign_in(browser)
        funds = browser.get("/funds")
        csrf = re.search(r'name="csrf" value="([^"]+)"', funds.text)
        assert csrf
        tried = browser.post("/funds/reserve", data={"csrf": csrf.group(1), "county": COUNTY, "reserve": "9"})
    assert funds.status_code == 200 and "/funds/reserve" not in funds.text
    assert tried.status_code == 404 and not requests_sent(asked, "PUT")


def test_a_refused_case_offers_the_inspector_the_payout_request_and_shows_its_payouts() -> None:
    asked: list[httpx.Request] = []
    case_id = REFUSED_CASE["case_id"]
    with payouts_console(asked, "county_inspector") as browser:
        sign_in(browser)
        shown = browser.get(f"/cases/{case_id}")
        fields = form_fields(shown.text, f"/cases/{case_id}/payouts")
        sent = {"source": "deposit", "project_id": "PRJ-1", "amount": "6000.00", "workers_paid": "2"}
        done = browser.post(f"/cases/{case_id}/payouts", data={**fields, **sent})
        advance = {**sent, "source": "emergency_fund", "amount": "9999.00"}
        refused = browser.post(f"/cases/{case_id}/payouts", data={**fields, **advance})
    assert "申请动用工资保证金或应急周转金垫付" in shown.text
    assert 'href="/payouts/PO-APPROVED"' in shown.text and "已支付，待补足或追偿" in shown.text
    assert done.status_code == 303 and done.headers["location"] == f"/cases/{case_id}?done=payout"
    assert refused.status_code == 409 and "exceeds the wages owed" in refused.text
    assert 'value="9999.00"' in refused.text  # what was typed, kept
    assert requests_sent(asked) == [
        (f"/v1/cases/{case_id}/payouts", {**sent, "workers_paid": "2"}, fields["key"]),
        (
            f"/v1/cases/{case_id}/payouts",
            {"source": "emergency_fund", "amount": "9999.00", "workers_paid": "2"},
            fields["key"],
        ),
    ]

    with payouts_console([], "city_office") as browser:
        sign_in(browser)
        city = browser.get(f"/cases/{case_id}")
    assert f"/cases/{case_id}/payouts" not in city.text and "PO-APPROVED" in city.text


def test_an_early_warning_case_shows_its_origin_and_may_find_no_arrears_until_a_complaint_joins() -> None:
    asked: list[httpx.Request] = []
    with payouts_console(asked, "county_inspector") as browser:
        sign_in(browser)
        warning = browser.get(f"/cases/{WARNING_CASE['case_id']}")
        complaint = browser.get(f"/cases/{REFUSED_CASE['case_id']}")
        queue = browser.get("/queue", params={"kind": "early_warning"})
    assert "预警案件" in warning.text and 'href="/projects/PRJ-7"' in warning.text
    assert "WRN-1" in warning.text and "考勤在册工人未获发放" in warning.text and "橙色预警" in warning.text
    assert '<option value="no_arrears_found">未发现欠薪</option>' in warning.text
    assert "no_arrears_found" not in complaint.text and "投诉案件" in complaint.text
    assert queue.text.count("预警案件") >= 2  # the filter's option and the early-warning case's row
    listed = next(r for r in asked if r.url.path == "/v1/cases")
    assert listed.url.params["kind"] == "early_warning"
