"""On a case's page: the inspector's (or the bureau head's) request to have a refused case's workers paid from the
project's wage deposit or with an advance from the county's emergency fund (`POST /v1/cases/{id}/payouts` of the
cases API: `source`, `amount`, `workers_paid`, `project_id` for the deposit). The form shows only while the case
is open in its refusal stage, to the roles the cases API takes it from; the case's process judges the rest (more
than the wages still owed that no payout covers, a project not in the register) and its refusal is shown at the
form. The city office then approves the payout on its own page (pages/payouts.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from services.console import texts
from services.console.pages.case_actions import act, case_url, form_text
from services.console.pages.payouts import KEEPERS
from services.console.sessions import Session
from services.console.web import NavItem, signed_in, templates

router = APIRouter()
NAV: list[NavItem] = []

# The cases API's deciders of a payout (services/cases/payout_api.py `DECIDERS`), once the order went unpaid.
PAYOUT_REQUESTERS = frozenset({"county_inspector", "bureau_head"})
PAYOUT_STAGES = frozenset({"refusal"})

templates.env.globals.update(
    payout_requesters=PAYOUT_REQUESTERS,
    payout_stages=PAYOUT_STAGES,
    payout_sources=texts.PAYOUT_SOURCES,
    # Who may open a payout's own page (the monitoring API's readers of payouts).
    payout_keepers=KEEPERS,
)


@router.post("/cases/{case_id}/payouts", response_class=HTMLResponse)
async def request_payout(request: Request, case_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    async def build(form: FormData) -> tuple[str, Any]:
        source = form_text(form, "source") or ""
        body = {
            "source": source,
            "amount": form_text(form, "amount") or "",
            "workers_paid": form_text(form, "workers_paid") or "",
            # The project is the deposit's; an advance names none (the fund is the county's).
            "project_id": form_text(form, "project_id") if source == "deposit" else None,
        }
        return case_url(request, case_id, "payouts"), {k: v for k, v in body.items() if v is not None}

    return await act(request, session, case_id, "payout", "payout", build)
