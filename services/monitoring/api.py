"""HTTP routes of the monitoring service: thin, HTTP in, command call, answer out.

- `POST /v1/projects` (idempotent by `Idempotency-Key`), `GET /v1/projects` (filters, cursor pages),
  `GET|PUT|PATCH /v1/projects/{id}`: the project register.
- `POST /v1/projects/import`: a CSV or XLSX register file, one result per row (docs/monitoring.md).
- `POST /v1/projects/{id}/payroll/{yyyy-mm}`, `POST /v1/projects/{id}/attendance/{yyyy-mm}`: a monthly feed's
  file, one result per row; the same file twice changes nothing, a corrected one replaces the month's.
- `GET /v1/projects/{id}/months/{yyyy-mm}`: the month's summary from its feeds.
- `GET /v1/warnings`, `GET /v1/projects/{id}/warnings` (filters, cursor pages), `POST
  /v1/warnings/{id}/resolution`: the early warnings the monthly checks raise.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Header, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.common.auth import Principal, Role, require_roles
from services.common.commands import fingerprint_request
from services.common.openapi import CREATED_OR_REPEATED
from services.common.pagination import Cursor, Limit
from services.common.problems import Problem
from services.monitoring import store
from services.monitoring.commands import Register, view
from services.monitoring.domain import COUNTIES, DEPARTMENTS
from services.monitoring.feed_commands import Feeds
from services.monitoring.feeds import FeedKind
from services.monitoring.import_rows import FileUnreadable, file_format
from services.monitoring.warning_store import WarningFilter
from services.monitoring.warnings import Warnings

router = APIRouter(prefix="/v1")

# A county's inspectors and bureau head keep their county's register; the city office all of it.
KEEPERS = require_roles(Role.county_inspector, Role.bureau_head, Role.city_office)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def register(request: Request) -> Register:
    return request.app.state.register  # type: ignore[no-any-return]


class _Body(BaseModel):
    # Types are lenient on purpose: every rule is checked by the domain (services/monitoring/project_validation.py),
    # so a caller gets the same named, bilingual errors as an import row.
    model_config = ConfigDict(extra="forbid")


class CompanyIn(_Body):
    name: str | None = Field(None, examples=["邯郸市某建筑工程有限公司"])
    credit_code: str | None = Field(None, examples=["91130400MA07ABCD1X"], description="统一社会信用代码 (18 chars)")


class WageAccountIn(_Body):
    bank: str | None = Field(None, examples=["中国农业银行邯郸丛台支行"])
    opened_on: date | str | None = Field(None, examples=["2026-02-20"])


class DepositIn(_Body):
    amount: Decimal | str | None = Field(None, examples=["300000.00"], description="Yuan")
    form: str | None = Field(None, examples=["bank_guarantee"], description="cash, bank_guarantee or insurance")
    status: str | None = Field(None, examples=["lodged"], description="required, lodged, exempt, drawn or returned")


class ProjectIn(_Body):
    code: str | None = Field(None, examples=["130403202603010101"], description="The project's own code, unique")
    county: str | None = Field(None, examples=["130403"], description="County code: " + ", ".join(COUNTIES))
    name: str | None = Field(None, examples=["丛台区某安置房项目"])
    owner: CompanyIn | None = Field(None, description="建设单位")
    general_contractor: CompanyIn | None = Field(None, description="施工总承包单位")
    subcontractors: list[CompanyIn] | None = Field(None, description="分包单位")
    contract_value: Decimal | str | None = Field(None, examples=["58000000.00"], description="Yuan")
    start_date: date | str | None = Field(None, examples=["2026-03-01"])
    planned_end_date: date | str | None = Field(None, examples=["2027-12-31"])
    department: str | None = Field(None, examples=["housing"], description="One of " + ", ".join(DEPARTMENTS))
    wage_account: WageAccountIn | None = Field(None, description="农民工工资专用账户; null: none yet")
    deposit: DepositIn | None = Field(None, description="工资保证金; null: none recorded")
    site_ids: list[str] | None = Field(None, examples=[["HD-2026-0001"]], description="Intake sites of its posters")


@router.post(
    "/projects",
    tags=["projects"],
    responses=CREATED_OR_REPEATED,
    dependencies=[Depends(fingerprint_request)],
    summary="Register a project (idempotent by Idempotency-Key)",
)
async def post_project(
    request: Request, body: ProjectIn, key: IdempotencyKey = None, principal: Principal = KEEPERS
) -> JSONResponse:
    project, created = await register(request).register(principal, body.model_dump(), key)
    return JSONResponse(project, status_code=201 if created else 200)


@router.get("/projects", tags=["projects"], summary="The register: projects filtered, newest first, paged by cursor")
async def list_projects(
    request: Request,
    county: str | None = None,
    department: str | None = None,
    no_wage_account: Annotated[bool, Query(description="Only projects with no dedicated wage account")] = False,
    no_deposit: Annotated[bool, Query(description="Only projects with no wage deposit recorded")] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
    principal: Principal = KEEPERS,
) -> dict[str, Any]:
    if principal.role is not Role.city_office:
        # A county's own register only; asking for another county's finds nothing.
        if principal.county is None or (county is not None and county != principal.county):
            return {"items": [], "next_cursor": None}
        county = principal.county
    filters = store.ProjectFilter(
        county=county, department=department, no_wage_account=no_wage_account, no_deposit=no_deposit
    )
    async with request.app.state.pool.connection() as conn:
        rows, next_cursor = await store.list_projects(conn, filters, limit=limit, after=cursor)
    return {"items": [view(row) for row in rows], "next_cursor": next_cursor}


@router.get("/projects/{project_id}", tags=["projects"], summary="One project of the register")
async def get_project(request: Request, project_id: str, principal: Principal = KEEPERS) -> dict[str, Any]:
    return await register(request).read(principal, project_id)


@router.put("/projects/{project_id}", tags=["projects"], summary="Change a project: the whole project as it is now")
async def put_project(
    request: Request, project_id: str, body: ProjectIn, principal: Principal = KEEPERS
) -> dict[str, Any]:
    return await register(request).replace(principal, project_id, body.model_dump())


@router.patch(
    "/projects/{project_id}",
    tags=["projects"],
    summary="Change some of a project's fields (those named; null clears an optional one)",
)
async def patch_project(
    request: Request, project_id: str, body: ProjectIn, principal: Principal = KEEPERS
) -> dict[str, Any]:
    return await register(request).patch(principal, project_id, body.model_dump(exclude_unset=True))


@router.post(
    "/projects/import",
    tags=["projects"],
    summary="Import a register file (CSV or XLSX), one result per row; the same file twice changes nothing",
)
async def import_projects(
    request: Request,
    file: UploadFile = File(..., description="CSV (UTF-8, with or without BOM) or XLSX, a header row first"),
    principal: Principal = KEEPERS,
) -> dict[str, Any]:
    data = await file.read()
    fmt = file_format(file.filename or "", file.content_type, data)
    try:
        return await register(request).import_file(principal, data, fmt)
    except FileUnreadable as unreadable:
        raise Problem(422, "Not a register file", str(unreadable)) from None


# --- the monthly feeds -------------------------------------------------------------------------------------

Month = Annotated[str, Path(pattern=r"^\d{4}-\d{2}$", examples=["2026-10"], description="The month, YYYY-MM")]
FeedFile = Annotated[UploadFile, File(description="CSV (UTF-8, with or without BOM) or XLSX, a header row first")]


def feeds(request: Request) -> Feeds:
    return request.app.state.feeds  # type: ignore[no-any-return]


async def _import(
    request: Request, principal: Principal, project_id: str, kind: FeedKind, month: str, file: UploadFile
) -> dict[str, Any]:
    data = await file.read()
    fmt = file_format(file.filename or "", file.content_type, data)
    try:
        return await feeds(request).import_file(principal, project_id, kind, month, data, fmt)
    except FileUnreadable as unreadable:
        raise Problem(422, f"Not a {kind.value} file", str(unreadable)) from None


@router.post(
    "/projects/{project_id}/payroll/{month}",
    tags=["feeds"],
    summary="Import a month's payroll (the bank's file of the dedicated wage account); idempotent",
)
async def import_payroll(
    request: Request, project_id: str, month: Month, file: FeedFile, principal: Principal = KEEPERS
) -> dict[str, Any]:
    return await _import(request, principal, project_id, FeedKind.PAYROLL, month, file)


@router.post(
    "/projects/{project_id}/attendance/{month}",
    tags=["feeds"],
    summary="Import a month's attendance roster (the real-name system's file); idempotent",
)
async def import_attendance(
    request: Request, project_id: str, month: Month, file: FeedFile, principal: Principal = KEEPERS
) -> dict[str, Any]:
    return await _import(request, principal, project_id, FeedKind.ATTENDANCE, month, file)


@router.get(
    "/projects/{project_id}/months/{month}",
    tags=["feeds"],
    summary="A month's summary: roster, payroll, workers not paid, pay short of days worked",
)
async def month_summary(
    request: Request, project_id: str, month: Month, principal: Principal = KEEPERS
) -> dict[str, Any]:
    return await feeds(request).month_summary(principal, project_id, month)


# --- the early warnings ------------------------------------------------------------------------------------


def warnings(request: Request) -> Warnings:
    return request.app.state.warnings  # type: ignore[no-any-return]


OpenFilter = Annotated[bool | None, Query(alias="open", description="true: open warnings only; false: resolved only")]
LevelFilter = Annotated[str | None, Query(description="yellow, orange or red")]


@router.get("/warnings", tags=["warnings"], summary="Early warnings, newest first, filtered, paged by cursor")
async def list_warnings(
    request: Request,
    county: str | None = None,
    project: str | None = None,
    level: LevelFilter = None,
    open_only: OpenFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    principal: Principal = KEEPERS,
) -> dict[str, Any]:
    filters = WarningFilter(county=county, project_id=project, level=level, open=open_only)
    return await warnings(request).list(principal, filters, limit=limit, cursor=cursor)


@router.get("/projects/{project_id}/warnings", tags=["warnings"], summary="A project's early warnings, newest first")
async def project_warnings(
    request: Request,
    project_id: str,
    level: LevelFilter = None,
    open_only: OpenFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    principal: Principal = KEEPERS,
) -> dict[str, Any]:
    await register(request).visible(principal, project_id)
    filters = WarningFilter(project_id=project_id, level=level, open=open_only)
    return await warnings(request).list(principal, filters, limit=limit, cursor=cursor)


class ResolutionIn(_Body):
    note: str = Field(
        ...,
        max_length=1000,
        examples=["总包单位已补发10月工资，经核实无欠薪"],
        description="Why the warning is resolved",
    )


@router.post(
    "/warnings/{warning_id}/resolution",
    tags=["warnings"],
    summary="Resolve an open warning (an inspector or the bureau head of its county), with a note",
)
async def resolve_warning(
    request: Request, warning_id: str, body: ResolutionIn, principal: Principal = KEEPERS
) -> dict[str, Any]:
    return await warnings(request).resolve(principal, warning_id, body.note)
