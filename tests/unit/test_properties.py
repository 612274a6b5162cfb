"""Properties of the domain rules, checked on generated inputs rather than hand-picked examples.

Working-day arithmetic (services/contracts/working_days.py), the criminal threshold (workflows/rules.py) and the
handoff states of the referrals service (services/referrals/domain.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.contracts.lifecycle import CalendarConfig, CaseMember, CriminalThreshold
from services.contracts.referrals_events import HandoffStatus
from services.contracts.statutory_holidays import statutory_holidays
from services.contracts.working_days import WorkingCalendar, installed_package
from services.referrals.domain import FINAL, Refused, check_acknowledge, check_answer
from workflows.rules import assess_criminal_threshold

# Kept small so the whole file runs in a few seconds inside `make test`.
FAST = settings(max_examples=150, deadline=None)

PACKAGE = installed_package()
FIRST_YEAR, LAST_YEAR = min(PACKAGE.years), max(PACKAGE.years)
# Days well inside the package's years, so a period started there never runs past its data.
covered_days = st.dates(min_value=date(FIRST_YEAR, 1, 1), max_value=date(LAST_YEAR, 10, 1))
any_days = st.dates(min_value=date(2000, 1, 1), max_value=date(2199, 10, 1))
periods = st.integers(min_value=0, max_value=60)


def calendar() -> WorkingCalendar:
    return WorkingCalendar(CalendarConfig())


# --- working days ----------------------------------------------------------------------------------------


@FAST
@given(start=any_days, days=periods)
def test_adding_then_counting_back_gives_the_same_number_of_working_days(start: date, days: int) -> None:
    cal = calendar()
    due = cal.add_working_days(start, days)
    assert cal.working_days_between(start, due) == days


@FAST
@given(start=any_days, days=st.integers(min_value=1, max_value=60))
def test_a_working_day_period_ends_on_a_working_day(start: date, days: int) -> None:
    cal = calendar()
    due = cal.add_working_days(start, days)
    assert due > start
    assert cal.is_working_day(due)


@FAST
@given(start=any_days, days=periods, more=st.integers(min_value=0, max_value=20))
def test_a_longer_period_never_ends_earlier(start: date, days: int, more: int) -> None:
    cal = calendar()
    assert cal.add_working_days(start, days) <= cal.add_working_days(start, days + more)


@FAST
@given(start=any_days, later=st.integers(min_value=0, max_value=30), days=periods)
def test_a_later_start_never_ends_earlier(start: date, later: int, days: int) -> None:
    cal = calendar()
    assert cal.add_working_days(start, days) <= cal.add_working_days(start + timedelta(days=later), days)


@FAST
@given(start=covered_days, days=st.integers(min_value=1, max_value=60))
def test_working_days_agree_with_the_chinese_calendar_package(start: date, days: int) -> None:
    cal = calendar()
    due = cal.add_working_days(start, days)
    assert chinese_calendar.is_workday(due)
    skipped = [start + timedelta(days=i) for i in range(1, (due - start).days)]
    assert sum(chinese_calendar.is_workday(day) for day in skipped) == days - 1
    assert not cal.fallback_years, "a covered year must never use the fallback"


@FAST
@given(start=covered_days, days=st.integers(min_value=1, max_value=90))
def test_a_calendar_day_period_ends_on_a_working_day_no_earlier_than_its_length(start: date, days: int) -> None:
    cal = calendar()
    due = cal.add_calendar_days(start, days)
    assert due >= start + timedelta(days=days)
    assert chinese_calendar.is_workday(due)
    # Moved only across rest days, never past a working day.
    assert all(not chinese_calendar.is_workday(start + timedelta(days=d)) for d in range(days, (due - start).days))


@FAST
@given(day=st.dates(min_value=date(LAST_YEAR + 1, 1, 1), max_value=date(2199, 12, 31)))
def test_an_uncovered_year_falls_back_to_weekdays_less_statutory_holidays_and_says_so(day: date) -> None:
    cal = calendar()
    assert cal.is_working_day(day) == (day.weekday() < 5 and day not in statutory_holidays(day.year))
    assert cal.fallback_years == {day.year}


# --- the criminal threshold --------------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=2_000_000, places=2, allow_nan=False, allow_infinity=False)
thresholds = st.builds(
    CriminalThreshold,
    per_worker_amount=st.decimals(min_value=1, max_value=100_000, places=2),
    min_months_owed=st.integers(min_value=1, max_value=6),
    min_workers=st.integers(min_value=1, max_value=30),
    aggregate_amount=st.decimals(min_value=1, max_value=500_000, places=2),
)
members = st.lists(
    st.builds(
        CaseMember,
        complaint_id=st.from_regex(r"TS-20260101-[A-Z2-9]{6}", fullmatch=True),
        amount_owed=st.decimals(min_value=0, max_value=500_000, places=2),
        workers_affected=st.integers(min_value=1, max_value=50),
        months_owed=st.integers(min_value=0, max_value=24),
        accepted_at=st.just(datetime(2026, 1, 1, tzinfo=UTC)),
    ),
    max_size=5,
)


def reached(case: list[CaseMember], threshold: CriminalThreshold, paid: Decimal, workers: int) -> bool:
    owed = sum((m.amount_owed for m in case), Decimal(0))
    return assess_criminal_threshold(case, threshold, amount_owed=owed, amount_paid=paid, workers=workers).reached


@FAST
@given(
    case=members, threshold=thresholds, paid=amounts, more_paid=amounts, workers=st.integers(min_value=1, max_value=100)
)
def test_paying_more_never_makes_a_case_reach_the_threshold(
    case: list[CaseMember], threshold: CriminalThreshold, paid: Decimal, more_paid: Decimal, workers: int
) -> None:
    if reached(case, threshold, paid + more_paid, workers):
        assert reached(case, threshold, paid, workers)


@FAST
@given(
    case=members,
    threshold=thresholds,
    paid=amounts,
    workers=st.integers(min_value=1, max_value=100),
    more_workers=st.integers(min_value=0, max_value=100),
)
def test_more_workers_never_make_a_case_fall_below_the_threshold(
    case: list[CaseMember], threshold: CriminalThreshold, paid: Decimal, workers: int, more_workers: int
) -> None:
    if reached(case, threshold, paid, workers):
        assert reached(case, threshold, paid, workers + more_workers)


@FAST
@given(owed=amounts, extra=amounts, threshold=thresholds, workers=st.integers(min_value=1, max_value=100))
def test_a_larger_outstanding_amount_never_falls_below_the_aggregate_test(
    owed: Decimal, extra: Decimal, threshold: CriminalThreshold, workers: int
) -> None:
    def assess(amount: Decimal) -> bool:
        return assess_criminal_threshold(
            [], threshold, amount_owed=amount, amount_paid=Decimal(0), workers=workers
        ).reached

    if assess(owed):
        assert assess(owed + extra)
    # With no members only the aggregate test applies: exactly the two conditions.
    assert assess(owed) == (workers >= threshold.min_workers and owed >= threshold.aggregate_amount)


@FAST
@given(case=members, threshold=thresholds, paid=amounts, workers=st.integers(min_value=1, max_value=100))
def test_the_outstanding_amount_is_never_negative(
    case: list[CaseMember], threshold: CriminalThreshold, paid: Decimal, workers: int
) -> None:
    owed = sum((m.amount_owed for m in case), Decimal(0))
    result = assess_criminal_threshold(case, threshold, amount_owed=owed, amount_paid=paid, workers=workers)
    assert result.outstanding == max(owed - paid, Decimal(0))
    assert result.basis


# --- handoff states (referrals) ----------------------------------------------------------------------------

ACTIONS = ("acknowledge", "respond", "return")


def step(status: HandoffStatus, action: str) -> HandoffStatus:
    """The state machine as the referrals service applies it: the domain check, then the new state."""
    if action == "acknowledge":
        check_acknowledge(status)
        return HandoffStatus.ACKNOWLEDGED
    check_answer(status)
    return HandoffStatus.RESPONDED if action == "respond" else HandoffStatus.RETURNED


@FAST
@given(actions=st.lists(st.sampled_from(ACTIONS), max_size=8))
def test_no_sequence_of_actions_leaves_a_final_handoff_or_acknowledges_twice(actions: list[str]) -> None:
    status = HandoffStatus.SENT
    history = [status]
    for action in actions:
        try:
            status = step(status, action)
        except Refused:
            continue
        history.append(status)
    # Each state at most once, in the only order allowed: sent → (acknowledged) → responded | returned.
    assert len(history) == len(set(history))
    assert history[0] is HandoffStatus.SENT
    assert all(s not in FINAL for s in history[:-1])
    assert history in (
        [HandoffStatus.SENT],
        [HandoffStatus.SENT, HandoffStatus.ACKNOWLEDGED],
        [HandoffStatus.SENT, HandoffStatus.RESPONDED],
        [HandoffStatus.SENT, HandoffStatus.RETURNED],
        [HandoffStatus.SENT, HandoffStatus.ACKNOWLEDGED, HandoffStatus.RESPONDED],
        [HandoffStatus.SENT, HandoffStatus.ACKNOWLEDGED, HandoffStatus.RETURNED],
    )


@pytest.mark.parametrize("final", FINAL)
@pytest.mark.parametrize("action", ACTIONS)
def test_a_final_handoff_accepts_no_action(final: HandoffStatus, action: str) -> None:
    with pytest.raises(Refused):
        step(final, action)
