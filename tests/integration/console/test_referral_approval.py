"""A criminal referral's approval through the console on the real stack, as browsers without JavaScript use it:
a refused case over the threshold waits for its case team's report (the queue's 待办 filter finds it), an
inspector submits the report with its evidence through the case page (a team of one is refused with the API's
own message), the bureau head finds the case on 移送审批, reads the report on the case page and approves it;
the ledger follows each step, an inspector cannot open the bureau head's page, and a decision without the
CSRF token does nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from deploy.stack import Stack
from tests.integration.cases.conftest import Agencies
from tests.support.console_agencies import hidden_fields
from tests.support.console_forms import Browser, tiny_png
from tests.support.people import add_person

# The county of the development inspector the `agencies` fixture accepts and verifies with.
COUNTY = "130402"
FACTS = "逾期未支付，经查该单位账户有足额资金而拒不支付"


@pytest.fixture(scope="module")
def people(stack: Stack, console: str) -> dict[str, tuple[str, str]]:
    made = {role: add_person(stack, role, "--county", COUNTY) for role in ("county_inspector", "bureau_head")}
    return {role: (person_id, password) for role, (person_id, password, _) in made.items()}


def _approval(case: dict[str, Any]) -> set[str | None]:
    return {p.get("referral_approval") for p in case["processes"]}


def test_the_case_team_reports_and_the_bureau_head_approves_through_the_console(
    agencies: Agencies, console: str, people: dict[str, tuple[str, str]]
) -> None:
    a = agencies
    a.stack.start_processes(
        [
            "referrals-api",
            "referrals-relay",
            "referrals-worker",
            "sanctions-api",
            "sanctions-relay",
            "sanctions-worker",
        ],
        timeout=120,
    )
    case_id = a.served_over_the_threshold("ev-r-console")
    a.case_until(case_id, lambda c: "awaiting_report" in _approval(c), "the case waiting for its report", timeout=120)

    inspector = Browser(console, people["county_inspector"])
    queue = inspector.http.get("/queue", params={"awaiting": "referral_report"})
    assert queue.status_code == 200 and case_id in queue.text, queue.text
    page = inspector.http.get(f"/cases/{case_id}")
    assert "达到移送标准，待办案组提交移送报告" in page.text and "提交涉嫌犯罪案件移送报告" in page.text
    assert "批准移送公安机关" not in page.text  # the decision is the bureau head's
    report = f"/cases/{case_id}/referral-report"
    fields = {"facts": FACTS, "subjective_element": "able_but_refused", "evidence_kind": "bank_record"}

    def evidence() -> dict[str, Any]:
        return {"evidence": ("bank.png", tiny_png(), "image/png")}

    alone = inspector.submit(case_id, report, {**fields, "team": "王丽"}, files=evidence())
    assert alone.status_code == 422 and "未能提交" in alone.text, alone.text
    assert "awaiting_report" in _approval(a.case(case_id))
    sent = inspector.submit(case_id, report, {**fields, "team": "王丽\n刘强"}, files=evidence())
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == f"/cases/{case_id}?done=referral_report"
    a.case_until(
        case_id, lambda c: "awaiting_decision" in _approval(c), "the report waiting for a decision", timeout=60
    )

    # Only the bureau head's (and the city office's) page.
    assert inspector.http.get("/approvals/referrals").status_code == 404
    head = Browser(console, people["bureau_head"])
    waiting = head.http.get("/approvals/referrals")
    assert waiting.status_code == 200 and case_id in waiting.text, waiting.text
    case_page = head.http.get(f"/cases/{case_id}")
    assert FACTS in case_page.text and "有能力支付而不支付" in case_page.text, case_page.text
    decision = f"/cases/{case_id}/referral-report/decision"
    forged = head.http.post(
        decision,
        data={
            "approved": "true",
            "key": uuid.uuid4().hex,
            **{k: v for k, v in hidden_fields(case_page, decision).items() if k != "csrf"},
        },
    )
    assert forged.status_code == 403
    assert "awaiting_decision" in _approval(a.case(case_id))
    approved = head.submit(case_id, decision, {"approved": "true"})
    assert approved.status_code == 303, approved.text
    a.case_until(case_id, lambda c: "approved" in _approval(c), "the referral approved", timeout=60)
    assert case_id not in head.http.get("/approvals/referrals").text
