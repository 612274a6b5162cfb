"""Pure rules of joint interviews (联合约谈): which employers are proposed for one, and which commitments made
at one are overdue.

No I/O. The report the project grew from (the Handan bureau's 2024 reply, `../shared/seed/`) has the bureau
call employers "欠薪问题多发、频发，涉及人数较多、金额较大" to a joint interview with the police, tax,
administrative approval and industry departments; how many cases make "多发" and what amount is "较大" is
not fixed there, so both are configuration (`settings.py`), judged here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from services.sanctions.domain import add_months


@dataclass(frozen=True)
class ProposalRule:
    """Repeated cases: at least `min_cases` opened in the last `window_months`, or a total owed of at least
    `amount_threshold` over the cases opened in that window."""

    min_cases: int = 3
    amount_threshold: Decimal = Decimal("500000")
    window_months: int = 12

    def window_start(self, today: date) -> date:
        """The first day of the window ending `today` (12 months: the same day a year before, excluded)."""
        return add_months(today, -self.window_months)


@dataclass(frozen=True)
class CaseFact:
    """One case of an employer as the read model knows it (from intake's complaints)."""

    case_id: str
    county: str
    opened_on: date
    amount_owed: Decimal


class ProposalGround(StrEnum):
    REPEATED_CASES = "repeated_cases"
    LARGE_AMOUNT = "large_amount"


@dataclass(frozen=True)
class Proposal:
    grounds: list[ProposalGround]
    cases: list[CaseFact]
    amount_owed: Decimal
    counties: list[str]
    last_opened_on: date


def proposal(
    rule: ProposalRule, cases: Iterable[CaseFact], today: date, last_interview_on: date | None = None
) -> Proposal | None:
    """The proposal for one employer's cases, or None: only the cases opened inside the window count, and an
    employer interviewed inside the window is not proposed again (its commitments are followed up instead)."""
    start = rule.window_start(today)
    if last_interview_on is not None and last_interview_on > start:
        return None
    recent = sorted((c for c in cases if start < c.opened_on <= today), key=lambda c: (c.opened_on, c.case_id))
    if not recent:
        return None
    amount = sum((c.amount_owed for c in recent), Decimal(0))
    grounds = []
    if len(recent) >= rule.min_cases:
        grounds.append(ProposalGround.REPEATED_CASES)
    if amount >= rule.amount_threshold:
        grounds.append(ProposalGround.LARGE_AMOUNT)
    if not grounds:
        return None
    return Proposal(
        grounds=grounds,
        cases=recent,
        amount_owed=amount,
        counties=sorted({c.county for c in recent}),
        last_opened_on=recent[-1].opened_on,
    )


# --- commitments made at an interview -----------------------------------------------------------------------


class CommitmentOutcome(StrEnum):
    KEPT = "kept"
    BROKEN = "broken"


def commitment_overdue(due_date: date | None, outcome: str | None, today: date) -> bool:
    """A commitment is overdue once its due date has passed (the day after it) with no outcome recorded. One
    without a due date is never overdue."""
    return outcome is None and due_date is not None and due_date < today


# The same rule in SQL, for the lists and the gauge that read it from the store (`%(today)s`: the legal date).
OVERDUE_SQL = "(c.outcome IS NULL AND c.due_date IS NOT NULL AND c.due_date < %(today)s)"
