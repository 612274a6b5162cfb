"""The project register (在建项目台账) as the monitoring service keeps it: a county's projects (the city office's,
every county's) with the gaps the guarantee system looks for — no dedicated wage account, no wage deposit —, a
register file imported with its result per row, and a project's page with its last months of payroll and
attendance feeds and the forms that import a month's files."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from services.console import texts
from services.console.clients import NotFound, Refused, service_get, service_send
from services.console.sessions import Session
from services.console.web import NavItem, console_of, csrf_refused, page, signed_in

router = APIRouter()
NAV = [NavItem("/projects", "在建项目", frozenset({"county_inspector", "bureau_head", "city_office"}))]

# services/contracts/monitoring_events.py's DepositForm and DepositStatus, as the bureau names them.
DEPOSIT_FORMS = {"cash": "现金", "bank_guarantee": "银行保函", "insurance": "保证保险"}
DEPOSIT_STATUSES = {
    "required": "应存未存",
    "lodged": "已存储",
    "exempt": "免缴",
    "drawn": "已动用待补足",
    "returned": "已返还",
}
FEED_KINDS = {"payroll": "工资发放（银行代发）", "attendance": "考勤（实名制）"}
IMPORT_RESULTS = {
    "registered": "已登记",
    "updated": "已更新",
    "unchanged": "无变化",
    "invalid": "有误",
    "refused": "不在辖区",
    "received": "已导入",
    "replaced": "已替换",
    "rejected": "未导入（有误行）",
}
MONTHS_SHOWN = 6


def _months_before(today: date, count: int) -> list[str]:
    """The `count` months up to and including `today`'s, newest first, as `YYYY-MM`."""
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months


def _project_row(project: dict[str, Any]) -> dict[str, Any]:
    account, deposit = project.get("wage_account"), project.get("deposit")
    return {
        **project,
        "account_text": f"{account['bank']}（{account['opened_on']} 开立）" if account else "未开设",
        "deposit_text": (
            f"{deposit['amount']} 元 · {DEPOSIT_FORMS.get(deposit['form'], deposit['form'])} · "
            f"{DEPOSIT_STATUSES.get(deposit['status'], deposit['status'])}"
        )
        if deposit
        else "未登记",
        "gap": not account or not deposit or (deposit or {}).get("status") in ("required", "drawn"),
    }


async def _list_page(
    request: Request,
    session: Session,
    *,
    filters: dict[str, str],
    cursor: str = "",
    imported: dict[str, Any] | None = None,
    error: str = "",
) -> Response:
    console = console_of(request)
    params = {"limit": "50", **{k: v for k, v in filters.items() if v}, **({"cursor": cursor[:500]} if cursor else {})}
    try:
        listed = await service_get(console.client, f"{console.monitoring_url}/v1/projects", session.token, params)
    except Refused:
        return page(request, "registers/not_allowed.html", {"session": session}, 404)
    next_cursor = listed.get("next_cursor")
    return page(
        request,
        "projects/list.html",
        {
            "session": session,
            "projects": [_project_row(p) for p in listed["items"]],
            "filters": filters,
            "next_page": f"/projects?{urlencode({**{k: v for k, v in filters.items() if v}, 'cursor': next_cursor})}"
            if next_cursor
            else "",
            "imported": imported,
            "results": IMPORT_RESULTS,
            "error": error,
        },
        422 if error else 200,
    )


@router.get("/projects", response_class=HTMLResponse)
async def projects(
    request: Request,
    session: Annotated[Session, Depends(signed_in)],
    county: str = "",
    no_wage_account: str = "",
    no_deposit: str = "",
    cursor: str = "",
) -> Response:
    filters = {
        "county": county.strip()[:6],
        "no_wage_account": "true" if no_wage_account else "",
        "no_deposit": "true" if no_deposit else "",
    }
    return await _list_page(request, session, filters=filters, cursor=cursor)


def _upload(file: UploadFile, data: bytes) -> dict[str, Any]:
    return {"file": (file.filename or "upload", data, file.content_type or "application/octet-stream")}


@router.post("/projects/import", response_class=HTMLResponse)
async def import_register(
    request: Request,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    if not session.csrf_matches(csrf):
        return csrf_refused()
    data = await file.read() if file is not None else b""
    if file is None or not data:
        return await _list_page(request, session, filters={}, error="请选择要导入的台账文件（CSV 或 XLSX）。")
    console = console_of(request)
    try:
        answer = await service_send(
            console.client,
            "POST",
            f"{console.monitoring_url}/v1/projects/import",
            session.token,
            files=_upload(file, data),
        )
    except Refused as refused:
        return await _list_page(request, session, filters={}, error=refused.message)
    return await _list_page(request, session, filters={}, imported=answer)


async def _project_page(
    request: Request, session: Session, project_id: str, *, imported: dict[str, Any] | None = None, error: str = ""
) -> Response:
    console = console_of(request)
    base = f"{console.monitoring_url}/v1/projects/{quote(project_id, safe='')}"
    try:
        project = await service_get(console.client, base, session.token)
        months = [
            await service_get(console.client, f"{base}/months/{month}", session.token)
            for month in _months_before(datetime.now(texts.CHINA).date(), MONTHS_SHOWN)
        ]
    except (NotFound, Refused):
        return page(request, "registers/not_allowed.html", {"session": session}, 404)
    return page(
        request,
        "projects/project.html",
        {
            "session": session,
            "project": _project_row(project),
            "months": months,
            "kinds": FEED_KINDS,
            "this_month": months[0]["month"],
            "imported": imported,
            "results": IMPORT_RESULTS,
            "error": error,
        },
        422 if error else 200,
    )


@router.get("/projects/{project_id}", response_class=HTMLResponse)
async def project_page(request: Request, project_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    return await _project_page(request, session, project_id)


@router.post("/projects/{project_id}/feeds", response_class=HTMLResponse)
async def import_feed(
    request: Request,
    project_id: str,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    month: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    if not session.csrf_matches(csrf):
        return csrf_refused()
    data = await file.read() if file is not None else b""
    if kind not in FEED_KINDS:
        return await _project_page(request, session, project_id, error="请选择文件类型：工资发放或考勤。")
    if len(month) != 7 or not month[:4].isdigit() or month[4] != "-" or not month[5:].isdigit():
        return await _project_page(request, session, project_id, error="请选择月份。")
    if file is None or not data:
        return await _project_page(request, session, project_id, error="请选择要导入的文件（CSV 或 XLSX）。")
    console = console_of(request)
    url = f"{console.monitoring_url}/v1/projects/{quote(project_id, safe='')}/{kind}/{month}"
    try:
        answer = await service_send(console.client, "POST", url, session.token, files=_upload(file, data))
    except NotFound:
        return page(request, "registers/not_allowed.html", {"session": session}, 404)
    except Refused as refused:
        return await _project_page(request, session, project_id, error=refused.message)
    return await _project_page(request, session, project_id, imported=answer)
