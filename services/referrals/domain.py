"""Pure rules of the referrals service: letter kinds and numbers, the handoff states, who may see what,
and the dates letters state. No I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from services.common import errors
from services.common.auth import Principal, Role
from services.contracts.legal_time import CHINA_TZ as CHINA_TZ  # re-exported: domain.CHINA_TZ
from services.contracts.legal_time import end_of_day, legal_date
from services.contracts.lifecycle import CalendarConfig, DayUnit, LetterKind, ReferralKind
from services.contracts.referrals_events import (
    HandoffOutcome,
    HandoffStatus,
    ReferralDecision,
    ReturnReason,
)
from services.contracts.working_days import WorkingCalendar

LETTER_NAMES: dict[LetterKind, str] = {
    LetterKind.HANDOFF: "交办函",
    LetterKind.REMINDER: "催办函",
    LetterKind.SUPERVISION: "督办函",
    LetterKind.WARNING_LETTER: "警示函",
    LetterKind.ACCOUNTABILITY_RECOMMENDATION: "问责建议函",
    LetterKind.ISSUE_TRANSFER: "问题移交单",
    LetterKind.ACCOUNTABILITY_TRANSFER: "问责移交单",
    LetterKind.CRIMINAL_REFERRAL: "涉嫌犯罪案件移送书",
    LetterKind.PROCURATORATE_REQUEST: "商请提前介入函",
    LetterKind.ARBITRATION_REFERRAL: "仲裁速裁转办单",
    LetterKind.LEGAL_AID_REFERRAL: "法律援助转介函",
    LetterKind.SUPPLEMENTARY_NOTICE: "补充材料函",
}

# The rungs of the overdue-handoff ladder, in order (the lifecycle's LetterKind without the handoff itself).
LADDER: list[LetterKind] = [
    LetterKind.REMINDER,
    LetterKind.SUPERVISION,
    LetterKind.WARNING_LETTER,
    LetterKind.ACCOUNTABILITY_RECOMMENDATION,
    LetterKind.ACCOUNTABILITY_TRANSFER,
]

# The accountability transfer rung issues both forms of "两单": the issue transfer form goes with it.
COMPANIONS: dict[LetterKind, list[LetterKind]] = {
    LetterKind.ACCOUNTABILITY_TRANSFER: [LetterKind.ISSUE_TRANSFER],
}

REFERRAL_LETTER: dict[ReferralKind, LetterKind] = {
    ReferralKind.POLICE: LetterKind.CRIMINAL_REFERRAL,
    ReferralKind.PROCURATORATE: LetterKind.PROCURATORATE_REQUEST,
    ReferralKind.ARBITRATION: LetterKind.ARBITRATION_REFERRAL,
    ReferralKind.LEGAL_AID: LetterKind.LEGAL_AID_REFERRAL,
}

# Who answers each kind of referral.
REFERRAL_ROLE: dict[ReferralKind, Role] = {
    ReferralKind.POLICE: Role.police,
    ReferralKind.PROCURATORATE: Role.procuratorate,
    ReferralKind.ARBITRATION: Role.arbitration,
    ReferralKind.LEGAL_AID: Role.legal_aid,
}

REFERRAL_NAMES: dict[ReferralKind, str] = {
    ReferralKind.POLICE: "移送",
    ReferralKind.PROCURATORATE: "商请提前介入",
    ReferralKind.ARBITRATION: "转办速裁",
    ReferralKind.LEGAL_AID: "转介法律援助",
}

EXPECTED_ACTION: dict[ReferralKind, str] = {
    ReferralKind.POLICE: "作出立案或者不予立案的决定",
    ReferralKind.PROCURATORATE: "函复",
    ReferralKind.ARBITRATION: "告知是否受理",
    ReferralKind.LEGAL_AID: "受理并指派承办人员",
}

# What an arbitration body's award follow-up asks (劳动争议调解仲裁法 art. 43: past the limit with no award, a
# party may also take the dispute to court).
AWARD_ACTION = "在法定期限内作出仲裁裁决（逾期未作出裁决的，当事人可以就该劳动争议事项向人民法院提起诉讼）"

# What each rung of a referral's follow-up asks of the receiving body.
RUNG_DEMAND: dict[LetterKind, str] = {
    LetterKind.REMINDER: "请抓紧办理。",
    LetterKind.SUPERVISION: "现予督办，请主要负责同志亲自过问。",
    LetterKind.WARNING_LETTER: "现予警示，逾期仍未办理的，我局将提出问责建议。",
    LetterKind.ACCOUNTABILITY_RECOMMENDATION: "建议对负有责任的人员依规依纪依法予以问责。",
    LetterKind.ACCOUNTABILITY_TRANSFER: "现将该问题线索移交纪检监察机关依规依纪依法处理。",
}

# Referrals whose unanswered deadline starts a follow-up ladder in the referrals worker: the fast tracks,
# and the police's decision whether to open a criminal case (国务院令第310号 art. 8).
FOLLOWED_UP: tuple[ReferralKind, ...] = (ReferralKind.LEGAL_AID, ReferralKind.ARBITRATION, ReferralKind.POLICE)

OUTCOME_TEXT: dict[HandoffOutcome, str] = {
    HandoffOutcome.RESOLVED: "问题已解决",
    HandoffOutcome.UNDER_HANDLING: "已立案处理，限期解决",
    HandoffOutcome.NO_VIOLATION: "经核查不存在所反映问题",
    HandoffOutcome.REFERRED_ONWARD: "已移交其他有权机关",
}

RETURN_TEXT: dict[ReturnReason, str] = {
    ReturnReason.NOT_COMPETENT: "不属于本部门职责",
    ReturnReason.INSUFFICIENT_INFORMATION: "材料不全，无法办理",
    ReturnReason.DUPLICATE: "重复交办",
    ReturnReason.OTHER: "其他原因",
}

VERIFICATION_TEXT: dict[str, str] = {
    "project_payment_dispute": "拖欠工程款纠纷",
    "quantity_dispute": "工程量纠纷",
    "wage_arrears": "拖欠农民工工资",
    "labour_dispute": "劳动争议",
}

# Roles that read everything in the city, and roles that act on a case's letters in their county.
CITY_READERS = (Role.city_office, Role.operator)
COUNTY_READERS = (Role.county_inspector, Role.intake_clerk)


class Refused(errors.Refused):
    """A rule says no ("Not possible now", with the rule's reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__("Not possible now", reason)


def document_number(prefix: str, year: int, number: int) -> str:
    """The bureau's document number, e.g. 邯欠薪办交〔2026〕3号."""
    if number < 1:
        raise ValueError("document numbers start at 1")
    return f"{prefix}〔{year}〕{number}号"


def record_id(prefix: str, key: str) -> str:
    """A record id derived from its idempotency key: a retried request names the same record."""
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:16].upper()}"


