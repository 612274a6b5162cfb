"""Investigation limit and extension, call-back, compressed clock, calendar updates, continue-as-new."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from services.contracts.lifecycle import (
    CASE_WORKFLOW_TYPE,
    SA_OVERDUE,
    ActivityNames,
    CalendarConfig,
    CalendarYear,
    CallbackRecord,
    CaseInput,
    CaseMember,
    CaseStage,
    CaseStatus,
    ClosureReason,
    ComplaintStage,
    ComplaintStatus,
    ExtensionApproval,
    HandoffResponse,
    LetterKind,
    Satisfaction,
    Signals,
    Status,
    Updates,
    VerificationOutcome,
    case_workflow_id,
)

from .harness import Harness, refused, search_attributes


async def _case_with(h: Harness, case_id: str, name: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if name in status.deadlines else None


async def _case_overdue(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if status.investigation_overdue else None


async def _notices(h: Harness, kind: str) -> list[Any]:
    return [n for n in h.services.distinct(ActivityNames.NOTIFY_AGENCY) if n.kind == kind]


# --- investigation limit ----------------------------------------------------------------------------------


async def test_investigation_limit_warns_before_and_flags_overdue_after(harness: Harness) -> None:
    h = harness
    _, case_id = await h.accepted_complaint()
    status = await h.eventually(lambda: _case_with(h, case_id, "investigation.warning.60.10"))
    limit = status.deadlines["investigation.limit.60"]
    assert limit.amount == 60 and limit.unit == "working"
    assert status.deadlines["investigation.warning.60.10"].amount == 50

    await h.skip_to(status.deadlines["investigation.warning.60.10"].fire_at)
    await h.eventually(lambda: _warned(h, 1))
    status = await h.eventually(lambda: _case_with(h, case_id, "investigation.warning.60.3"))
    await h.skip_to(status.deadlines["investigation.warning.60.3"].fire_at)
    await h.eventually(lambda: _warned(h, 2))
    assert not (await h.case_status(case_id)).investigation_overdue

    await h.skip_to(limit.fire_at)
    status = await h.eventually(lambda: _case_overdue(h, case_id))
    assert [n.office for n in await _notices(h, "investigation.overdue")] == ["supervising_office"]
    await h.eventually(lambda: _overdue_attribute(h, case_id))
    message = await refused(
        h.update(
            h.case(case_id),
            Updates.APPROVE_EXTENSION,
            ExtensionApproval(approved_by="d", reason="x"),
            CaseStatus,
        )
    )
    assert "before the limit passes" in message


async def _warned(h: Harness, count: int) -> bool:
    return len(await _notices(h, "investigation.warning")) == count


async def _overdue_attribute(h: Harness, case_id: str) -> bool:
    return (await search_attributes(h.case(case_id))).get(SA_OVERDUE.name) is True


async def test_approved_extension_moves_the_limit_by_thirty_working_days(harness: Harness) -> None:
    h = harness
    _, case_id = await h.accepted_complaint()
    status = await h.eventually(lambda: _case_with(h, case_id, "investigation.limit.60"))
    original = status.deadlines["investigation.limit.60"]
    await h.update(
        h.case(case_id),
        Updates.APPROVE_EXTENSION,
        ExtensionApproval(approved_by="bureau-head", reason="涉及人数多，需调取银行流水"),
        CaseStatus,
    )
    message = await refused(
        h.update(
            h.case(case_id),
            Updates.APPROVE_EXTENSION,
            ExtensionApproval(approved_by="x", reason="y"),
            CaseStatus,
        )
    )
    assert "already extended once" in message
    status = await h.eventually(lambda: _case_with(h, case_id, "investigation.limit.90"))
    extended = status.deadlines["investigation.limit.90"]
    assert status.extension_approved and extended.amount == 90
    assert extended.due_at > original.due_at
    assert status.deadlines["investigation.limit.60"].outcome == "superseded"

    # Nothing happens at the old limit...
    await h.skip_to(original.fire_at)
    await h.eventually(lambda: _case_with(h, case_id, "investigation.warning.90.10"))
    assert not (await h.case_status(case_id)).investigation_overdue
    assert await _notices(h, "investigation.overdue") == []
    # ...the warnings and the overdue flag follow the new one.
    await h.skip_to(extended.fire_at)
    await h.eventually(lambda: _case_overdue(h, case_id))
    warnings = [n.idempotency_key.rsplit(":", 1)[-1] for n in await _notices(h, "investigation.warning")]
    assert warnings == ["investigation.warning.90.10", "investigation.warning.90.3"]


async def test_closing_in_time_stops_the_investigation_clock(harness: Harness) -> None:
    h = harness
    _, case_id = await h.verified_case(VerificationOutcome.UNFOUNDED)
    result = await h.result(h.case(case_id))
    assert result.status is Status.CLOSED and not result.investigation_overdue
    assert await _notices(h, "investigation.warning") == []


# --- call-back -----------------------------------------------------------------------------------------------


async def test_callback_records_satisfaction_and_completes(harness: Harness) -> None:
    h = harness
    complaint, _ = await h.verified_case(VerificationOutcome.ALREADY_PAID)
    await h.eventually(lambda: _complaint_in(h, complaint, ComplaintStage.CALLBACK))
    await h.update(
        complaint,
        Updates.RECORD_CALLBACK,
        CallbackRecord(satisfaction=Satisfaction.SATISFIED, called_by="clerk-2", notes="工资已到账"),
        ComplaintStatus,
    )
    result = await h.result(complaint)
    assert result.status is Status.COMPLETED and result.stage is ComplaintStage.DONE
    assert result.satisfaction is Satisfaction.SATISFIED
    assert result.closure_reason is ClosureReason.ALREADY_PAID
    assert any(e.kind == "callback.recorded" and "满意" in e.text for e in result.timeline)


async def test_callback_overdue_reminds_then_is_recorded_as_missed(harness: Harness) -> None:
    h = harness
    complaint, _ = await h.verified_case(VerificationOutcome.DUPLICATE)
    status = await h.eventually(lambda: _complaint_with(h, complaint, "callback"))
    await h.skip_to(status.deadlines["callback"].fire_at)
    status = await h.eventually(lambda: _complaint_with(h, complaint, "callback.grace"))
    assert status.overdue
    assert [n.kind for n in h.services.distinct(ActivityNames.NOTIFY_AGENCY)][-1] == "callback.overdue"
    await h.skip_to(status.deadlines["callback.grace"].fire_at)
    result = await h.result(complaint)
    assert result.status is Status.COMPLETED and result.satisfaction is None and not result.overdue
    assert any(e.kind == "callback.missed" for e in result.timeline)


async def _complaint_in(h: Harness, handle: Any, stage: ComplaintStage) -> ComplaintStatus | None:
    status = await h.complaint_status(handle)
    return status if status.stage is stage else None


async def _complaint_with(h: Harness, handle: Any, name: str) -> ComplaintStatus | None:
    status = await h.complaint_status(handle)
    return status if name in status.deadlines else None


# --- compressed clock ---------------------------------------------------------------------------------------


async def test_compressed_clock_fires_early_and_keeps_legal_dates(harness: Harness) -> None:
    h = harness
    config = h.config(working_day_seconds=30)
    handle = await h.start_complaint(config=config)
    status = await h.eventually(lambda: _complaint_with(h, handle, "acceptance"))
    deadline = status.deadlines["acceptance"]
    received = status.deadlines["acceptance"].legal_start
    assert deadline.fire_at - received < timedelta(minutes=5)  # 5 working days x 30 s (plus start-up)
    assert deadline.due_at - received > timedelta(days=4)  # the legal date is unchanged
    await h.skip_to(deadline.fire_at, margin=timedelta(seconds=1))
    status = await h.eventually(lambda: _overdue_complaint(h, handle))
    escalation = next(e for e in status.timeline if e.kind == "acceptance.overdue")
    assert escalation.at == deadline.due_at  # the timeline shows the legal instant
    assert str(deadline.due_date) in escalation.text


async def _overdue_complaint(h: Harness, handle: Any) -> ComplaintStatus | None:
    status = await h.complaint_status(handle)
    return status if status.overdue else None


# --- calendar updates -------------------------------------------------------------------------------------


async def test_entering_next_years_calendar_recomputes_provisional_deadlines(harness: Harness) -> None:
    h = harness
    # The package's data ends with 2026 and the test clock starts no earlier than late 2026, so the
    # 60-working-day limit reaches into a year nobody has entered yet.
    _, case_id = await h.accepted_complaint()
    status = await h.eventually(lambda: _case_with(h, case_id, "investigation.limit.60"))
    limit = status.deadlines["investigation.limit.60"]
    assert limit.provisional and limit.calendar_note
    assert any(e.kind == "deadline.provisional" for e in status.timeline)
    years = sorted({limit.legal_start.year, limit.due_date.year})
    entered = [
        CalendarYear(
            year=year,
            holidays=[date(year, 1, 1), date(year, 1, 2)] if year != limit.legal_start.year else [],
        )
        for year in years
        if year > 2026
    ]
    await h.case(case_id).signal(Signals.CALENDAR_UPDATED, CalendarConfig(years=entered))
    status = await h.eventually(lambda: _recomputed(h, case_id))
    recomputed = status.deadlines["investigation.limit.60"]
    assert not recomputed.provisional
    assert any(e.kind == "deadline.recomputed" for e in status.timeline)


async def _recomputed(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if not status.deadlines["investigation.limit.60"].provisional else None


# --- continue-as-new -----------------------------------------------------------------------------------------


async def test_long_case_continues_as_new_without_repeating_any_letter(harness: Harness) -> None:
    h = harness
    config = h.config(continue_as_new_after_events=100)
    _, case_id = await h.verified_case(VerificationOutcome.QUANTITY_DISPUTE, config=config)
    await h.advance_until(lambda: _exhausted(h), step=timedelta(days=2), max_days=200)
    letters = h.services.letters()
    assert letters[0] is LetterKind.HANDOFF and letters[-1] is LetterKind.ACCOUNTABILITY_TRANSFER
    keys = [r.idempotency_key for r in h.services.requests(ActivityNames.ISSUE_LETTER)]
    assert len(keys) == len(set(keys)) == 6
    history = await h.case(case_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.continued_execution_run_id, "the current run should be a continuation"
    await h.update(
        h.case(case_id),
        Updates.RECORD_HANDOFF_RESPONSE,
        HandoffResponse(department="county-housing-bureau", summary="已处理", responded_by="dept-1"),
        CaseStatus,
    )
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.HANDED_OFF
    assert result.stage is CaseStage.CLOSED
    # The timeline survived the hand-over between runs.
    kinds = [e.kind for e in result.timeline]
    assert kinds.count("letter.handoff") == 1 and kinds.count("letter.accountability_transfer") == 1


async def _exhausted(h: Harness) -> bool:
    return "handoff.ladder_exhausted" in h.services.notices()


async def test_missing_calendar_with_fallback_fail_blocks_visibly_until_entered(harness: Harness) -> None:
    h = harness
    now = await h.env.get_current_time()
    case_id = h.new_id("AJ")
    h.started.append(case_workflow_id(case_id))
    # A case started directly, as a complaint's join would: its 60-working-day limit reaches past 2026,
    # where neither the package nor the configuration has a calendar.
    await h.client.start_workflow(
        CASE_WORKFLOW_TYPE,
        CaseInput(
            case_id=case_id,
            county="130402",
            employer_ref="E",
            project_ref="P",
            config=h.config(calendar={"fallback": "fail"}),
        ),
        id=case_workflow_id(case_id),
        task_queue=h.queue,
        start_signal=Signals.COMPLAINT_JOINED,
        start_signal_args=[
            CaseMember(
                complaint_id="TS-1",
                amount_owed=Decimal(9000),
                workers_affected=1,
                months_owed=4,
                accepted_at=now,
            )
        ],
    )
    status = await h.eventually(lambda: _blocked(h, case_id))
    assert "investigation.limit.60" not in status.deadlines
    attributes = await search_attributes(h.case(case_id))
    assert attributes[SA_OVERDUE.name] is True  # operators see it in the list of stuck cases
    # Enter every year the limit can reach (no holidays: ordinary weeks).
    years = [CalendarYear(year=y) for y in range(now.year, now.year + 2) if y > 2026]
    await h.case(case_id).signal(Signals.CALENDAR_UPDATED, CalendarConfig(years=years, fallback="fail"))
    status = await h.eventually(lambda: _case_with(h, case_id, "investigation.limit.60"))
    assert not status.deadlines["investigation.limit.60"].provisional
    await h.eventually(lambda: _not_overdue(h, case_id))


async def _blocked(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if any(e.kind == "calendar.missing" for e in status.timeline) else None


async def _not_overdue(h: Harness, case_id: str) -> bool:
    return (await search_attributes(h.case(case_id)))[SA_OVERDUE.name] is False
