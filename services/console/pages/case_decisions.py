"""What a case's process waits for a person to decide, as forms on the case page, and the bureau head's page of
the decisions waiting (移送审批).

A refused case whose arrears reach the criminal threshold waits for its case team's referral report (移送报告,
国务院令第310号 art. 5), then for the bureau head's decision; once referred and paid, an inspector may propose
to withdraw the referral and the bureau head decides. A complaint that joined after verification waits for
the inspector to confirm the case's totals anew; a deadline computed without the official calendar waits for
its date to be confirmed. The case's processes say what they wait for (the ledger keeps it from their
reports: `referral_approval`, `referral_withdrawal`, `unconfirmed_members`, a deadline's `provisional`), so
each form is shown only while its step is open, to the roles the cases API takes it from; the API still
judges every rule. Merging another case into this one and splitting complaints off are here too.

Each form posts here and goes to the cases API as the other case actions do (pages/case_actions.py `act`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from services.console import texts
from services.console.clients import service_get
from services.console.pages.case_actions import DONE, act, case_url, evidence_ref, form_text
from services.console.pages.cases import deadline_list
from services.console.sessions import Session
from services.console.web import NavItem, console_of, page, signed_in, templates

BUREAU_HEAD = "bureau_head"
CITY_OFFICE = "city_office"
# Who takes which step, as the cases API does: the case team (inspectors, the city office) reports, proposes
# and confirms; the bureau head decides.
ACTORS = frozenset({"county_inspector", CITY_OFFICE})
DECIDERS = frozenset({BUREAU_HEAD})

router = APIRouter()
NAV = [NavItem("/approvals/referrals", "移送审批", frozenset({BUREAU_HEAD, CITY_OFFICE}))]

DONE.update(
    {
        "referral_report": "移送报告已提交，等待负责人审批。",
        "referral_decision": "移送审批决定已记录。",
        "withdrawal": "撤回移送的提议已提交，等待负责人审批。",
        "withdrawal_decision": "撤回移送的审批决定已记录。",
        "figures": "案件金额与人数已重新确认。",
        "deadline": "期限日期已确认。",
        "merge": "合并已提交，案件稍后更新。",
        "split": "拆分已提交，新案件稍后出现在队列中。",
    }
)

SUBJECTIVE_ELEMENTS = {
    "transferred_assets": "以转移财产方式逃避支付",
    "absconded": "以逃匿方式逃避支付",
    "able_but_refused": "有能力支付而不支付",
}
APPROVAL_STATES = {
    "awaiting_report": "达到移送标准，待办案组提交移送报告",
    "awaiting_decision": "移送报告已提交，待负责人审批",
    "approved": "负责人已批准移送",
    "refused": "负责人不予批准移送",
    "moot": "已支付，无需移送",
}
WITHDRAWAL_STATES = {"pending": "撤回移送待负责人审批", "approved": "已批准撤回移送", "refused": "不予批准撤回移送"}
# What the bureau head's page lists: the cases API's `awaiting` filter, and what each waits for.
WAITING = {"referral_decision": "移送审批", "withdrawal_decision": "撤回移送审批"}


def open_steps(process: dict[str, Any]) -> dict[str, Any]:
    """What an open process waits for, read from its ledger row (the template shows a form for each)."""
    deadlines = deadline_list(process.get("deadlines"))
    return {
        "approval": process.get("referral_approval"),
        "approval_text": APPROVAL_STATES.get(process.get("referral_approval") or "", ""),
        "withdrawal": process.get("referral_withdrawal"),
        "withdrawal_text": WITHDRAWAL_STATES.get(process.get("referral_withdrawal") or "", ""),
        "unconfirmed": list(process.get("unconfirmed_members") or []),
        "provisional": [
            {
                "name": d["name"],
                "label": texts.deadline_name(d["name"]),
                "due_date": d.get("due_date"),
                "note": d.get("calendar_note"),
            }
            for d in deadlines
            if d.get("provisional") and d.get("outcome", "pending") == "pending"
        ],
    }


templates.env.globals.update(
    open_steps=open_steps, subjective_elements=SUBJECTIVE_ELEMENTS, decision_actors=ACTORS, decision_deciders=DECIDERS
)


def _with_process(form: FormData, body: dict[str, Any]) -> dict[str, Any]:
    """The body with the process it is about (a case holds more than one after a merge), and nothing empty."""
    body["process_case_id"] = form_text(form, "process_case_id")
    return {k: v for k, v in body.items() if v is not None}


def _approved(form: FormData) -> bool | None:
    return {"true": True, "false": False}.get(form_text(form, "approved") or "")


@router.post("/cases/{case_id}/referral-report", response_class=HTMLResponse)
async def referral_report(request: Request, case_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    async def build(form: FormData) -> tuple[str, Any]:
        team = [line.strip() for line in (form_text(form, "team") or "").splitlines() if line.strip()]
        ref = await evidence_ref(request, session, form, "evidence")
        body = {
            "team": team,
            "facts": form_text(form, "facts") or "",
            "subjective_element": form_text(form, "subjective_element") or "",
            "evidence": [{"kind": form_text(form, "evidence_kind") or "bank_record", "ref": ref}],
        }
        return case_url(request, case_id, "referral-report"), _with_process(form, body)

    return await act(request, session, case_id, "referral_report", "referral_report", build)


async def _decide(request: Request, session: Session, case_id: str, tail: str, done: str) -> Response:
    """The bureau head's decision (approve, or refuse with the reason) on what `tail` names."""

    async def build(form: FormData) -> tuple[str, Any]:
        body = {"approved": _approved(form), "reason": form_text(form, "reason")}
        return case_url(request, case_id, tail), _with_process(form, body)

    return await act(request, session, case_id, done, done, build)


