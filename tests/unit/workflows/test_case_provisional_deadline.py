"""A provisional deadline with legal consequences: an order to pay served before its year's official calendar is
published waits, before refusal, for that calendar or for an inspector's confirmation of the date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.contracts.lifecycle import (
    ActivityNames,
    CalendarConfig,
    CalendarYear,
    CaseStage,
    CaseStatus,
    DeadlineConfirmation,
    Signals,
    Updates,
)

from .case_steps import pass_payment_deadline, served_case, with_deadline
from .harness import Harness, refused

# An official 2027 arrangement for the tests: the statutory days and a plausible Spring Festival week.
OFFICIAL_2027 = CalendarConfig(
    years=[
        CalendarYear(
            year=2027,
            holidays=[
                date(2027, 1, 1),
                *(date(2027, 2, d) for d in range(5, 12)),
                date(2027, 4, 5),
                *(date(2027, 5, d) for d in range(1, 6)),
                date(2027, 6, 9),
                date(2027, 9, 15),
                *(date(2027, 10, d) for d in range(1, 8)),
            ],
            make_up_workdays=[date(2027, 2, 13), date(2027, 9, 26)],
        )
    ]
)


async def _held(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if any(e.kind == "deadline.held" for e in status.timeline) else None


async def order_served_on_29_january_2027(h: Harness) -> tuple[str, CaseStatus]:
    """A 7-day order served on 29 January 2027, a year with no official calendar yet: provisional."""
    await h.skip_to(datetime(2027, 1, 29, 1, 0, tzinfo=UTC), margin=timedelta(0))
    _, case_id, status = await served_case(
        h, amount=48000, workers=12, months=2, config=h.config(hold_provisional_expiry=True)
    )
    deadline = status.deadlines["order.payment"]
    assert deadline.provisional and deadline.due_date >= date(2027, 2, 5)
    await h.skip_to(deadline.fire_at)
    status = await h.eventually(lambda: _held(h, case_id))
    assert status.stage is CaseStage.PAYMENT and "deadline.held" in h.services.notices()
    assert h.services.requests(ActivityNames.DECIDE_ADDITIONAL_COMPENSATION) == []
    return case_id, status


async def test_a_provisional_order_deadline_waits_for_the_official_calendar_before_refusal(
    fresh_harness: Harness,
) -> None:
    h = fresh_harness
    case_id, _ = await order_served_on_29_january_2027(h)
    await h.case(case_id).signal(Signals.CALENDAR_UPDATED, OFFICIAL_2027)

    async def recomputed() -> CaseStatus | None:
        status = await h.case_status(case_id)
        return status if not status.deadlines["order.payment"].provisional else None

    status = await h.eventually(recomputed)
    # 5 February is New Year's Eve: the period ends on the first working day after the festival.
    assert status.deadlines["order.payment"].due_date == date(2027, 2, 12)
    assert status.stage is CaseStage.PAYMENT
    await h.skip_to(status.deadlines["order.payment"].fire_at)
    await h.eventually(lambda: with_deadline(h, case_id, "order.late_record"))


async def test_an_inspector_confirming_the_date_lets_the_refusal_go_ahead(fresh_harness: Harness) -> None:
    h = fresh_harness
    case_id, _ = await order_served_on_29_january_2027(h)
    message = await refused(
        h.update(
            h.case(case_id),
            Updates.CONFIRM_DEADLINE,
            DeadlineConfirmation(name="order.nonexistent", confirmed_by="inspector-7"),
            CaseStatus,
        )
    )
    assert "no pending provisional deadline" in message
    await h.update(
        h.case(case_id),
        Updates.CONFIRM_DEADLINE,
        DeadlineConfirmation(name="order.payment", confirmed_by="inspector-7", note="经核对国务院办公厅通知"),
        CaseStatus,
    )
    status = await pass_payment_deadline(
        h, case_id, await h.eventually(lambda: with_deadline(h, case_id, "order.late_record")), skip_order=False
    )
    assert status.stage is CaseStage.REFUSAL
    assert any(e.kind == "deadline.confirmed" for e in status.timeline)
