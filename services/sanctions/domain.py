"""Pure rules of the sanctions service: when a listing may be proposed, dates, quarters, masking, roles.

No I/O. The legal references are 人社部令第45号 (the blacklist) and 人社部令第29号 (major-violation
publication); the figures that vary by place are configuration (`settings.py`), not code.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from services.common.auth import Role
from services.contracts import sanction_rules
from services.contracts.legal_time import legal_date
from services.contracts.lifecycle import ListingGround, SanctionKind, SanctionRequest
from services.contracts.personal_data import mask_name as mask_name  # re-exported: the rule is the contracts'
from services.contracts.sanctions_workflows import PersonRole

# Who may read the internal views, act on a listing, and decide (the city office decides).
READ_ROLES = (Role.city_office, Role.county_inspector, Role.credit_system, Role.operator)
ACT_ROLES = (Role.city_office, Role.county_inspector)
DECIDE_ROLES = (Role.city_office,)
# Who may read responsible persons' full identity (joint discipline needs it; every read is audited).
IDENTITY_ROLES = (Role.city_office, Role.credit_system)

PERSON_ROLE_NAMES = {
    PersonRole.LEGAL_REPRESENTATIVE: "法定代表人",
    PersonRole.PERSON_IN_CHARGE: "主要负责人",
}
GROUND_NAMES = {
    ListingGround.CRIMINAL_THRESHOLD: "拒不支付劳动报酬，数额达到认定拒不支付劳动报酬罪的数额标准",
    ListingGround.MASS_INCIDENT: "拖欠农民工工资引发群体性事件、极端事件，造成不良社会影响",
}

_MASS_INCIDENT = re.compile(r"群体性|极端")
# The case workflow states an unmet threshold as "未达到数额较大标准…" and a met one as "…达到…的标准".
_THRESHOLD_MET = re.compile(r"(?<!未)达到.*标准")


class ProposalRefused(ValueError):
    """The request does not meet the legal criteria for a listing procedure."""


def listing_ground(request: SanctionRequest) -> ListingGround:
    """The ground a proposal rests on, or `ProposalRefused` with the reason: the rule the case workflow
    applies before proposing (`services.contracts.sanction_rules.listing_ground`), applied again to what it
    sent. A request from a workflow started before requests carried their `ground` states it only in its
    `basis` text, read here for those."""
    if request.kind is not SanctionKind.BLACKLIST_PROCEDURE:
        raise ProposalRefused(f"a blacklist procedure needs kind 'blacklist_procedure', not {request.kind.value!r}")
    if request.ground is not None:
        mass_incident = request.ground is ListingGround.MASS_INCIDENT
        threshold_reached = request.ground is ListingGround.CRIMINAL_THRESHOLD
    else:
        mass_incident = bool(_MASS_INCIDENT.search(request.basis))
        threshold_reached = not request.basis.startswith("未达到") and bool(_THRESHOLD_MET.search(request.basis))
    try:
        return sanction_rules.listing_ground(
            unpaid_amount=request.amount, threshold_reached=threshold_reached, mass_incident=mass_incident
        )
    except sanction_rules.ListingCriteriaNotMet as exc:
        raise ProposalRefused(f"{exc}: {request.basis[:200]!r}") from None


def require_kind(request: SanctionRequest, kind: SanctionKind) -> None:
    if request.kind is not kind:
        raise ProposalRefused(f"this endpoint takes kind {kind.value!r}, not {request.kind.value!r}")


# --- dates ---------------------------------------------------------------------------------------------


# The legal (China Standard Time) date of an instant, under the name this service's code uses.
china_date = legal_date


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Aug + 6 months = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def date_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- quarters ------------------------------------------------------------------------------------------

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def previous_quarter(day: date) -> str:
    first_of_quarter = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return quarter_of(first_of_quarter - timedelta(days=1))


def quarter_bounds(label: str) -> tuple[date, date]:
    """First and last day of a quarter label such as '2026-Q3'."""
    match = _QUARTER.match(label)
    if not match:
        raise ValueError(f"{label!r} is not a quarter such as 2026-Q3")
    year, quarter = int(match[1]), int(match[2])
    start = date(year, 3 * quarter - 2, 1)
    end = add_months(start, 3) - timedelta(days=1)
    return start, end


def quarter_text(label: str) -> str:
    year, quarter = label.split("-Q")
    return f"{year}年第{'一二三四'[int(quarter) - 1]}季度"


# --- what may be published ------------------------------------------------------------------------------


def credit_code_of(employer_ref: str) -> str | None:
    """The unified social credit code an employer reference was made from (`E-<code>`), if it was."""
    # A code reference is "E-" + 18 characters; a name reference is "E-N" + a 16-character digest.
    if employer_ref.startswith("E-") and len(employer_ref) == 20:
        return employer_ref[2:]
    return None
