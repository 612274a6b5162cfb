"""The monthly feeds' rules: a project's payroll (工资发放) and attendance roster (考勤) of a month, and the
month's summary the monthly checks read.

A feed is one file per project, kind and month. Its workers are known by keyed reference only
(`FeedWorker.person_ref`, the HMAC intake gives a complainant's ID number, so a complaint and a feed name the
same worker alike) and a masked name; the ID number itself never leaves the parsing of the file.

`summarise_month(...)` computes the month's figures once, for the API and for the monitoring workflow that
will call it: who is on the roster, who was paid and how much, who is on the roster but not paid, who was
paid but is not on the roster, and whose pay falls short of their days at the project's usual day rate.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from services.common.errors import Invalid

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# The first month a feed may be for: no project of the register started before the regulations (2020-05-01).
EARLIEST_MONTH = date(2020, 1, 1)
CENT = Decimal("0.01")


class FeedKind(StrEnum):
    PAYROLL = "payroll"  # 工资发放明细: the bank's file of the dedicated wage account's payments
    ATTENDANCE = "attendance"  # 考勤表: the real-name system's roster of who worked, and how many days


class MonthInvalid(Invalid):
    def __init__(self, text: str) -> None:
        super().__init__("Invalid month", f"{text!r} is not a month of a feed: YYYY-MM, from 2020-01 to this month")


def parse_month(text: str, *, today: date) -> date:
    """`2026-10` → 2026-10-01; a month not yet begun is refused (its feed cannot exist)."""
    match = MONTH.match(text)
    month = None
    if match and 1 <= int(match.group(2)) <= 12:
        month = date(int(match.group(1)), int(match.group(2)), 1)
    if month is None or month < EARLIEST_MONTH or month > today.replace(day=1):
        raise MonthInvalid(text)
    return month


def month_text(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


@dataclass(frozen=True)
class FeedWorker:
    """One worker of a feed: by keyed reference, with the masked name, and what the feed says of them."""

    person_ref: str
    name_masked: str
    amount: Decimal | None = None  # payroll: paid in the month, yuan
    days: Decimal | None = None  # attendance: days worked in the month

    def as_dict(self) -> dict[str, Any]:
        return {
            "person_ref": self.person_ref,
            "name": self.name_masked,
            **({"amount": str(self.amount)} if self.amount is not None else {}),
            **({"days": str(self.days)} if self.days is not None else {}),
        }


def rows_digest(workers: Sequence[FeedWorker]) -> str:
    """What a feed says, independent of its file: the same workers and figures in another order, encoding or
    format (a CSV saved again as XLSX) digest alike, so only a file that says something else replaces one."""
    lines = sorted(
        f"{w.person_ref}\t{w.amount if w.amount is not None else ''}\t{w.days if w.days is not None else ''}"
        for w in workers
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


@dataclass(frozen=True)
class Replacement:
    """How a corrected file differs from the month's feed before it."""

    added: int
    removed: int
    changed: int

    def as_dict(self) -> dict[str, int]:
        return {"added": self.added, "removed": self.removed, "changed": self.changed}


def replacement(before: Sequence[FeedWorker], after: Sequence[FeedWorker]) -> Replacement:
    old = {w.person_ref: w for w in before}
    new = {w.person_ref: w for w in after}
    return Replacement(
        added=len(new.keys() - old.keys()),
        removed=len(old.keys() - new.keys()),
        changed=sum(1 for ref in new.keys() & old.keys() if new[ref] != old[ref]),
    )


# -- the month's summary -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayShortfall:
    """A worker paid less than their days at the project's usual day rate, less the tolerance."""

    worker: FeedWorker
    days: Decimal
    paid: Decimal
    expected_at_least: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "person_ref": self.worker.person_ref,
            "name": self.worker.name_masked,
            "days": str(self.days),
            "paid": str(self.paid),
            "expected_at_least": str(self.expected_at_least),
        }


@dataclass(frozen=True)
class MonthSummary:
    month: date
    roster_received: bool
    payroll_received: bool
    workers_on_roster: int
    days_worked: Decimal
    workers_paid: int
    total_paid: Decimal
    # The median of pay ÷ days over the workers both on the roster and paid; None without any.
    day_rate: Decimal | None
    tolerance: Decimal
    on_roster_not_paid: list[FeedWorker]
    paid_not_on_roster: list[FeedWorker]
    pay_shortfalls: list[PayShortfall]

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": month_text(self.month),
            "roster_received": self.roster_received,
            "payroll_received": self.payroll_received,
            "workers_on_roster": self.workers_on_roster,
            "days_worked": str(self.days_worked),
            "workers_paid": self.workers_paid,
            "total_paid": str(self.total_paid),
            "day_rate": str(self.day_rate) if self.day_rate is not None else None,
            "tolerance": str(self.tolerance),
            "workers_on_roster_not_paid": len(self.on_roster_not_paid),
            "workers_paid_not_on_roster": len(self.paid_not_on_roster),
            "pay_mismatches": len(self.pay_shortfalls),
            "on_roster_not_paid": [w.as_dict() for w in self.on_roster_not_paid],
            "paid_not_on_roster": [w.as_dict() for w in self.paid_not_on_roster],
            "mismatches": [s.as_dict() for s in self.pay_shortfalls],
        }


def summarise_month(
    month: date, roster: Sequence[FeedWorker] | None, payroll: Sequence[FeedWorker] | None, *, tolerance: Decimal
) -> MonthSummary:
    """The month's figures from its roster and payroll (None: not received).

    - on the roster, not paid: every worker of the roster the payroll does not name (all of them while the
      payroll is missing — the checks tell "not received" apart by `payroll_received`);
    - paid, not on the roster: paid through the account without being registered as working (实名制);
    - pay short of days: paid less than days × the month's day rate × (1 − tolerance), the day rate being the
      median of pay ÷ days over the workers on both lists, so a project's own wage level is the yardstick and
      one worker's shortfall stands out from the rest. Paying more is no arrears and is not counted.
    """
    on_roster = {w.person_ref: w for w in roster or []}
    paid = {w.person_ref: w for w in payroll or []}
    both = [ref for ref in on_roster if ref in paid and on_roster[ref].days]
    rates = [_amount(paid[ref]) / _days(on_roster[ref]) for ref in both]
    day_rate = statistics.median(rates).quantize(CENT, ROUND_HALF_UP) if rates else None
    shortfalls = []
    if day_rate is not None:
        floor = day_rate * (1 - tolerance)
        for ref in both:
            days, amount = _days(on_roster[ref]), _amount(paid[ref])
            expected = (days * floor).quantize(CENT, ROUND_HALF_UP)
            if amount < expected:
                shortfalls.append(PayShortfall(on_roster[ref], days, amount, expected))
    return MonthSummary(
        month=month,
        roster_received=roster is not None,
        payroll_received=payroll is not None,
        workers_on_roster=len(on_roster),
        days_worked=sum((_days(w) for w in on_roster.values()), Decimal(0)),
        workers_paid=len(paid),
        total_paid=sum((_amount(w) for w in paid.values()), Decimal("0.00")),
        day_rate=day_rate,
        tolerance=tolerance,
        on_roster_not_paid=[w for ref, w in on_roster.items() if ref not in paid],
        paid_not_on_roster=[w for ref, w in paid.items() if ref not in on_roster],
        pay_shortfalls=shortfalls,
    )


def _days(worker: FeedWorker) -> Decimal:
    return worker.days if worker.days is not None else Decimal(0)


def _amount(worker: FeedWorker) -> Decimal:
    return worker.amount if worker.amount is not None else Decimal(0)
