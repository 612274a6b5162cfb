"""HTTP routes of the cases service: thin, HTTP in, domain call, store, workflow call out.

- `/v1/notices`, `/v1/forwardings`, `/v1/orders`, `/v1/compensation-decisions`, `/v1/process-reports`:
  what the lifecycle's activities ask for or report, idempotent by `Idempotency-Key`.
- `/v1/complaints/{id}/...` and `/v1/cases/{id}/...`: inspector actions, answered at once.
- `/v1/cases`, `/v1/cases/{id}`, `/v1/cases/{id}/timeline`: the ledger, its queue and timelines.
- `/v1/statistics`, `/v1/reports`: figures, CSV and charts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from stdnum.cn import uscc

from services.cases import domain, figure_actions, referral_actions, regrouping, reports, store, views
from services.cases.actions import Cases
from services.common.auth import LIFECYCLE_CALLER, Principal, Role, require_roles
from services.common.openapi import (
    CREATED_OR_REPEATED,
    created_or_repeated,
    file_responses,
    idempotency_key,
)
from services.common.problems import Problem
from services.contracts.lifecycle import (
    AcceptanceDecisionKind,
    AgencyNotice,
    ClosureReason,
    CompensationRequest,
    Evidence,
    ForwardRequest,
    OrderToPayRequest,
    PaymentPurpose,
    RejectionReason,
    Satisfaction,
    ServiceMethod,
    SubjectiveElement,
    VerificationOutcome,
)
from services.contracts.process_reports import ProcessReport

router = APIRouter(prefix="/v1")

READERS = require_roles(*domain.READ_ROLES)
ACTORS = require_roles(*domain.ACT_ROLES)
CITY = require_roles(Role.city_office)
BUREAU_HEAD = require_roles(Role.bureau_head)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def cases(request: Request) -> Cases:
    return request.app.state.cases  # type: ignore[no-any-return]


async def once(
    request: Request, key: str | None, act: Callable[[Cases], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """An inspector action; with an Idempotency-Key already used, the answer it got the first time."""
    commands = cases(request)
    repeated = await commands.repeated_action(key)
    return repeated if repeated is not None else await act(commands)


# --- the lifecycle's requests --------------------------------------------------------------------------


@router.post("/notices", responses=CREATED_OR_REPEATED, tags=["lifecycle"], dependencies=[LIFECYCLE_CALLER], summary="Record a notice to an office (reminder, overdue, warning)")
async def post_notice(request: Request, notice: AgencyNotice, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await cases(request).notice(idempotency_key(key), notice))


@router.post("/process-reports", responses=CREATED_OR_REPEATED, tags=["lifecycle"], dependencies=[LIFECYCLE_CALLER], summary="Record a workflow's state as it reported it (one report per change)")
async def post_process_report(request: Request, body: ProcessReport, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await cases(request).process_report(idempotency_key(key), body))


@router.post("/forwardings", responses=CREATED_OR_REPEATED, tags=["lifecycle"], dependencies=[LIFECYCLE_CALLER], summary="Forward a complaint to the competent office (转送)")
async def post_forwarding(request: Request, body: ForwardRequest, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await cases(request).forwarding(idempotency_key(key), body))


@router.post("/orders", responses=CREATED_OR_REPEATED, tags=["lifecycle"], dependencies=[LIFECYCLE_CALLER], summary="Issue an order to pay by a deadline (限期改正指令书)")
async def post_order(request: Request, body: OrderToPayRequest, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await cases(request).order(idempotency_key(key), body))


@router.post("/compensation-decisions", responses=CREATED_OR_REPEATED, tags=["lifecycle"], dependencies=[LIFECYCLE_CALLER], summary="Decide additional compensation (加付赔偿金)")
async def post_compensation(request: Request, body: CompensationRequest, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await cases(request).compensation(idempotency_key(key), body))


# --- inspector actions -----------------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AcceptanceBody(_Body):
    decision: AcceptanceDecisionKind
    reason: RejectionReason | None = None
    explanation: str | None = Field(None, max_length=2000)
    missing_items: list[str] = Field(default_factory=list, max_length=50)
    forward_to: str | None = Field(None, max_length=100, description="Code of the competent office.")


class CallbackBody(_Body):
    satisfaction: Satisfaction
    notes: str | None = Field(None, max_length=2000)


class CaseActionBody(_Body):
    process_case_id: str | None = Field(
        None, description="Only for a merged case holding several case processes: the one acted on."
    )

    def contract_fields(self) -> dict[str, Any]:
        return self.model_dump(exclude={"process_case_id"}, exclude_none=True)


class VerificationBody(CaseActionBody):
    outcome: VerificationOutcome
    department: str | None = Field(None, max_length=100)
    confirmed_amount: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    confirmed_workers: int | None = Field(None, ge=1)
    notes: str | None = Field(None, max_length=2000)


class ServiceBody(CaseActionBody):
    method: ServiceMethod
    evidence: list[Evidence] = Field(min_length=1, max_length=20)
    served_at: datetime | None = None


class PaymentBody(CaseActionBody):
    payment_id: str = Field(min_length=1, max_length=64)
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    evidence: list[Evidence] = Field(min_length=1, max_length=20)
    # The date on the payment's evidence: it, not the time of recording, decides whether the order was met.
    paid_at: AwareDatetime | None = None
    purpose: PaymentPurpose = Field(PaymentPurpose.WAGES, description="wages, or the additional compensation.")


class ReferralReportBody(CaseActionBody):
    team: list[str] = Field(min_length=2, max_length=10, description="The case team's officers (at least two).")
    facts: str = Field(min_length=10, max_length=4000)
    subjective_element: SubjectiveElement
    evidence: list[Evidence] = Field(min_length=1, max_length=20)


class ReferralDecisionBody(CaseActionBody):
    approved: bool
    reason: str | None = Field(None, min_length=2, max_length=2000, description="Required when refusing.")


class WithdrawalProposalBody(CaseActionBody):
    reason: str = Field(min_length=2, max_length=2000)


class DeadlineConfirmationBody(CaseActionBody):
    note: str | None = Field(None, max_length=500, description="How the date was confirmed.")


class FiguresBody(CaseActionBody):
    confirmed_amount: Decimal = Field(ge=0, max_digits=14, decimal_places=2,
                                      description="The whole case's wages owed, as verified now.")
    confirmed_workers: int = Field(ge=1, description="The whole case's workers owed wages, as verified now.")
    notes: str | None = Field(None, max_length=2000)


class ClosureBody(CaseActionBody):
    reason: ClosureReason
    notes: str | None = Field(None, max_length=2000)


class ExtensionRequestBody(CaseActionBody):
    reason: str = Field(min_length=2, max_length=2000)


class ExtensionApprovalBody(CaseActionBody):
    reason: str | None = Field(None, min_length=2, max_length=2000)


class AssignmentBody(_Body):
    inspector: str = Field(min_length=1, max_length=64, description="Agency client id of the inspector.")


class PartyBody(_Body):
    role: Literal["general_contractor", "subcontractor", "project_owner"]
    name: str = Field(min_length=2, max_length=200)
    credit_code: str | None = Field(None, description="Unified social credit code (18 characters, checked).")

    @field_validator("credit_code")
    @classmethod
    def _valid_code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        if not uscc.is_valid(code):
            raise ValueError("not a valid unified social credit code (统一社会信用代码)")
        return code


class PartiesBody(_Body):
    contractors: list[PartyBody] = Field(max_length=50)


class MergeBody(_Body):
    case_id: str = Field(description="The case merged into this one.")
    reason: str = Field(min_length=2, max_length=2000)


class SplitBody(_Body):
    complaint_ids: list[str] = Field(min_length=1, max_length=500)
    reason: str = Field(min_length=2, max_length=2000)


@router.post("/complaints/{complaint_id}/acceptance", tags=["actions"],
             summary="Accept, reject, request more information or forward (受理决定)")
async def decide_acceptance(
    request: Request, complaint_id: str, body: AcceptanceBody, key: IdempotencyKey = None,
    principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(request, key, lambda commands: commands.decide_acceptance(principal, complaint_id, body.model_dump(exclude_none=True), key))


@router.post("/complaints/{complaint_id}/callback", tags=["actions"], summary="Record the call-back (回访)")
async def record_callback(
    request: Request, complaint_id: str, body: CallbackBody, key: IdempotencyKey = None,
    principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(request, key, lambda commands: commands.record_callback(principal, complaint_id, body.model_dump(exclude_none=True), key))


@router.post("/cases/{case_id}/verification", tags=["actions"], summary="Record the verification outcome (核实)")
async def record_verification(
    request: Request, case_id: str, body: VerificationBody, key: IdempotencyKey = None, principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(request, key, lambda commands: commands.record_verification(principal, case_id, body.contract_fields(), body.process_case_id, key))


@router.post("/cases/{case_id}/service", tags=["actions"], summary="Record service of the order, with evidence (送达)")
async def record_service(
    request: Request, case_id: str, body: ServiceBody, key: IdempotencyKey = None, principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(request, key, lambda commands: commands.record_service(principal, case_id, body.contract_fields(), body.process_case_id, key))


@router.post("/cases/{case_id}/payments", tags=["actions"], summary="Record a payment, with evidence")
async def record_payment(
    request: Request, case_id: str, body: PaymentBody, key: IdempotencyKey = None, principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(request, key, lambda commands: commands.record_payment(principal, case_id, body.contract_fields(), body.process_case_id, key))


@router.post("/cases/{case_id}/referral-report", tags=["actions"],
             summary="Submit the case team's criminal referral report for the bureau head's approval (移送报告)")
async def submit_referral_report(
    request: Request, case_id: str, body: ReferralReportBody, key: IdempotencyKey = None,
    principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(request, key, lambda commands: referral_actions.submit_referral_report(
        commands, principal, case_id, body.contract_fields(), body.process_case_id, key))


@router.post("/cases/{case_id}/referral-report/decision", tags=["actions"],
             summary="Approve or refuse the criminal referral (the bureau head, within 3 days)")
async def decide_referral(
    request: Request, case_id: str, body: ReferralDecisionBody, key: IdempotencyKey = None,
    principal: Principal = BUREAU_HEAD,
) -> dict[str, Any]:
    return await once(request, key, lambda commands: referral_actions.decide_referral(
        commands, principal, case_id, body.contract_fields(), body.process_case_id, key))


@router.post("/cases/{case_id}/referral-withdrawal", tags=["actions"],
             summary="Propose to withdraw the police referral (wages and compensation paid, the police not decided)")
async def propose_referral_withdrawal(
    request: Request, case_id: str, body: WithdrawalProposalBody, key: IdempotencyKey = None,
    principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(request, key, lambda commands: referral_actions.propose_withdrawal(
        commands, principal, case_id, body.contract_fields(), body.process_case_id, key))


@router.post("/cases/{case_id}/referral-withdrawal/decision", tags=["actions"],
             summary="Approve or refuse the proposed withdrawal of the police referral (the bureau head)")
async def decide_referral_withdrawal(
    request: Request, case_id: str, body: ReferralDecisionBody, key: IdempotencyKey = None,
    principal: Principal = BUREAU_HEAD,
) -> dict[str, Any]:
    return await once(request, key, lambda commands: referral_actions.decide_withdrawal(
        commands, principal, case_id, body.contract_fields(), body.process_case_id, key))


@router.post("/cases/{case_id}/deadlines/{name}/confirmation", tags=["actions"],
             summary="Confirm the date of a provisional deadline whose expiry waits for it (e.g. the order's)")
async def confirm_deadline(
    request: Request, case_id: str, name: str, body: DeadlineConfirmationBody, key: IdempotencyKey = None,
    principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(request, key, lambda commands: referral_actions.confirm_deadline(
        commands, principal, case_id, name, body.contract_fields(), body.process_case_id, key))


@router.post("/cases/{case_id}/figures", tags=["actions"],
             summary="Confirm the case's totals anew after a complaint joined it (an amended order follows if more)")
async def confirm_figures(
    request: Request, case_id: str, body: FiguresBody, key: IdempotencyKey = None, principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(request, key, lambda commands: figure_actions.confirm_figures(
        commands, principal, case_id, body.contract_fields(), body.process_case_id, key))


@router.post("/cases/{case_id}/closure", tags=["actions"], summary="Close the case with a reason")
async def close_case(
    request: Request, case_id: str, body: ClosureBody, key: IdempotencyKey = None, principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(request, key, lambda commands: commands.close_case(principal, case_id, body.contract_fields(), body.process_case_id, key))


@router.post("/cases/{case_id}/extension-requests", tags=["actions"], status_code=201,
             summary="Request a 30-working-day extension of the investigation limit")
async def request_extension(
    request: Request, case_id: str, body: ExtensionRequestBody, key: IdempotencyKey = None,
    principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(request, key, lambda commands: commands.request_extension(principal, case_id, body.reason, body.process_case_id, key))


@router.post("/cases/{case_id}/extension-requests/approval", tags=["actions"],
             summary="Approve the pending extension request (city office)")
async def approve_extension(
    request: Request, case_id: str, body: ExtensionApprovalBody, key: IdempotencyKey = None,
    principal: Principal = CITY,
) -> dict[str, Any]:
    return await once(request, key, lambda commands: commands.approve_extension(principal, case_id, body.reason, body.process_case_id, key))


@router.post("/cases/{case_id}/assignment", tags=["actions"], summary="Assign the inspector handling the case")
async def assign(request: Request, case_id: str, body: AssignmentBody, principal: Principal = ACTORS) -> dict[str, Any]:
    return await cases(request).assign(principal, case_id, body.inspector)


@router.put("/cases/{case_id}/parties", tags=["actions"],
            summary="Record the contractors and project owner (总包/分包/建设单位) of the case")
async def record_parties(request: Request, case_id: str, body: PartiesBody, principal: Principal = ACTORS) -> dict[str, Any]:
    return await cases(request).record_parties(principal, case_id, [p.model_dump() for p in body.contractors])


@router.post("/cases/{case_id}/merge", tags=["ledger"], status_code=202,
             summary="Merge another case into this one (the other id becomes an alias; its processes not yet "
                     "verified move their complaints into this case's)")
async def merge(request: Request, case_id: str, body: MergeBody, principal: Principal = ACTORS) -> dict[str, Any]:
    return await regrouping.merge(cases(request), principal, case_id, body.case_id, body.reason)


@router.post("/cases/{case_id}/split", tags=["ledger"], status_code=202,
             summary="Split complaints off this case into a case of their own")
async def split(request: Request, case_id: str, body: SplitBody, principal: Principal = ACTORS) -> dict[str, Any]:
    return await regrouping.split(cases(request), principal, case_id, body.complaint_ids, body.reason)


# --- the ledger -------------------------------------------------------------------------------------------


def _case_view(row: dict[str, Any]) -> dict[str, Any]:
    view = dict(row)
    for name in ("amount_claimed", "amount_verified", "amount_recovered"):
        if view.get(name) is not None:
            view[name] = str(view[name])
    return view


@router.get("/cases", tags=["ledger"], summary="The queue: cases filtered, sorted by next deadline, paged by cursor")
async def list_cases(
    request: Request,
    county: str | None = None,
    stage: Annotated[str | None, Query(description="One of " + ", ".join(domain.LEDGER_STAGES))] = None,
    status: Literal["open", "closed"] | None = None,
    overdue: bool | None = None,
    due_within_days: Annotated[int | None, Query(ge=0, le=366)] = None,
    employer: Annotated[str | None, Query(max_length=200, description="Employer ref, credit code or part of its name")] = None,
    inspector: str | None = None,
    classification: str | None = None,
    sort: Literal["next_deadline", "received_at", "amount_claimed"] = "next_deadline",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
    principal: Principal = READERS,
) -> dict[str, Any]:
    if stage is not None and stage not in domain.LEDGER_STAGES:
        raise Problem(422, "Unknown stage", f"stage must be one of {', '.join(domain.LEDGER_STAGES)}")
    scope = domain.county_scope(principal)
    if scope is not None:
        if county is not None and county != scope:
            return {"items": [], "next_cursor": None}
        county = scope
    filters = store.QueueFilter(county=county, stage=stage, status=status, overdue=overdue,
                                due_within_days=due_within_days, employer=employer, inspector=inspector,
                                classification=classification)
    async with request.app.state.pool.connection() as conn:
        try:
            rows, next_cursor = await store.list_cases(conn, filters, sort=sort, limit=limit, after=cursor)
        except ValueError as exc:
            raise Problem(422, "Invalid cursor", str(exc)) from None
    return {"items": [_case_view(r) for r in rows], "next_cursor": next_cursor}


@router.get("/cases/{case_id}", tags=["ledger"], summary="One case: figures, stage, deadlines, complaints (no personal data)")
async def get_case(request: Request, case_id: str, principal: Principal = READERS) -> dict[str, Any]:
    case = await cases(request).visible_case(principal, case_id)
    async with request.app.state.pool.connection() as conn:
        complaints = await store.case_complaints(conn, case["case_id"])
        processes = await store.case_processes(conn, case["case_id"])
        extensions = await store.case_extension_requests(conn, case["case_id"])
    complaints = [views.with_suggestion(c) for c in complaints]
    for c in complaints:
        c["amount_owed"] = str(c["amount_owed"])
    for p in processes:
        if p["amount_verified"] is not None:
            p["amount_verified"] = str(p["amount_verified"])
    view = _case_view(case)
    if case_id != case["case_id"]:
        view["requested_id"] = case_id
    return {**view, "complaints": complaints, "processes": processes, "extension_requests": extensions,
            "parked": views.parked_processes(complaints, processes)}


@router.get("/complaints/{complaint_id}", tags=["ledger"], response_model=views.ComplaintView,
            summary="Where a complaint stands in the ledger, and its case")
async def get_complaint(request: Request, complaint_id: str, principal: Principal = READERS) -> dict[str, Any]:
    return views.with_suggestion(await cases(request).visible_complaint(principal, complaint_id))


@router.get("/cases/{case_id}/timeline", tags=["ledger"], summary="Every event of the case, in order")
async def get_timeline(request: Request, case_id: str, principal: Principal = READERS) -> dict[str, Any]:
    case = await cases(request).visible_case(principal, case_id)
    async with request.app.state.pool.connection() as conn:
        events = await store.timeline(conn, case["case_id"])
    return {"case_id": case["case_id"], "events": events}


# --- statistics and reports ---------------------------------------------------------------------------------


@router.get("/statistics", tags=["reports"], summary="Figures for a day, week or quarter, by county and city",
            responses=file_responses("text/csv"))  # or JSON, the default
async def statistics(
    request: Request,
    period: Literal["daily", "weekly", "quarterly"] = "quarterly",
    label: Annotated[str | None, Query(description="2026-11-28, 2026-W48 or 2026-Q4; default: the current one")] = None,
    format: Literal["json", "csv"] = "json",
    principal: Principal = READERS,
) -> Any:
    try:
        chosen = domain.parse_period(period, label) if label else domain.period_containing(
            period, domain.legal_date(datetime.now(UTC)))
    except ValueError as exc:
        raise Problem(422, "Invalid period", str(exc)) from None
    scope = domain.county_scope(principal)
    async with request.app.state.pool.connection() as conn:
        figures = await reports.figures(conn, chosen, scope)
    if format == "csv":
        return Response(domain.report_csv(chosen, figures["rows"]), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="anxin-{chosen.label}.csv"'})
    return figures


class ReportOrder(_Body):
    kind: Literal["daily", "weekly", "quarterly"]
    period: str = Field(description="2026-11-28, 2026-W48 or 2026-Q4")


@router.post("/reports", tags=["reports"], status_code=201, summary="Produce a report now (city office)")
async def produce_report(request: Request, body: ReportOrder, principal: Principal = CITY) -> dict[str, Any]:
    try:
        chosen = domain.parse_period(body.kind, body.period)
    except ValueError as exc:
        raise Problem(422, "Invalid period", str(exc)) from None
    return await reports.produce(request.app.state.pool, chosen)


@router.get("/reports", tags=["reports"], summary="Reports produced (by the schedules or on request)")
async def list_reports(
    request: Request, kind: Literal["daily", "weekly", "quarterly"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50, principal: Principal = READERS,
) -> dict[str, Any]:
    async with request.app.state.pool.connection() as conn:
        return {"items": await store.list_reports(conn, kind, limit)}


async def _report(request: Request, report_id: str) -> dict[str, Any]:
    async with request.app.state.pool.connection() as conn:
        report = await store.get_report(conn, report_id)
    if report is None:
        raise Problem(404, "No such report", f"report {report_id} has not been produced")
    return report


# Declared before `/reports/{report_id}`, which would otherwise take the `.csv` suffix into the id.
@router.get("/reports/{report_id}.csv", tags=["reports"], summary="A report as CSV (city office)",
            response_class=Response, responses=file_responses("text/csv"))
async def get_report_csv(request: Request, report_id: str, principal: Principal = CITY) -> Response:
    report = await _report(request, report_id)
    return Response(report["csv"], media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{report_id}.csv"'})


@router.get("/reports/{report_id}/chart.png", tags=["reports"], summary="A report's chart (PNG, city office)",
            response_class=Response, responses=file_responses("image/png"))
async def get_report_chart(request: Request, report_id: str, principal: Principal = CITY) -> Response:
    report = await _report(request, report_id)
    if not report["chart_png"]:
        raise Problem(404, "No chart", f"report {report_id} has no chart")
    return Response(bytes(report["chart_png"]), media_type="image/png")


@router.get("/reports/{report_id}", tags=["reports"], summary="A report's figures (JSON)")
async def get_report(request: Request, report_id: str, principal: Principal = READERS) -> dict[str, Any]:
    report = await _report(request, report_id)
    figures = report["figures"]
    scope = domain.county_scope(principal)
    if scope is not None:
        rows = [r for r in figures["rows"] if r["level"] == "county" and r["area"] == scope]
        empty = {"level": "county", "area": scope, **domain.Figures().as_dict()}
        figures = {**figures, "rows": rows or [empty]}
    return {"report_id": report["report_id"], "kind": report["kind"], "period_start": report["period_start"],
            "period_end": report["period_end"], "produced_at": report["produced_at"], **figures,
            "csv_url": f"/v1/reports/{report_id}.csv", "chart_url": f"/v1/reports/{report_id}/chart.png"}
