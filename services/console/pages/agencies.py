"""The agencies' inbox (收件箱): what was handed or referred to the departments, the police, the procuratorate,
arbitration and legal aid, with due dates; and what a handoff's page (pages/handoffs.py) and a referral's page
(pages/referrals.py) share with it: the names of statuses and letters, a row's countdown, the not-found page,
the letters' and files' pass-through.

A department clerk's inbox is the referrals service's handoffs of their department; the receiving bodies' is
its referrals to their body. The service scopes both lists and answers 404 for anything outside the person's
scope, so a handoff or referral of another agency shows the same not-found page as one that does not exist.
Letters and response files are passed through from the service with the person's token."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from services.console import texts
from services.console.clients import TokenExpired, service_get
from services.console.sessions import Session
from services.console.web import NavItem, console_of, page, signed_in

if TYPE_CHECKING:
    from services.console.app import Console

router = APIRouter()

DEPARTMENT = "department"
RECEIVERS = frozenset({"police", "procuratorate", "arbitration", "legal_aid"})
NAV = [NavItem("/inbox", "收件箱", frozenset({DEPARTMENT, *RECEIVERS}))]

HANDOFF_STATUSES = {"sent": "待签收", "acknowledged": "已签收", "responded": "已反馈", "returned": "已退回"}
REFERRAL_STATUSES = {"sent": "待决定", "accepted": "已受理", "declined": "不予受理", "withdrawn": "已撤回"}
LETTER_KINDS = {
    "handoff": "交办函",
    "reminder": "催办函",
    "supervision": "督办函",
    "warning_letter": "警示函",
    "accountability_recommendation": "问责建议函",
    "accountability_transfer": "问责移交单",
    "issue_transfer": "问题移交单",
    "criminal_referral": "涉嫌犯罪案件移送书",
    "procuratorate_request": "商请提前介入函",
    "arbitration_referral": "仲裁速裁转办单",
    "legal_aid_referral": "法律援助转介函",
    "supplementary_notice": "补充材料函",
}


def _countdown(row: dict[str, Any], console: Console, done: bool) -> dict[str, Any]:
    """Due date, working days left and overdue (red) of an open handoff or referral; only the date once done."""
    today = datetime.now(texts.CHINA).date()
    days = None if done else texts.working_days_left(row.get("due_at"), today, console.calendar)
    return {
        "due_date": row.get("due_date") or "—",
        "countdown": "—" if done else texts.countdown(days),
        "overdue": days is not None and days < 0,
    }


def handoff_row(row: dict[str, Any], console: Console) -> dict[str, Any]:
    done = row.get("status") in ("responded", "returned")
    return {
        **row,
        **_countdown(row, console, done),
        "href": f"/handoffs/{row['handoff_id']}",
        "kind": "交办",
        "ref": row["handoff_id"],
        "status_name": HANDOFF_STATUSES.get(row.get("status", ""), row.get("status")),
    }


def referral_row(row: dict[str, Any], console: Console) -> dict[str, Any]:
    done = row.get("status") != "sent"
    return {
        **row,
        **_countdown(row, console, done),
        "href": f"/referrals/{row['referral_id']}",
        "kind": "移送",
        "ref": row["referral_id"],
        "status_name": REFERRAL_STATUSES.get(row.get("status", ""), row.get("status")),
    }


def letter_list(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**letter, "kind_name": LETTER_KINDS.get(letter.get("kind", ""), letter.get("kind", ""))} for letter in rows
    ]


def not_found_page(request: Request, session: Session) -> HTMLResponse:
    # Missing, or another agency's: the same page either way, as the service answers the same 404.
    return page(request, "agencies/not_found.html", {"session": session}, 404)


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(request: Request, session: Annotated[Session, Depends(signed_in)], status: str = "") -> Response:
    console = console_of(request)
    if session.role == DEPARTMENT:
        params = {"limit": "200", **({"status": status} if status in HANDOFF_STATUSES else {})}
        listed = await service_get(console.client, f"{console.referrals_url}/v1/handoffs", session.token, params)
        rows = [handoff_row(r, console) for r in listed["items"]]
        statuses = HANDOFF_STATUSES
    elif session.role in RECEIVERS:
        params = {"limit": "200", **({"status": status} if status in REFERRAL_STATUSES else {})}
        listed = await service_get(console.client, f"{console.referrals_url}/v1/referrals", session.token, params)
        rows = [referral_row(r, console) for r in listed["items"]]
        statuses = REFERRAL_STATUSES
    else:
        return not_found_page(request, session)
    # Open items by due date first (overdue on top), then what is answered.
    rows.sort(key=lambda r: (r["countdown"] == "—", str(r.get("due_at") or "9999")))
    return page(
        request, "agencies/inbox.html", {"session": session, "rows": rows, "status": status, "statuses": statuses}
    )


async def pass_through(request: Request, session: Session, url: str) -> Response:
    """A file of the service (a letter's PDF, a response's file) as the service sent it, with the person's token."""
    console = console_of(request)
    answer = await console.client.get(url, headers={"Authorization": f"Bearer {session.token}"})
    if answer.status_code == 404:
        return not_found_page(request, session)
    if answer.status_code == 401:
        raise TokenExpired(url)
    answer.raise_for_status()
    kept = {
        name: answer.headers[name]
        for name in ("content-type", "content-disposition", "x-content-sha256", "x-content-type-options")
        if name in answer.headers
    }
    return Response(answer.content, headers=kept)


@router.get("/letters/{letter_id}.pdf")
async def letter_pdf(request: Request, letter_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    console = console_of(request)
    return await pass_through(request, session, f"{console.referrals_url}/v1/letters/{quote(letter_id, safe='')}/pdf")