@router.post("/cases/{case_id}/referral-report/decision", response_class=HTMLResponse)
async def referral_decision(
    request: Request, case_id: str, session: Annotated[Session, Depends(signed_in)]
) -> Response:
    return await _decide(request, session, case_id, "referral-report/decision", "referral_decision")


@router.post("/cases/{case_id}/referral-withdrawal", response_class=HTMLResponse)
async def withdrawal(request: Request, case_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    async def build(form: FormData) -> tuple[str, Any]:
        body = {"reason": form_text(form, "reason") or ""}
        return case_url(request, case_id, "referral-withdrawal"), _with_process(form, body)

    return await act(request, session, case_id, "withdrawal", "withdrawal", build)


@router.post("/cases/{case_id}/referral-withdrawal/decision", response_class=HTMLResponse)
async def withdrawal_decision(
    request: Request, case_id: str, session: Annotated[Session, Depends(signed_in)]
) -> Response:
    return await _decide(request, session, case_id, "referral-withdrawal/decision", "withdrawal_decision")


@router.post("/cases/{case_id}/figures", response_class=HTMLResponse)
async def figures(request: Request, case_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    async def build(form: FormData) -> tuple[str, Any]:
        body = {name: form_text(form, name) for name in ("confirmed_amount", "confirmed_workers", "notes")}
        body["confirmed_amount"] = body["confirmed_amount"] or ""
        body["confirmed_workers"] = body["confirmed_workers"] or ""
        return case_url(request, case_id, "figures"), _with_process(form, body)

    return await act(request, session, case_id, "figures", "figures", build)


@router.post("/cases/{case_id}/deadlines/{name}/confirmation", response_class=HTMLResponse)
async def deadline(
    request: Request, case_id: str, name: str, session: Annotated[Session, Depends(signed_in)]
) -> Response:
    async def build(form: FormData) -> tuple[str, Any]:
        body = {"note": form_text(form, "note")}
        return case_url(request, case_id, f"deadlines/{name}/confirmation"), _with_process(form, body)

    return await act(request, session, case_id, f"deadline:{name}", "deadline", build)


@router.post("/cases/{case_id}/merge", response_class=HTMLResponse)
async def merge(request: Request, case_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    async def build(form: FormData) -> tuple[str, Any]:
        body = {"case_id": form_text(form, "other_case_id") or "", "reason": form_text(form, "reason") or ""}
        return case_url(request, case_id, "merge"), body

    return await act(request, session, case_id, "merge", "merge", build)


@router.post("/cases/{case_id}/split", response_class=HTMLResponse)
async def split(request: Request, case_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    async def build(form: FormData) -> tuple[str, Any]:
        chosen = [v for v in form.getlist("complaint_ids") if isinstance(v, str) and v]
        return case_url(request, case_id, "split"), {"complaint_ids": chosen, "reason": form_text(form, "reason") or ""}

    return await act(request, session, case_id, "split", "split", build)


# -- the bureau head's page ---------------------------------------------------------------------------------


@router.get("/approvals/referrals", response_class=HTMLResponse)
async def waiting_decisions(request: Request, session: Annotated[Session, Depends(signed_in)]) -> Response:
    """The cases of the person's scope whose referral or its withdrawal waits for the bureau head, oldest
    deadline first; each opens on its case page, where the report is read and the decision made. The city
    office sees every county's (the bureau heads decide)."""
    if session.role not in NAV[0].roles:
        return page(request, "not_found.html", {"session": session}, 404)
    console = console_of(request)
    today = datetime.now(texts.CHINA).date()
    groups = []
    for awaiting, label in WAITING.items():
        listed = await service_get(
            console.client,
            f"{console.cases_url}/v1/cases",
            session.token,
            {"status": "open", "awaiting": awaiting, "limit": "200"},
        )
        groups.append(
            {
                "label": label,
                "rows": [texts.queue_row(c, today, console.calendar) for c in listed["items"]],
                "more": bool(listed.get("next_cursor")),
            }
        )
    return page(
        request, "approvals/referrals.html", {"session": session, "groups": groups, "decides": session.role in DECIDERS}
    )
