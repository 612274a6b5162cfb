"""The acceptance periods (one rule for the workflow and the starter) and the deadlines the starter computes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.contracts.acceptance_deadlines import acceptance_deadlines_at_start
from services.contracts.lifecycle import AcceptanceConfig, DayUnit, DeadlineRequest, LifecycleConfig, Period
from services.contracts.working_days import compute_deadline


def test_the_periods_of_each_round_and_the_reminder_before_the_decision() -> None:
    config = AcceptanceConfig()
    assert config.periods(1) == (Period("acceptance", 5), Period("acceptance.reminder", 4))
    assert config.periods(2) == (Period("acceptance#2", 5), Period("acceptance#2.reminder", 4))
    # No reminder when asked for none, or for one no earlier than the period itself.
    assert AcceptanceConfig(reminder_working_days_before=0).periods(1) == (Period("acceptance", 5), None)
    assert AcceptanceConfig(decision_working_days=3, reminder_working_days_before=3).periods(1)[1] is None


def test_the_starter_computes_what_the_calendar_activity_would() -> None:
    config = LifecycleConfig.model_validate({"province": "henan", "working_day_seconds": 2})
    received = datetime(2026, 9, 30, 9, tzinfo=UTC)
    wall = datetime(2026, 12, 2, 6, tzinfo=UTC)
    deadlines = acceptance_deadlines_at_start(config, received, wall)
    assert [d.name for d in deadlines] == ["acceptance", "acceptance.reminder"]
    for deadline in deadlines:
        request = DeadlineRequest(
            name=deadline.name,
            legal_start=received,
            wall_start=wall,
            amount=deadline.amount,
            unit=DayUnit.WORKING,
            calendar=config.calendar,
            working_day_seconds=2,
        )
        assert deadline == compute_deadline(request)
    # On the compressed clock the timers count from the start, the legal dates from receipt (National Day).
    assert deadlines[0].due_date == date(2026, 10, 13)
    assert deadlines[0].fire_at == wall + timedelta(seconds=10)


def test_no_deadlines_when_the_calendar_cannot_count_them() -> None:
    # A year neither the package nor the configuration covers, with no fallback allowed: the workflow computes
    # them itself and waits, visibly, for the bureau to enter the year.
    config = LifecycleConfig.model_validate({"province": "henan", "calendar": {"fallback": "fail"}})
    assert acceptance_deadlines_at_start(config, datetime(2031, 3, 2, tzinfo=UTC), datetime.now(UTC)) == []


def test_deadlines_on_the_fallback_are_provisional() -> None:
    config = LifecycleConfig.model_validate({"province": "henan"})
    deadlines = acceptance_deadlines_at_start(config, datetime(2031, 3, 2, tzinfo=UTC), datetime.now(UTC))
    assert len(deadlines) == 2 and all(d.provisional and d.calendar_note for d in deadlines)