# The legal (China Standard Time) date of an instant, under the name this service's code uses.
china_date = legal_date


def date_text(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "（未定）"


def money_text(amount: Decimal | None) -> str:
    return f"{amount:,.2f}" if amount is not None else "（待核定）"


# --- dates -----------------------------------------------------------------------------------------------


def working_days_due(now: datetime, working_days: int, calendar: CalendarConfig | None = None) -> tuple[date, datetime]:
    """The due date `working_days` working days after today (China time), and the instant it expires.

    0 working days is the green channel: the end of today if today is a working day, else of the next one."""
    cal = WorkingCalendar(calendar or CalendarConfig())
    today = china_date(now)
    if working_days == 0:
        due = today if cal.is_working_day(today) else cal.add_working_days(today, 1)
    else:
        due = cal.add_working_days(today, working_days)
    return due, end_of_day(due)


def period_due(
    now: datetime, days: int, unit: DayUnit, calendar: CalendarConfig | None = None, start: date | None = None
) -> tuple[date, datetime]:
    """The due date of a period of `days` in `unit` from `start` (default: today, China time), and the instant
    it expires. Calendar days whose last day is a rest day end on the next working day."""
    if unit is DayUnit.WORKING and start is None:
        return working_days_due(now, days, calendar)
    cal = WorkingCalendar(calendar or CalendarConfig())
    first = start or china_date(now)
    due = cal.add_working_days(first, days) if unit is DayUnit.WORKING else cal.add_calendar_days(first, days)
    return due, end_of_day(due)


def is_late(now: datetime, due_at: datetime | None) -> bool:
    return due_at is not None and now > due_at


# --- handoff states --------------------------------------------------------------------------------------

FINAL = (HandoffStatus.RESPONDED, HandoffStatus.RETURNED)


def check_acknowledge(status: HandoffStatus) -> None:
    if status is HandoffStatus.ACKNOWLEDGED:
        raise Refused("交办已签收 (the handoff is already acknowledged)")
    if status in FINAL:
        raise Refused(
            f"交办已{'答复' if status is HandoffStatus.RESPONDED else '退回'}，不能再签收 "
            f"(the handoff is already {status.value})"
        )


def check_answer(status: HandoffStatus) -> None:
    """A department answers (responds or returns) once, from sent or acknowledged."""
    if status in FINAL:
        raise Refused(
            f"交办已{'答复' if status is HandoffStatus.RESPONDED else '退回'} (the handoff is already {status.value})"
        )


def workflow_summary_of_response(outcome: HandoffOutcome, summary: str) -> str:
    return f"{OUTCOME_TEXT[outcome]}：{summary}"


def workflow_reason_of_return(reason: ReturnReason, explanation: str) -> str:
    return f"{RETURN_TEXT[reason]}：{explanation}"


def check_referral_decision(
    status: str, kind: ReferralKind, decision: ReferralDecision, assigned_to: str | None
) -> None:
    if status == "withdrawn":
        raise Refused("移送已撤回 (the referral was withdrawn)")
    if status in ("accepted", "declined"):
        raise Refused(f"已作出决定：{status} (the referral is already {status})")
    if kind is ReferralKind.LEGAL_AID and decision is ReferralDecision.ACCEPTED and not assigned_to:
        raise Refused("法律援助绿色通道须当日受理并指派承办人员 (legal aid acceptance needs the assigned lawyer)")


# --- scope -----------------------------------------------------------------------------------------------


def may_see_handoff(principal: Principal, department: str, county: str) -> bool:
    """A department sees its own handoffs only; inspectors their county's; the city office all."""
    if principal.role in CITY_READERS:
        return True
    if principal.role is Role.department:
        return principal.department is not None and principal.department == department
    if principal.role in COUNTY_READERS:
        return principal.may_see_county(county)
    return False


def may_answer_handoff(principal: Principal, department: str) -> bool:
    return principal.role is Role.department and principal.department == department


def may_see_referral(principal: Principal, kind: ReferralKind, county: str) -> bool:
    if principal.role in CITY_READERS:
        return True
    if principal.role in COUNTY_READERS:
        return principal.may_see_county(county)
    return principal.role is REFERRAL_ROLE[kind]


def may_see_letter(principal: Principal, addressee: str, addressee_kind: str, county: str) -> bool:
    """A letter is read by its addressee and by the agencies that see its case."""
    if principal.role in CITY_READERS:
        return True
    if principal.role in COUNTY_READERS:
        return principal.may_see_county(county)
    if principal.role is Role.department:
        return principal.department == addressee
    return principal.role.value == addressee_kind


@dataclass(frozen=True)
class CaseFigures:
    """The figures a letter quotes, from the read model (complaints, verification, payments)."""

    workers: int
    amount: Decimal
    complaints: int
