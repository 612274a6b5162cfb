"""The money that pays workers when an employer refuses (资金): each county's emergency fund (应急周转金 — its
reserve, what was advanced, recovered, still owed back and available) and its projects' wage deposits (lodged,
drawn, topped up, what the general contractors still owe back and what is left to draw), with the city's totals,
from the monitoring service's `GET /v1/funds`; and the city office's form that sets a county's reserve
(`PUT /v1/funds/{county}/reserve`).

Read with the person's token: the city office sees every county, a county's inspectors and bureau head their
own. The reserve is set by the city office alone (the service refuses anyone else, and a reserve below what the
county's employers still owe back, with its own message). Setting the same reserve again changes nothing, so
the form carries no idempotency key."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.clients import NotFound, Refused, service_get, service_send
from services.console.pages.payouts import CITY_OFFICE, KEEPERS
from services.console.sessions import Session
from services.console.web import NavItem, console_of, csrf_refused, page, signed_in

router = APIRouter()
NAV = [NavItem("/funds", "资金", KEEPERS)]

# The figures of `GET /v1/funds`, in the page's order (the API's names → the bureau's words).
FUND_FIGURES = {
    "reserve": "周转金规模",
    "advanced": "累计垫付",
    "recovered": "已追回",
    "outstanding": "待追回",
    "written_off": "已核销",
    "available": "可用余额",
    "advances_outstanding": "未结清垫付（笔）",
}
DEPOSIT_FIGURES = {
    "projects": "存储保证金项目（个）",
    "lodged": "保证金总额",
    "drawn": "累计动用",
    "topped_up": "已补足",
    "outstanding_top_ups": "待补足",
    "available": "可动用余额",
    "payouts_awaiting_top_up": "待补足动用（笔）",
}


def _not_found(request: Request, session: Session) -> HTMLResponse:
    return page(request, "payouts/not_found.html", {"session": session}, 404)


def _cells(part: dict[str, Any] | None, names: dict[str, str]) -> list[Any]:
    return [(part or {}).get(name, "—") for name in names]


def fund_rows(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per county: its name, whether its reserve is set, and its fund's and deposits' figures."""
    return [
        {
            "county": c["county"],
            "name": c.get("name") or c["county"],
            "reserve_set": bool(c["emergency_fund"].get("reserve_set")),
            "fund": _cells(c["emergency_fund"], FUND_FIGURES),
            "deposits": _cells(c["deposits"], DEPOSIT_FIGURES),
        }
        for c in answer.get("counties", [])
    ]


async def _funds_page(
    request: Request,
    session: Session,
    *,
    error: str = "",
    field_errors: dict[str, str] | None = None,
    sent: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    if session.role not in KEEPERS:
        return _not_found(request, session)
    console = console_of(request)
    answer = await service_get(console.client, f"{console.monitoring_url}/v1/funds", session.token)
    totals = answer.get("totals")
    return page(
        request,
        "funds/funds.html",
        {
            "session": session,
            "rows": fund_rows(answer),
            "totals": {
                "fund": _cells(totals.get("emergency_fund"), FUND_FIGURES),
                "deposits": _cells(totals.get("deposits"), DEPOSIT_FIGURES),
            }
            if totals
            else None,
            "fund_figures": list(FUND_FIGURES.values()),
            "deposit_figures": list(DEPOSIT_FIGURES.values()),
            "may_set_reserve": session.role == CITY_OFFICE,
            "reserve_set": request.query_params.get("reserve_set", ""),
            "error": error,
            "field_errors": field_errors or {},
            "sent": sent or {},
        },
        status,
    )


@router.get("/funds", response_class=HTMLResponse)
async def funds(request: Request, session: Annotated[Session, Depends(signed_in)]) -> Response:
    return await _funds_page(request, session)


@router.post("/funds/reserve", response_class=HTMLResponse)
async def set_reserve(
    request: Request,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    county: Annotated[str, Form(max_length=6)] = "",
    reserve: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """The city office sets a county's emergency-fund reserve; back to the page, or the page with the service's
    message (a reserve below what is owed back, an amount it does not read)."""
    if not session.csrf_matches(csrf):
        return csrf_refused()
    if session.role != CITY_OFFICE:
        return _not_found(request, session)
    sent = {"county": county, "reserve": reserve}
    if not county.isdigit() or len(county) != 6:
        return await _funds_page(request, session, error="请选择区县。", sent=sent, status=422)
    console = console_of(request)
    url = f"{console.monitoring_url}/v1/funds/{quote(county, safe='')}/reserve"
    try:
        await service_send(console.client, "PUT", url, session.token, json={"reserve": reserve.strip()})
    except NotFound:
        return await _funds_page(request, session, error=f"{county} 不是本市的区县。", sent=sent, status=404)
    except Refused as refused:
        return await _funds_page(
            request, session, error=refused.message, field_errors=refused.field_errors, sent=sent, status=refused.status
        )
    return RedirectResponse(f"/funds?reserve_set={county}", status_code=303)
