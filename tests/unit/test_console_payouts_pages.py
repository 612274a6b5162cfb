"""Payouts from the deposit or the emergency fund in the console, against stand-in issuer, cases and monitoring
answers: every stage, source and warning has its Chinese name; the list filters and pages as the API; the city
office decides and writes off, the county records the bank's payment, the top-up or the recovery, each form
sent with its idempotency key and the service's refusal shown at the form; the pages are for no other role."""

from __future__ import annotations

import re

import httpx

from services.console import texts
from services.contracts.guarantee_funds import PayoutSource, PayoutStage, WriteOffBasis
from services.contracts.monitoring_events import WarningCheck, WarningLevel, WarningResolution

from .console_payout_services import form_fields, payouts_console, requests_sent, sign_in


def test_every_payout_stage_source_and_warning_has_its_chinese_name() -> None:
    assert {s.value for s in PayoutStage} == set(texts.PAYOUT_STAGES)
    assert {s.value for s in PayoutSource} == set(texts.PAYOUT_SOURCES)
    assert {b.value for b in WriteOffBasis} == set(texts.WRITE_OFF_BASES)
    assert {c.value for c in WarningCheck} == set(texts.WARNING_CHECKS)
    assert {lv.value for lv in WarningLevel} == set(texts.WARNING_LEVELS)
    assert {r.value for r in WarningResolution} == set(texts.WARNING_RESOLUTIONS)


def test_the_payouts_list_filters_and_pages_as_the_api() -> None:
    asked: list[httpx.Request] = []
    with payouts_console(asked, "county_inspector") as browser:
        sign_in(browser)
        listing = browser.get("/payouts", params={"stage": "requested", "source": "deposit", "county": "x"})
    assert listing.status_code == 200
    assert 'href="/payouts"' in listing.text and 'href="/funds"' in listing.text  # in the header
    assert 'href="/payouts/PO-REQUESTED"' in listing.text and "待市局审批" in listing.text
    assert "已批准，待银行支付" in listing.text and "动用工资保证金" in listing.text
    assert 'href="/payouts?stage=requested&amp;source=deposit&amp;cursor=NEXT"' in listing.text
    (listed,) = [r for r in asked if r.url.path == "/v1/payouts"]
    assert dict(listed.url.params) == {"limit": "50", "stage": "requested", "source": "deposit"}
    assert listed.headers["authorization"].startswith("Bearer ")


def test_the_city_office_decides_and_a_payout_not_covered_shows_the_services_message() -> None:
    asked: list[httpx.Request] = []
    with payouts_console(asked, "city_office") as browser:
        sign_in(browser)
        shown = browser.get("/payouts/PO-REQUESTED")
        approve = form_fields(shown.text, "/payouts/PO-REQUESTED/decision")
        refused = browser.post("/payouts/PO-REQUESTED/decision", data=approve)
        forms = re.findall(r'name="key" value="([0-9a-f]{32})"', shown.text)
        refusal = {**approve, "decision": "refuse", "key": forms[1], "reason": "总包单位承诺三日内自行支付"}
        done = browser.post("/payouts/PO-REQUESTED/decision", data=refusal)
        forged = browser.post("/payouts/PO-REQUESTED/decision", data={**refusal, "csrf": "forged"})
    assert shown.status_code == 200 and "批准动用" in shown.text and "不予动用" in shown.text
    assert "记录银行支付" not in shown.text  # requested: nothing to pay yet
    assert refused.status_code == 409 and "项目保证金可动用余额 2000.00 元，少于申请的 6000.00 元" in refused.text
    assert done.status_code == 303 and done.headers["location"] == "/payouts/PO-REQUESTED?done=refused"
    assert forged.status_code == 403
    assert requests_sent(asked) == [
        ("/v1/payouts/PO-REQUESTED/decision", {"decision": "approve", "reason": None}, approve["key"]),
        ("/v1/payouts/PO-REQUESTED/decision", {"decision": "refuse", "reason": "总包单位承诺三日内自行支付"}, forms[1]),
    ]


def test_the_county_records_the_banks_payment_and_the_top_up_or_the_recovery() -> None:
    asked: list[httpx.Request] = []
    with payouts_console(asked, "county_inspector") as browser:
        sign_in(browser)
        approved = browser.get("/payouts/PO-APPROVED")
        payment = form_fields(approved.text, "/payouts/PO-APPROVED/payment")
        paid = browser.post("/payouts/PO-APPROVED/payment", data={**payment, "paid_on": "2026-12-01"})
        drawn = browser.get("/payouts/PO-DRAWN")
        top_up = form_fields(drawn.text, "/payouts/PO-DRAWN/top-ups")
        browser.post("/payouts/PO-DRAWN/top-ups", data={**top_up, "topped_up_on": "2026-12-02", "amount": ""})
        advanced = browser.get("/payouts/PO-ADVANCED")
        recovery = form_fields(advanced.text, "/payouts/PO-ADVANCED/recoveries")
        browser.post(
            "/payouts/PO-ADVANCED/recoveries", data={**recovery, "recovered_on": "2026-12-03", "amount": "100.00"}
        )
    assert "批准动用" not in approved.text  # the city office's decision
    assert "记录补足保证金" not in approved.text and "记录银行支付" not in drawn.text  # a top-up once paid only
    assert "动用保证金" in approved.text and "6000.00" in approved.text  # the movement
    assert paid.status_code == 303 and paid.headers["location"] == "/payouts/PO-APPROVED?done=paid"
    assert "记录追回垫付款" in advanced.text and "记录银行支付" not in advanced.text
    assert "核销垫付款" not in advanced.text  # the city office's
    assert requests_sent(asked) == [
        ("/v1/payouts/PO-APPROVED/payment", {"paid_on": "2026-12-01"}, payment["key"]),
        ("/v1/payouts/PO-DRAWN/top-ups", {"topped_up_on": "2026-12-02", "amount": None}, top_up["key"]),
        ("/v1/payouts/PO-ADVANCED/recoveries", {"recovered_on": "2026-12-03", "amount": "100.00"}, recovery["key"]),
    ]


def test_the_city_office_writes_off_what_is_left_of_an_advance() -> None:
    asked: list[httpx.Request] = []
    with payouts_console(asked, "city_office") as browser:
        sign_in(browser)
        advanced = browser.get("/payouts/PO-ADVANCED")
        drawn = browser.get("/payouts/PO-DRAWN")
        form = form_fields(advanced.text, "/payouts/PO-ADVANCED/write-off")
        body = {**form, "basis": "bankruptcy_closed", "reason": "（2026）冀0403破12号 破产程序终结"}
        done = browser.post("/payouts/PO-ADVANCED/write-off", data=body)
    assert "核销垫付款" in advanced.text and "破产程序已终结" in advanced.text
    assert "核销垫付款" not in drawn.text  # a deposit is topped up, never written off
    assert done.status_code == 303 and done.headers["location"] == "/payouts/PO-ADVANCED?done=written_off"
    assert requests_sent(asked) == [
        (
            "/v1/payouts/PO-ADVANCED/write-off",
            {"basis": "bankruptcy_closed", "reason": "（2026）冀0403破12号 破产程序终结"},
            form["key"],
        )
    ]


def test_the_payout_pages_are_not_for_other_roles() -> None:
    with payouts_console([], "department") as browser:
        sign_in(browser)
        assert browser.get("/payouts").status_code == 404
        assert browser.get("/payouts/PO-REQUESTED").status_code == 404
        assert browser.get("/funds").status_code == 404
