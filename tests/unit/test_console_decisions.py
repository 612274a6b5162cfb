"""The case page's block of what waits for a decision (templates/actions/decisions.html), rendered from a
case's processes as the ledger keeps them: each form shows while its step is open, to the roles the cases API
takes it from."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from services.console.pages import case_decisions  # noqa: F401 (registers the template's globals)
from services.console.web import templates


def _render(role: str, **process: Any) -> str:
    base = {
        "process_case_id": "C-1",
        "status": "open",
        "deadlines": [],
        "unconfirmed_members": [],
        "referral_approval": None,
        "referral_withdrawal": None,
    }
    case = {
        "case_id": "C-1",
        "status": "open",
        "stage": "refusal",
        "processes": [base | process],
        "complaints": [{"complaint_id": "TS-1", "amount_owed": "6000.00"}],
    }
    report = {
        "summary": "办案组提交涉嫌犯罪案件移送报告（王丽、刘强）",
        "detail": {"facts": "账户有足额资金而拒不支付", "subjective_element": "able_but_refused", "evidence": [{}]},
    }
    request = SimpleNamespace(state=SimpleNamespace())
    session = SimpleNamespace(role=role, csrf="token")
    return templates.get_template("actions/decisions.html").render(
        request=request, session=session, case=case, referral_report=report
    )


def test_the_report_is_the_case_teams_and_the_decision_the_bureau_heads() -> None:
    waiting = _render("county_inspector", referral_approval="awaiting_report")
    assert "提交涉嫌犯罪案件移送报告" in waiting and 'action="/cases/C-1/referral-report"' in waiting
    assert (
        "提交涉嫌犯罪案件移送报告" not in _render("bureau_head", referral_approval="awaiting_report").split("</ul>")[1]
    )
    deciding = _render("bureau_head", referral_approval="awaiting_decision")
    assert 'action="/cases/C-1/referral-report/decision"' in deciding and "账户有足额资金而拒不支付" in deciding
    assert "有能力支付而不支付" in deciding
    assert "/referral-report/decision" not in _render("county_inspector", referral_approval="awaiting_decision")
    assert "/referral-withdrawal/decision" in _render(
        "bureau_head", referral_approval="approved", referral_withdrawal="pending"
    )
    proposing = _render("county_inspector", referral_approval="approved")
    assert 'action="/cases/C-1/referral-withdrawal"' in proposing


def test_new_totals_and_provisional_dates_wait_for_the_inspector() -> None:
    provisional = {
        "name": "order.payment",
        "due_date": "2027-01-05",
        "outcome": "pending",
        "provisional": True,
        "calendar_note": "2027 年官方日历尚未录入",
    }
    page = _render("county_inspector", unconfirmed_members=["TS-2"], deadlines=[provisional])
    assert "TS-2" in page and 'action="/cases/C-1/figures"' in page
    assert 'action="/cases/C-1/deadlines/order.payment/confirmation"' in page and "2027 年官方日历尚未录入" in page
    met = {**provisional, "outcome": "met"}
    assert "/confirmation" not in _render("county_inspector", deadlines=[met])
    # Nothing waiting: no block, only merging and splitting.
    quiet = _render("county_inspector")
    assert "待决定事项" not in quiet and 'action="/cases/C-1/merge"' in quiet
    assert "/merge" not in _render("bureau_head")
