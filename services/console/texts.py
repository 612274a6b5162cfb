"""What the console's pages say in plain Chinese: stage and deadline names, and the working days left before a
deadline (the installed calendar package's working days, as the deadlines themselves count them)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from services.contracts.lifecycle.configuration import CalendarConfig
from services.contracts.working_days import WorkingCalendar

CHINA = timezone(timedelta(hours=8))

STAGES = {
    "acceptance": "待受理",
    "information": "待补正",
    "verification": "核实中",
    "handoff": "移交部门",
    "service": "责令整改",
    "payment": "待支付",
    "refusal": "拒不支付",
    "closed": "已结案",
}

DEADLINES = {
    "acceptance": "受理期限",
    "information": "补正期限",
    "verification": "核实期限",
    "handoff": "部门办理期限",
    "service": "整改期限",
    "payment": "支付期限",
    "closure": "结案期限",
    "extension": "延期后期限",
}

# A complaint's own stages (services/contracts/lifecycle/enums.py `ComplaintStage`), before and after its case.
COMPLAINT_STAGES = {
    "awaiting_acceptance": "待受理",
    "awaiting_information": "待补正",
    "in_case": "已并入案件办理",
    "callback": "待回访",
    "done": "已办结",
}

STATUSES = {"open": "办理中", "closed": "已结案"}

# How a complaint came in (services/contracts/intake_events.py `Channel`).
CHANNELS = {"qr_form": "扫码投诉", "clerk": "窗口登记", "clue_import": "线索导入"}


def stage_name(stage: str | None) -> str:
    return STAGES.get(stage or "", stage or "—")


def complaint_stage_name(stage: str | None) -> str:
    return COMPLAINT_STAGES.get(stage or "", stage_name(stage))


def deadline_name(name: str) -> str:
    return DEADLINES.get(name, name)


def legal_date(value: str | datetime) -> date:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(CHINA).date()


def working_days_left(
    deadline: str | datetime | None, today: date, calendar: WorkingCalendar | None = None
) -> int | None:
    """Working days from `today` to the deadline's legal date: 0 on the day itself, negative once past."""
    if deadline is None:
        return None
    due = legal_date(deadline)
    cal = calendar or WorkingCalendar(CalendarConfig())
    if due >= today:
        return cal.working_days_between(today, due)
    return -cal.working_days_between(due, today)


def countdown(days: int | None) -> str:
    if days is None:
        return "—"
    if days < 0:
        return f"逾期 {-days} 个工作日"
    if days == 0:
        return "今日到期"
    return f"剩余 {days} 个工作日"


def queue_row(case: dict[str, Any], today: date, calendar: WorkingCalendar) -> dict[str, Any]:
    days = working_days_left(case.get("next_deadline"), today, calendar)
    return {
        "case_id": case["case_id"],
        "employer": case.get("employer_name") or case.get("employer_ref") or "—",
        "project": case.get("project_name") or "",
        "stage": stage_name(case.get("stage")),
        "amount_claimed": case.get("amount_claimed") or "—",
        "workers": case.get("workers_affected"),
        "next_deadline": legal_date(case["next_deadline"]).isoformat() if case.get("next_deadline") else "—",
        "countdown": countdown(days),
        "overdue": bool(case.get("overdue")) or (days is not None and days < 0),
        # Opened on a project's early warning rather than by a complaint (the cases API's `kind`).
        "early_warning": case.get("kind") == "early_warning",
    }


# The kind of a case (the cases API's `kind`): opened by a complaint, or by a project's early warning.
CASE_KINDS = {"complaint": "投诉案件", "early_warning": "预警案件"}

# An early warning's monthly check and level (services/contracts/monitoring_events.py `WarningCheck`,
# `WarningLevel`, `WarningResolution`).
WARNING_CHECKS = {
    "payroll_received": "当月工资发放明细未报送",
    "roster_paid": "考勤在册工人未获发放",
    "pay_in_line": "工资与出勤天数不符",
    "deposit": "工资保证金未足额存储",
    "wage_account": "开工前未开设工资专用账户",
}
WARNING_LEVELS = {"yellow": "黄色预警", "orange": "橙色预警", "red": "红色预警"}
WARNING_RESOLUTIONS = {"check_passed": "复查通过", "inspector": "监察员处置"}

# Paying workers from the deposit or the emergency fund (services/contracts/guarantee_funds.py `PayoutSource`,
# `PayoutStage`; the monitoring API's movements).
PAYOUT_SOURCES = {"deposit": "动用工资保证金", "emergency_fund": "应急周转金先行垫付"}
PAYOUT_STAGES = {
    "requested": "待市局审批",
    "refused": "不予动用",
    "approved": "已批准，待银行支付",
    "paid": "已支付，待补足或追偿",
    "settled": "已补足或已追回",
    "written_off": "已核销",
}
MOVEMENT_KINDS = {
    "deposit_drawn": "动用保证金",
    "deposit_topped_up": "补足保证金",
    "fund_advanced": "周转金垫付",
    "fund_recovered": "追回垫付款",
    "fund_written_off": "核销垫付款",
}
# Why an advance can no longer be recovered (services/contracts/guarantee_funds.py, WriteOffBasis).
WRITE_OFF_BASES = {
    "employer_deregistered": "用人单位已注销",
    "bankruptcy_closed": "破产程序已终结",
    "enforcement_terminated": "法院已裁定终结执行",
}
