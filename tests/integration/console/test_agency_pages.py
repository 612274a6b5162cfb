"""The agencies' inboxes and the city office's pages on the real stack, as a browser without JavaScript uses them:
a department clerk finds the handoff the case process made, reads its letter and answers it with a file; another
department's clerk gets the not-found page for it; the city office reads the county's figures, refuses an
inspector's extension request with a reason and approves the next."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from deploy.stack import Stack
from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.agencies import agency_clients, wait_for
from tests.support.console_agencies import handed_off_to_housing, hidden_fields, signed_in_person
from tests.support.factories import seed

CHINA = timezone(timedelta(hours=8))


def test_a_department_clerk_answers_the_handoff_the_process_made_and_another_department_cannot_see_it(
    stack: Stack, console: str, agencies: Agencies, referrals: None
) -> None:
    case_id = handed_off_to_housing(agencies)
    with (
        signed_in_person(stack, console, "department", "--department", "housing") as housing,
        signed_in_person(stack, console, "department", "--department", "transport") as transport,
    ):

        def listed() -> str | None:
            inbox = housing.get("/inbox")
            assert inbox.status_code == 200, inbox.text
            found = re.search(
                r'<a href="/handoffs/([^"]+)">[^<]*</a></td>\s*<td>交办</td>\s*<td>' + case_id, inbox.text
            )
            return found.group(1) if found else None

        handoff_id = wait_for("the handoff in housing's console inbox", listed, timeout=90)
        inbox = housing.get("/inbox").text
        assert "剩余" in inbox and "个工作日" in inbox  # the countdown of a handoff due in working days
        assert '<a href="/inbox">收件箱</a>' in inbox  # the header's link for the role

        page = housing.get(f"/handoffs/{handoff_id}")
        assert page.status_code == 200, page.text
        assert "待签收" in page.text and "交办函" in page.text
        letter = re.search(r'href="(/letters/[^"]+\.pdf)"', page.text)
        assert letter, page.text
        pdf = housing.get(letter.group(1))
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")

        # Another department: not in its inbox; the page, the letter and the actions are the not-found page,
        # the very page a handoff that does not exist gives.
        assert handoff_id not in transport.get("/inbox").text
        other = transport.get(f"/handoffs/{handoff_id}")
        missing = transport.get("/handoffs/H-NO-SUCH-HANDOFF")
        assert other.status_code == missing.status_code == 404
        assert other.text == missing.text
        assert transport.get(letter.group(1)).status_code == 404
        forms = hidden_fields(page, f"/handoffs/{handoff_id}/acknowledgement")
        trespass = transport.post(
            f"/handoffs/{handoff_id}/acknowledgement",
            data={**forms, "csrf": hidden_fields(transport.get("/inbox"), "/sign-out")["csrf"]},
        )
        assert trespass.status_code == 404 and trespass.text == missing.text

        # Without the form's CSRF token nothing is done.
        forged = housing.post(f"/handoffs/{handoff_id}/acknowledgement", data={"key": forms["key"]})
        assert forged.status_code == 403
        assert "待签收" in housing.get(f"/handoffs/{handoff_id}").text

        acknowledged = housing.post(f"/handoffs/{handoff_id}/acknowledgement", data=forms)
        assert acknowledged.status_code == 303 and acknowledged.headers["location"] == f"/handoffs/{handoff_id}"
        page = housing.get(f"/handoffs/{handoff_id}")
        assert "已签收" in page.text

        # The API's own validation message comes back next to the form: a summary of one character.
        response_form = hidden_fields(page, f"/handoffs/{handoff_id}/response")
        too_short = housing.post(
            f"/handoffs/{handoff_id}/response", data={**response_form, "outcome": "resolved", "summary": "好"}
        )
        assert too_short.status_code == 422 and 'class="error"' in too_short.text
        assert "已签收" in housing.get(f"/handoffs/{handoff_id}").text

        scan = "办理结果：已督促建设单位将工程款拨付至农民工工资专用账户".encode()
        responded = housing.post(
            f"/handoffs/{handoff_id}/response",
            data={**response_form, "outcome": "resolved", "summary": "已约谈建设单位，工程款已拨付"},
            files=[("files", ("办理结果.pdf", scan, "application/pdf"))],
        )
        assert responded.status_code == 303, responded.text
        page = housing.get(f"/handoffs/{handoff_id}")
        assert "已反馈" in page.text and "问题已解决" in page.text and "办理结果.pdf" in page.text
        file_link = re.search(r'href="(/handoffs/' + re.escape(handoff_id) + r'/files/[^"]+)"', page.text)
        assert file_link, page.text
        download = housing.get(file_link.group(1))
        assert download.status_code == 200 and download.content == scan
        assert "/response" not in page.text  # answered: no more answer forms
        assert transport.get(file_link.group(1)).status_code == 404


def test_an_arbitration_clerk_decides_the_referral_in_their_inbox_and_the_police_cannot_see_it(
    stack: Stack, console: str, agencies: Agencies, referrals: None, agency_token: Callable[[str], str]
) -> None:
    _, case_id = agencies.accepted_case(complaint_body(seed()))
    inspector = agency_clients(stack, agency_token)("referrals-api", "inspector-130402")
    with inspector:
        wait_for(
            "the case in the referrals read model",
            lambda: inspector.get("/v1/case-facts", params={"case_id": case_id}).status_code == 200,
            timeout=90,
        )
        made = inspector.post(
            "/v1/fast-track-referrals",
            headers={"Idempotency-Key": f"console-arb-{case_id}"},
            json={"case_id": case_id, "target": "arbitration", "basis": "劳动争议，申请仲裁速裁"},
        )
    assert made.status_code == 201, made.text
    referral_id = made.json()["id"]
    with (
        signed_in_person(stack, console, "arbitration") as arbitration,
        signed_in_person(stack, console, "police") as police,
    ):
        inbox = arbitration.get("/inbox")
        assert inbox.status_code == 200 and f'href="/referrals/{referral_id}"' in inbox.text, inbox.text
        assert "待决定" in inbox.text
        page = arbitration.get(f"/referrals/{referral_id}")
        assert page.status_code == 200 and "劳动争议，申请仲裁速裁" in page.text, page.text
        assert "仲裁速裁转办单" in page.text  # the referral's letter
        form = hidden_fields(page, f"/referrals/{referral_id}/decision")

        # The police: not in their inbox, and the page and the decision are the not-found page.
        assert referral_id not in police.get("/inbox").text
        missing = police.get("/referrals/R-NO-SUCH-REFERRAL")
        other = police.get(f"/referrals/{referral_id}")
        assert other.status_code == missing.status_code == 404 and other.text == missing.text
        police_csrf = hidden_fields(police.get("/inbox"), "/sign-out")["csrf"]
        trespass = police.post(
            f"/referrals/{referral_id}/decision", data={**form, "csrf": police_csrf, "decision": "accepted"}
        )
        assert trespass.status_code == 404 and trespass.text == missing.text

        # A refusal without its reason: the API's message on the page, nothing decided.
        bare = arbitration.post(f"/referrals/{referral_id}/decision", data={**form, "decision": "declined"})
        assert bare.status_code == 422 and 'class="error"' in bare.text, bare.text
        assert "待决定" in arbitration.get(f"/referrals/{referral_id}").text
        accepted = arbitration.post(
            f"/referrals/{referral_id}/decision",
            data={**form, "decision": "accepted", "decision_ref": "邯劳人仲案字〔2026〕7号"},
        )
        assert accepted.status_code == 303, accepted.text
        page = arbitration.get(f"/referrals/{referral_id}")
        assert "已受理" in page.text and "邯劳人仲案字〔2026〕7号" in page.text
        assert f'action="/referrals/{referral_id}/decision"' not in page.text


def _county_row(page: str, section: str, county: str) -> list[str]:
    """The figures of `county` in the dashboard section titled `section` (今日, 本周, 本季度)."""
    block = page.split(f"<h2>{section}（", 1)[1].split("</section>", 1)[0]
    row = re.search(r'<th scope="row">' + county + r"<small>[^<]*</small></th>(.*?)</tr>", block, re.S)
    assert row, block
    return re.findall(r"<td>([^<]*)</td>", row.group(1))


def test_the_city_office_reads_a_countys_figures_and_approves_an_extension(
    stack: Stack, console: str, agencies: Agencies
) -> None:
    _, case_id = agencies.accepted_case(complaint_body(seed()))
    today = datetime.now(CHINA).date().isoformat()
    produced = agencies.city.post("/v1/reports", json={"kind": "daily", "period": today})
    assert produced.status_code == 201, produced.text
    with (
        signed_in_person(stack, console, "city_office") as city,
        signed_in_person(stack, console, "county_inspector", "--county", "130402") as inspector,
    ):
        dashboard = city.get("/city", params={"county": "130402"})
        assert dashboard.status_code == 200, dashboard.text
        # The page's figures are the statistics API's, for the county with the filed complaint.
        daily = agencies.city.get("/v1/statistics", params={"period": "daily"}).json()
        api_row = next(r for r in daily["rows"] if r["level"] == "county" and r["area"] == "130402")
        cells = _county_row(dashboard.text, "今日", "130402")
        assert cells[:4] == [str(api_row[f]) for f in ("clues_received", "accepted", "resolved", "resolved_on_time")]
        assert cells[5] == api_row["amount_recovered"]
        assert api_row["clues_received"] >= 1 and api_row["accepted"] >= 1
        assert "本周（" in dashboard.text and "本季度（" in dashboard.text and "逾期案件" in dashboard.text
        chart = re.search(r'<img src="(/city/reports/[^"]+/chart\.png)"', dashboard.text)
        assert chart, dashboard.text
        png = city.get(chart.group(1))
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert png.content.startswith(b"\x89PNG")
        # The dashboard and the approvals are the city office's: an inspector gets the not-found page.
        assert inspector.get("/city").status_code == 404
        assert inspector.get("/city/approvals").status_code == 404
        assert "延期审批" in dashboard.text and "延期审批" not in inspector.get("/queue").text

        # A first request refused with a reason (without one, the API's message comes back next to the form).
        requested = agencies.act(
            agencies.inspector, f"/v1/cases/{case_id}/extension-requests", {"reason": "需要延期"}, until=201
        )
        assert requested.status_code == 201, requested.text
        approvals = city.get("/city/approvals")
        refusal = hidden_fields(approvals, f"/city/approvals/{case_id}/refusal")
        no_reason = city.post(f"/city/approvals/{case_id}/refusal", data=refusal)
        assert no_reason.status_code == 422 and 'class="error"' in no_reason.text and case_id in no_reason.text
        refused = city.post(f"/city/approvals/{case_id}/refusal", data={**refusal, "reason": "理由不充分，请写明原因"})
        assert refused.status_code == 303, refused.text
        after = city.get(refused.headers["location"])
        assert "已不予批准" in after.text and f'action="/city/approvals/{case_id}"' not in after.text

        requested = agencies.act(
            agencies.inspector,
            f"/v1/cases/{case_id}/extension-requests",
            {"reason": "涉及人数多，需调取考勤记录"},
            until=201,
        )
        assert requested.status_code == 201, requested.text
        approvals = city.get("/city/approvals")
        assert approvals.status_code == 200 and case_id in approvals.text
        assert "涉及人数多，需调取考勤记录" in approvals.text
        form = hidden_fields(approvals, f"/city/approvals/{case_id}")
        approved = city.post(f"/city/approvals/{case_id}", data={**form, "reason": "同意延长三十个工作日"})
        assert approved.status_code == 303, approved.text
        # The same form again (a double click, a reload): the service answers the first approval again.
        again = city.post(f"/city/approvals/{case_id}", data={**form, "reason": "同意延长三十个工作日"})
        assert again.status_code == 303, again.text
        after = city.get(approved.headers["location"])
        assert "已批准案件" in after.text and f'action="/city/approvals/{case_id}"' not in after.text

    case = agencies.case_until(case_id, lambda c: c["processes"][0]["extension_approved"], "the extension approved")
    assert [e["status"] for e in case["extension_requests"]] == ["refused", "approved"]

    def approval_in_timeline() -> dict[str, Any] | None:
        # The timeline is written from the case's events, which may reach the ledger after its snapshot.
        timeline = agencies.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]
        return next((e for e in timeline if e["type"] == "case.extension_approved"), None)

    approval = wait_for("the approval in the case's timeline", approval_in_timeline, timeout=60)
    # Approved as the signed-in person, through the cases API with their own token.
    assert str(approval["actor"]).startswith("person:"), approval
