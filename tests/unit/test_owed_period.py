"""The rules on the owed period (services/contracts/owed_period.py): the two-year violation limit and the
whole months owed."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from services.contracts.lifecycle import (
    AcceptanceDecisionKind,
    ComplaintStage,
    RejectionReason,
    acceptance_suggestion,
)
from services.contracts.owed_period import (
    add_months,
    past_violation_limit,
    violation_limit_basis,
    violation_limit_date,
    whole_months_owed,
)

# --- the violation limit ---------------------------------------------------------------------------------


def test_the_limit_is_the_same_date_two_years_later() -> None:
    assert violation_limit_date(date(2024, 6, 30)) == date(2026, 6, 30)
    assert not past_violation_limit(date(2024, 6, 30), date(2026, 6, 30))
    assert past_violation_limit(date(2024, 6, 30), date(2026, 7, 1))


def test_a_period_ending_on_29_february_reaches_its_limit_on_28_february() -> None:
    assert violation_limit_date(date(2024, 2, 29)) == date(2026, 2, 28)
    assert not past_violation_limit(date(2024, 2, 29), date(2026, 2, 28))
    assert past_violation_limit(date(2024, 2, 29), date(2026, 3, 1))
    # Into a leap year the date exists.
    assert violation_limit_date(date(2024, 2, 29), years=4) == date(2028, 2, 29)


def test_an_instant_is_judged_on_its_china_date() -> None:
    # 17:00 UTC on 30 June is 01:00 on 1 July in China: one day past a limit that ends on 30 June.
    received = datetime(2026, 6, 30, 17, 0, tzinfo=UTC)
    assert past_violation_limit(date(2024, 6, 30), received)
    assert not past_violation_limit(date(2024, 6, 30), datetime(2026, 6, 30, 15, 59, tzinfo=UTC))


def test_an_instant_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        past_violation_limit(date(2024, 6, 30), datetime(2026, 7, 1, 12, 0))


def test_the_limit_is_configurable_in_years() -> None:
    assert not past_violation_limit(date(2024, 6, 30), date(2026, 7, 1), years=3)


def test_a_complaint_past_the_limit_is_suggested_for_rejection_while_it_awaits_acceptance() -> None:
    suggestion = acceptance_suggestion(ComplaintStage.AWAITING_ACCEPTANCE, True, date(2023, 5, 31))
    assert suggestion is not None
    assert suggestion.decision is AcceptanceDecisionKind.REJECT
    assert suggestion.reason is RejectionReason.VIOLATION_TOO_OLD
    assert "2023-05-31" in suggestion.basis and "2025-05-31" in suggestion.basis
    # The ledger passes its stored stage as text.
    assert acceptance_suggestion("awaiting_acceptance", True, None) is not None
    assert acceptance_suggestion(ComplaintStage.AWAITING_ACCEPTANCE, False, date(2023, 5, 31)) is None
    for stage in (ComplaintStage.AWAITING_INFORMATION, ComplaintStage.IN_CASE, ComplaintStage.CALLBACK):
        assert acceptance_suggestion(stage, True, date(2023, 5, 31)) is None


def test_the_basis_names_the_provision_with_or_without_dates() -> None:
    assert "第二十条" in violation_limit_basis(date(2023, 5, 31))
    assert "第二十条" in violation_limit_basis(None)


# --- whole months owed -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 1, 1), date(2026, 3, 31), 3),
        (date(2026, 1, 15), date(2026, 4, 14), 3),
        (date(2026, 1, 15), date(2026, 4, 13), 2),
        (date(2026, 5, 31), date(2026, 7, 1), 1),
        (date(2026, 5, 31), date(2026, 6, 30), 1),  # June has no 31st: its last day ends the month
        (date(2026, 5, 31), date(2026, 6, 29), 0),
        (date(2026, 6, 1), date(2026, 6, 30), 1),
        (date(2026, 6, 1), date(2026, 6, 29), 0),
        (date(2026, 6, 1), date(2026, 6, 1), 0),
        (date(2026, 1, 31), date(2026, 2, 28), 1),  # to the end of a short month
        (date(2026, 1, 31), date(2026, 2, 27), 0),
        (date(2026, 1, 28), date(2026, 2, 27), 1),
        (date(2025, 11, 1), date(2026, 10, 31), 12),  # across a year
        (date(2024, 2, 29), date(2025, 2, 28), 12),  # a year from 29 February ends on 28 February
        (date(2024, 2, 29), date(2025, 2, 27), 11),
    ],
)
def test_whole_months_between_the_first_and_the_last_day_owed(start: date, end: date, months: int) -> None:
    assert whole_months_owed(start, end) == months


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        whole_months_owed(date(2026, 3, 1), date(2026, 2, 28))


def test_add_months_clamps_to_the_end_of_a_shorter_month() -> None:
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 1, 31), 0) == date(2026, 1, 31)


def test_months_grow_one_at_a_time_as_the_period_grows() -> None:
    start = date(2023, 12, 1)
    for offset in range(0, 800, 7):
        first = start + timedelta(days=offset)
        counted = [whole_months_owed(first, first + timedelta(days=length)) for length in range(0, 130)]
        # 27 days are less than any month, 32 days more than any.
        assert counted[26] == 0 and counted[31] == 1
        assert all(0 <= later - earlier <= 1 for earlier, later in itertools.pairwise(counted))
