"""Rendering the worker's pages (jinja2, autoescaped). No routes here: `page_routes.py` calls these functions.

The form's field names are `ComplaintSubmission`'s, so what the form posts goes straight to
`validation.validate_submission`. Error messages may come as "中文 / English" (a `FieldError.message`);
the worker sees the Chinese half, next to the field it belongs to.

The status page renders a *status view*, a dict with these keys (all but `complaint_id` optional):

    complaint_id    "TS-20261128-7KQ3MZ"
    stage           "awaiting_acceptance" | "awaiting_information" | "in_case" | "callback" | "done" | "received"
    stage_text      plain-language stage; derived from `stage` when absent
    case_stage      "verification" | "handoff" | "service" | "payment" | "refusal" | "closed" | None
    closure_reason  e.g. "paid_in_full" (see STATUS_TEXTS["closure_reason"]) | None
    overdue         bool: a deadline has passed (the worker is told it is being supervised)
    next_deadline   ISO date or datetime | None
    timeline        [{"at": ISO datetime or datetime, "kind": "complaint.submitted", "text": "投诉已提交…"}, …]
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from services.contracts.legal_time import legal_date
from services.intake import domain
from services.intake.evidence import DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES, MiB

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,  # every value is escaped, whatever the template's name
    undefined=StrictUndefined,  # a misspelt name fails in the tests, not as a blank on a worker's phone
    trim_blocks=True,
    lstrip_blocks=True,
)

# The inputs the form shows, in their order on the page (county and project only without a site).
SITE_FIELDS = ("county_code", "project_name")
FORM_FIELDS = (
    "worker_name",
    "id_number",
    "phone",
    "employer_name",
    "employer_credit_code",
    "amount_owed",
    "workers_affected",
    "period_start",
    "period_end",
    "description",
    "evidence",
    "bank_card",
)
# Asked for behind a fold: few workers know it at hand, and personal data is collected only when useful.
FOLDED_FIELDS = ("bank_card",)
FORM_LABELS = {**domain.LABELS, "evidence": "证据材料", "employer_name": "欠薪的单位或老板"}

# Plain-language texts for the status page, by the process's own codes.
STATUS_TEXTS: dict[str, dict[str, str]] = {
    "stage": {
        "received": "已收到，等待受理",
        "awaiting_acceptance": "等待受理（5个工作日内决定是否受理）",
        "awaiting_information": "需要您补充材料，办理人员会与您联系",
        "in_case": "已受理，正在调查处理",
        "callback": "已办结，等待回访",
        "done": "已办结",
    },
    "case_stage": {
        "verification": "正在核实情况",
        "handoff": "已交由主管部门处理",
        "service": "已责令用人单位限期支付工资，正在送达",
        "payment": "等待用人单位在期限内支付工资",
        "refusal": "用人单位逾期未支付，正在依法追究",
        "closed": "调查已结束",
    },
    "closure_reason": {
        "paid_in_full": "工资已全部支付",
        "already_paid": "经核实工资已经支付",
        "rejected": "不予受理（将书面告知理由）",
        "forwarded": "已转送有管辖权的部门办理",
        "information_not_supplied": "未在期限内补充材料",
        "unfounded": "经核实，投诉情况不属实",
        "duplicate": "与已有投诉重复，合并办理",
        "withdrawn": "您已撤回投诉",
        "handed_off": "已由主管部门处理并答复",
        "referred_to_arbitration": "属于劳动争议，请向劳动人事争议仲裁院申请仲裁",
        "referred_to_police": "已移送公安机关",
        "administrative_decision": "已作出行政处理决定",
        "merged": "已并入其他案件办理",
        # An early-warning case's reason; a complaint carries it only if it joined that case as it closed.
        "no_arrears_found": "经核查未发现欠薪",
    },
}


def chinese_part(message: str) -> str:
    """The Chinese half of a "中文 / English" message (or the whole message if it has one language)."""
    return re.split(r"\s*/\s+", message, maxsplit=1)[0].strip()


def _common(**context: Any) -> dict[str, Any]:
    return {"static_url": "/static", **context}


def render_form(
    site: Mapping[str, Any] | None,
    counties: Mapping[str, str],
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    *,
    action: str = "/form",
    status_url: str = "/status",
    static_url: str = "/static",
    today: date | None = None,
    max_files: int = DEFAULT_MAX_FILES,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> str:
    """The complaint form. `site` (from the QR code: site_id, name, county_name or county_code, address)
    is shown as text and posted as a hidden site_id; without it the worker picks the county and types the
    project. `values` are the worker's last input, kept; `errors` maps a field (or "_form" for the whole
    form) to its message, shown next to the field and listed at the top."""
    values = {k: v for k, v in (values or {}).items() if isinstance(v, str | int | bool)}
    errors = {field: chinese_part(str(message)) for field, message in (errors or {}).items() if message}
    shown = set(FORM_FIELDS) | (set() if site else set(SITE_FIELDS))
    # Errors of fields the page does not show (a stale site id, say) are still listed at the top.
    ordered = [f for f in (*SITE_FIELDS, *FORM_FIELDS) if f in errors] + sorted(
        f for f in errors if f not in shown and f not in SITE_FIELDS and f != "_form"
    )
    return _env.get_template("form.html").render(
        _common(
            site=site,
            counties=counties,
            values=values,
            errors=errors,
            field_errors=[(f, errors[f]) for f in ordered],
            shown=shown,
            labels=FORM_LABELS,
            optional_open=any(values.get(f) or errors.get(f) for f in FOLDED_FIELDS),
            action=action,
            status_url=status_url,
            static_url=static_url,
            today=today.isoformat() if today else None,
            max_files=max_files,
            max_megabytes=f"{max_bytes / MiB:g}",
            max_workers=domain.MAX_WORKERS,
            # The token doubles as the Idempotency-Key: a double tap or a resend on a slow network files once.
            form_token=secrets.token_urlsafe(16),
        )
    )


def render_submitted(
    complaint_id: str, tracking_code: str, *, status_url: str = "/status", static_url: str = "/static"
) -> str:
    """The answer to a filed complaint: its number and tracking code, large, and how to follow it."""
    return _env.get_template("submitted.html").render(
        _common(
            complaint_id=complaint_id,
            tracking_code=tracking_code,
            status_url=status_url,
            static_url=static_url,
        )
    )


def render_status_form(
    values: Mapping[str, Any] | None = None,
    error: str | None = None,
    *,
    action: str = "/status",
    form_url: str = "/",
    static_url: str = "/static",
) -> str:
    """Where the worker enters the complaint number and tracking code. The code is never echoed back."""
    kept = {"complaint_id": str((values or {}).get("complaint_id", ""))}
    return _env.get_template("status_form.html").render(
        _common(
            values=kept,
            error=chinese_part(error) if error else None,
            action=action,
            form_url=form_url,
            static_url=static_url,
        )
    )


def local_day(value: Any) -> str:
    """An instant as the date in China (what the worker lived), e.g. "2026-11-28"; "" if unreadable."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value[:10]
    if isinstance(value, datetime):
        return (legal_date(value) if value.tzinfo else value.date()).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return ""


def render_status(status: Mapping[str, Any], *, status_form_url: str = "/status", static_url: str = "/static") -> str:
    """A complaint's status and plain-language timeline (see the module's docstring for the dict)."""
    texts = STATUS_TEXTS
    stage = str(status.get("stage") or "received")
    # In the process's own order, oldest first.
    timeline = [
        {"day": local_day(entry.get("at")), "text": entry.get("text", "")} for entry in status.get("timeline") or []
    ]
    return _env.get_template("status.html").render(
        _common(
            status=status,
            stage_text=status.get("stage_text") or texts["stage"].get(stage, stage),
            case_stage_text=texts["case_stage"].get(str(status.get("case_stage") or "")),
            closure_text=texts["closure_reason"].get(str(status.get("closure_reason") or "")),
            next_deadline=local_day(status.get("next_deadline")) if status.get("next_deadline") else None,
            timeline=timeline,
            status_form_url=status_form_url,
            static_url=static_url,
        )
    )
