"""Pure rules of the ladder against projects (四函两单 against projects that do not run the guarantee system):
the ladder's id, the letters it may climb and their templates, whom a rung goes to, what its letters say of
the warnings, and who reads a project's letters. No I/O.

A ladder is per project and check: an early warning of a check with no ladder open for it opens one; a later
month's warning of the same check, while one is open, joins it (one ladder, whose letters name every open
month); the ladder is closed once every warning of its check is resolved, and the next warning opens a new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from services.common.auth import Principal, Role
from services.contracts.monitoring_events import WarningCheck, WarningLevel
from services.contracts.referrals_events import LetterKind, ProjectLetterRecipient
from services.referrals.domain import CITY_READERS, COUNTY_READERS, LETTER_NAMES, china_date, date_text

# Whom a rung goes to, besides a key of [bureau.escalation].
GENERAL_CONTRACTOR = "general_contractor"
DEPARTMENT = "department"

# The letters a ladder against a project may climb: each has its template, `project_<kind>` in
# letter_templates.toml.
PROJECT_LETTER_KINDS: tuple[LetterKind, ...] = (
    LetterKind.WARNING_LETTER,
    LetterKind.HANDOFF,
    LetterKind.SUPERVISION,
    LetterKind.ACCOUNTABILITY_RECOMMENDATION,
    LetterKind.ISSUE_TRANSFER,
    LetterKind.ACCOUNTABILITY_TRANSFER,
)

# What each check found wanting, as the letters say it, and the part of the guarantee system it watches.
CHECK_TEXT: dict[WarningCheck, str] = {
    WarningCheck.PAYROLL_RECEIVED: "未按月通过农民工工资专用账户发放工资（监控平台未收到当月工资发放明细）",
    WarningCheck.ROSTER_PAID: "考勤在册的农民工未全部通过农民工工资专用账户发放工资",
    WarningCheck.PAY_IN_LINE: "部分农民工实发工资明显低于其出勤应得",
    WarningCheck.DEPOSIT: "未按规定存储工资保证金",
    WarningCheck.WAGE_ACCOUNT: "未按规定开设农民工工资专用账户",
}
SYSTEM_TEXT: dict[WarningCheck, str] = {
    WarningCheck.PAYROLL_RECEIVED: "农民工工资专用账户和总包代发制度",
    WarningCheck.ROSTER_PAID: "实名制管理和总包代发制度",
    WarningCheck.PAY_IN_LINE: "按月足额支付农民工工资制度",
    WarningCheck.DEPOSIT: "工资保证金制度",
    WarningCheck.WAGE_ACCOUNT: "农民工工资专用账户制度",
}
# The articles of 《保障农民工工资支付条例》 the check's failure falls short of, as the warning letter cites them
# (docs/monitoring.md, "The checks"): 第二十六条 the dedicated account, 第二十八条 real-name registration, 第三十一条
# payment by the general contractor through the account, 第三十二条 the wage deposit, 第三条 pay on time and in full.
ARTICLES_TEXT: dict[WarningCheck, str] = {
    WarningCheck.PAYROLL_RECEIVED: "第二十六条、第三十一条",
    WarningCheck.ROSTER_PAID: "第二十八条、第三十一条",
    WarningCheck.PAY_IN_LINE: "第三条",
    WarningCheck.DEPOSIT: "第三十二条",
    WarningCheck.WAGE_ACCOUNT: "第二十六条",
}
LEVEL_TEXT: dict[WarningLevel, str] = {
    WarningLevel.YELLOW: "黄色预警",
    WarningLevel.ORANGE: "橙色预警",
    WarningLevel.RED: "红色预警",
}
_LEVEL_ORDER = [WarningLevel.YELLOW, WarningLevel.ORANGE, WarningLevel.RED]


def project_ladder_id(project_id: str, check: WarningCheck, first_month: str) -> str:
    """The ladder's workflow id: the project, the check, and the month of the warning that opened it (a project
    has one warning per month and check, so a later ladder of the same check has another month)."""
    return f"project-letters:{project_id}:{check.value}:{first_month}"


def template_name(kind: LetterKind) -> str:
    return f"project_{kind.value}"


def recipient_of(to: str) -> ProjectLetterRecipient:
    if to == GENERAL_CONTRACTOR:
        return ProjectLetterRecipient.GENERAL_CONTRACTOR
    if to == DEPARTMENT:
        return ProjectLetterRecipient.DEPARTMENT
    return ProjectLetterRecipient.ESCALATION


def month_text(month: str) -> str:
    """`2026-10` as the letters print it: 2026年10月."""
    year, number = month.split("-")
    return f"{int(year)}年{int(number)}月"


def months_text(months: Iterable[str]) -> str:
    return "、".join(month_text(m) for m in sorted(set(months)))


def highest_level(levels: Iterable[str | None]) -> WarningLevel:
    """The highest level among the warnings (yellow when none says)."""
    known = [WarningLevel(level) for level in levels if level]
    return max(known, key=_LEVEL_ORDER.index, default=WarningLevel.YELLOW)


def previous_text(letters: Iterable[Mapping[str, Any]]) -> str:
    """The letters a ladder has issued, as the next one recalls them ("" before the first): each by name, number
    and date."""
    issued = [
        f"{LETTER_NAMES[LetterKind(x['kind'])]}（{x['document_number']}，{date_text(china_date(x['issued_at']))}）"
        for x in letters
    ]
    return f"我办已先后发出{'、'.join(issued)}，" if issued else ""


def may_see_project(principal: Principal, county: str, department: str) -> bool:
    """A project's letters are read by the city office, the county's inspectors and clerks, and the project's
    industry department (it is the addressee of most of them, and answers for the project)."""
    if principal.role in CITY_READERS:
        return True
    if principal.role in COUNTY_READERS:
        return principal.may_see_county(county)
    if principal.role is Role.department:
        return principal.department is not None and principal.department == department
    return False
