"""The blacklist procedure under time skipping: a listing's whole life (notice, defence, decision,
publication, three years, removal) in seconds, the decision not to list, and credit repair."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from temporalio.client import WorkflowUpdateFailedError

from services.contracts.lifecycle import DayUnit
from services.contracts.listing_reports import listing_snapshot_of
from services.contracts.sanctions_workflows import (
    CorrectionReport,
    EarlyRemovalApplication,
    EarlyRemovalDecision,
    ListingSignals,
    ListingStage,
    ListingStatus,
    ListingUpdates,
    NotListedReason,
    RemovalReason,
    StatementRecord,
    StatementReview,
)
from services.sanctions.domain import add_months, china_date

from .listing_run import Run


async def test_a_listing_lives_its_whole_life_notice_defence_decision_publication_three_years_removal(run: Run) -> None:
    handle = await run.start()
    in_defence = await run.reach(handle, ListingStage.DEFENCE)
    assert in_defence.notice_document_id is not None
    notice = run.fakes.command("notice")
    assert notice.defence_days == 5 and notice.defence_unit is DayUnit.WORKING
    assert notice.defence_due_date == in_defence.defence_due_date
    # Five working days: at least a week of calendar days after the notice.
    assert (notice.defence_due_date - china_date(notice.issued_at)).days >= 5

    final = await handle.result()  # time skips through the defence period and the three years

    assert run.fakes.names() == ["deadline", "notice", "decision", "publish", "remove"]
    decision = run.fakes.command("decision")
    assert decision.listed is True and decision.expires_on == add_months(china_date(decision.decided_at), 36)
    assert china_date(decision.decided_at) > notice.defence_due_date
    publish = run.fakes.command("publish")
    assert publish.expires_on == decision.expires_on
    removal = run.fakes.command("remove")
    assert removal.reason is RemovalReason.EXPIRED and removal.application_id is None
    assert china_date(removal.removed_at) > decision.expires_on
    assert (removal.removed_at - decision.decided_at) >= timedelta(days=3 * 365)
    assert final.stage is ListingStage.REMOVED and final.removal_reason is RemovalReason.EXPIRED
    assert [e.kind for e in final.timeline] == ["proposed", "notice", "listed", "removed"]


async def test_wages_paid_in_full_before_the_decision_leave_the_employer_off_the_list(run: Run) -> None:
    handle = await run.start(amount="60000.00")
    await run.reach(handle, ListingStage.DEFENCE)
    await handle.signal(
        ListingSignals.CORRECTION_REPORTED, CorrectionReport(correction_id="CORR-1", amount=Decimal("20000"))
    )
    await handle.signal(
        ListingSignals.CORRECTION_REPORTED, CorrectionReport(correction_id="CORR-1", amount=Decimal("20000"))
    )
    assert (await run.status(handle)).amount_corrected == Decimal("20000")  # a repeated report counts once
    await handle.signal(
        ListingSignals.CORRECTION_REPORTED, CorrectionReport(correction_id="CORR-2", amount=Decimal("40000"))
    )

    final = await handle.result()

    assert final.stage is ListingStage.NOT_LISTED
    assert final.not_listed_reason is NotListedReason.PAID_BEFORE_DECISION
    assert run.fakes.names() == ["deadline", "notice", "decision"]
    assert run.fakes.command("decision").listed is False
    # Decided as soon as the payment was complete, not at the end of the defence period.
    assert final.defence_due_date is not None
    assert china_date(run.fakes.command("decision").decided_at) <= final.defence_due_date


async def test_a_partial_payment_does_not_prevent_the_listing(run: Run) -> None:
    handle = await run.start(amount="60000.00")
    await run.reach(handle, ListingStage.DEFENCE)
    await handle.signal(
        ListingSignals.CORRECTION_REPORTED, CorrectionReport(correction_id="CORR-P", amount=Decimal("59999.99"))
    )
    status = await run.listed(handle)
    assert status.paid_in_full_on is None and status.amount_corrected == Decimal("59999.99")
    await run.end(handle)


async def test_a_statement_is_reviewed_before_deciding_and_an_accepted_defence_means_no_listing(run: Run) -> None:
    handle = await run.start()
    await run.reach(handle, ListingStage.DEFENCE)
    after = await run.statement(handle, "ST-1")
    assert after.statements == ["ST-1"]
    await run.past_the_defence_period(handle)
    await run.reach(handle, ListingStage.REVIEW)
    await handle.execute_update(
        ListingUpdates.REVIEW_STATEMENT,
        StatementReview(
            review_id="RV-1", decided_by="city-office", list_employer=False, reason="工资系总包单位拖欠，已另案处理"
        ),
        result_type=ListingStatus,
    )
    final = await handle.result()
    assert final.stage is ListingStage.NOT_LISTED and final.not_listed_reason is NotListedReason.DEFENCE_ACCEPTED
    assert "publish" not in run.fakes.names()


async def test_a_statement_after_the_defence_period_is_refused_and_a_maintained_listing_is_published(run: Run) -> None:
    handle = await run.start()
    await run.reach(handle, ListingStage.DEFENCE)
    await run.statement(handle, "ST-2")
    await run.past_the_defence_period(handle)
    await run.reach(handle, ListingStage.REVIEW)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            ListingUpdates.RECORD_STATEMENT,
            StatementRecord(statement_id="ST-3", recorded_by="inspector-130402"),
            result_type=ListingStatus,
        )
    assert "statement-and-defence period is over" in str(refused.value.cause)
    await handle.execute_update(
        ListingUpdates.REVIEW_STATEMENT,
        StatementReview(review_id="RV-2", decided_by="city-office", list_employer=True, reason="申辩理由不成立"),
        result_type=ListingStatus,
    )
    status = await run.reach(handle, ListingStage.LISTED)
    assert status.decision_document_id is not None and "publish" in run.fakes.names()
    await run.end(handle)


async def test_early_removal_is_refused_before_six_months_and_granted_after_with_pledge_and_payment(run: Run) -> None:
    handle = await run.start(amount="60000.00")
    listed = await run.listed(handle)
    application = EarlyRemovalApplication(
        application_id="APP-1", recorded_by="inspector-130402", pledge_ref="PLEDGE-1", payment_proof_ref="BANK-1"
    )

    # Not paid yet: refused.
    with pytest.raises(WorkflowUpdateFailedError) as unpaid:
        await handle.execute_update(ListingUpdates.APPLY_FOR_EARLY_REMOVAL, application, result_type=ListingStatus)
    assert "not paid in full" in str(unpaid.value.cause)

    await handle.signal(
        ListingSignals.CORRECTION_REPORTED, CorrectionReport(correction_id="CORR-9", amount=Decimal("60000"))
    )
    paid = await run.status(handle)
    assert paid.paid_in_full_on is not None and paid.stage is ListingStage.LISTED  # paid after the decision
    assert paid.early_removal_possible_from == add_months(paid.paid_in_full_on, 6)

    # Three months later: still too early.
    await run.skip(handle, timedelta(days=90))
    with pytest.raises(WorkflowUpdateFailedError) as early:
        await handle.execute_update(ListingUpdates.APPLY_FOR_EARLY_REMOVAL, application, result_type=ListingStatus)
    assert "six months have not passed" in str(early.value.cause)

    # Past six months: accepted, then granted by the city office.
    await run.skip(handle, timedelta(days=100))
    accepted = await handle.execute_update(
        ListingUpdates.APPLY_FOR_EARLY_REMOVAL, application, result_type=ListingStatus
    )
    assert accepted.pending_application == "APP-1"
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(
            ListingUpdates.DECIDE_EARLY_REMOVAL,
            EarlyRemovalDecision(application_id="APP-X", decided_by="city-office", grant=True, reason="无此申请"),
            result_type=ListingStatus,
        )
    await handle.execute_update(
        ListingUpdates.DECIDE_EARLY_REMOVAL,
        EarlyRemovalDecision(
            application_id="APP-1", decided_by="city-office", grant=True, reason="已整改并作出信用承诺"
        ),
        result_type=ListingStatus,
    )
    final = await handle.result()
    assert final.stage is ListingStage.REMOVED and final.removal_reason is RemovalReason.CREDIT_REPAIR
    removal = run.fakes.command("remove")
    assert removal.reason is RemovalReason.CREDIT_REPAIR and removal.application_id == "APP-1"
    assert (
        listed.expires_on is not None and china_date(removal.removed_at) < listed.expires_on
    )  # well before the three years
    assert china_date(removal.removed_at) >= add_months(paid.paid_in_full_on, 6)


async def test_a_refused_early_removal_keeps_the_listing_until_a_new_application(run: Run) -> None:
    handle = await run.start(amount="60000.00")
    await run.listed(handle)
    await handle.signal(
        ListingSignals.CORRECTION_REPORTED, CorrectionReport(correction_id="C-A", amount=Decimal("60000"))
    )
    await run.skip(handle, timedelta(days=200))
    first = EarlyRemovalApplication(application_id="APP-A", recorded_by="x", pledge_ref="P", payment_proof_ref="B")
    await handle.execute_update(ListingUpdates.APPLY_FOR_EARLY_REMOVAL, first, result_type=ListingStatus)
    with pytest.raises(WorkflowUpdateFailedError) as pending:
        await handle.execute_update(
            ListingUpdates.APPLY_FOR_EARLY_REMOVAL,
            EarlyRemovalApplication(application_id="APP-B", recorded_by="x", pledge_ref="P", payment_proof_ref="B"),
            result_type=ListingStatus,
        )
    assert "still waiting for its decision" in str(pending.value.cause)
    after = await handle.execute_update(
        ListingUpdates.DECIDE_EARLY_REMOVAL,
        EarlyRemovalDecision(application_id="APP-A", decided_by="city-office", grant=False, reason="承诺书未签章"),
        result_type=ListingStatus,
    )
    assert after.stage is ListingStage.LISTED and after.pending_application is None
    await run.end(handle)


async def test_on_a_compressed_clock_the_legal_dates_follow_the_proposal_date(run: Run) -> None:
    handle = await run.start(working_day_seconds=60.0)
    final = await handle.result()
    decision = run.fakes.command("decision")
    # Legal time runs from the proposal: one legal day per minute of workflow time.
    assert china_date(decision.decided_at) - date.today() < timedelta(days=30)
    assert final.removed_on is not None and final.removed_on > decision.expires_on - timedelta(days=1)


# --- reports to the sanctions service (one truth) --------------------------------------------------------------


async def test_a_statement_and_its_review_stage_are_reported_though_no_activity_records_them(run: Run) -> None:
    handle = await run.start()
    await run.reach(handle, ListingStage.DEFENCE)
    await run.statement(handle, "ST-R")
    statement = await run.reported(handle)
    assert statement.snapshot.stage is ListingStage.DEFENCE and statement.snapshot.statements == ["ST-R"]
    assert "陈述申辩：ST-R" in statement.changes
    await run.past_the_defence_period(handle)  # the period ends: review, no activity on the way
    await run.reach(handle, ListingStage.REVIEW)
    review = await run.reported(handle)
    assert review.snapshot.stage is ListingStage.REVIEW and "阶段：review" in review.changes
    assert review.snapshot.defence_due_date is not None
    seqs = [r.seq for r in run.fakes.reports]
    assert seqs == list(range(1, len(seqs) + 1))
    assert {r.idempotency_key for r in run.fakes.reports} == {f"{handle.id}:report:{s}" for s in seqs}
    await run.end(handle)


async def test_a_correction_paying_in_full_is_reported_and_the_run_ends_once_its_last_state_is(run: Run) -> None:
    handle = await run.start(amount="60000.00", leave_off_when_paid=False)
    await run.listed(handle)
    await handle.signal(
        ListingSignals.CORRECTION_REPORTED, CorrectionReport(correction_id="C-F", amount=Decimal("60000"))
    )
    paid = await run.reported(handle)
    assert paid.snapshot.paid_in_full_on is not None and paid.snapshot.amount_corrected == Decimal("60000")
    assert paid.snapshot.early_removal_possible_from == add_months(paid.snapshot.paid_in_full_on, 6)
    assert any(line.startswith("足额支付日期") for line in paid.changes)

    # An operator asks for the whole state again: the next report carries it, unchanged.
    await handle.signal(ListingSignals.REPORT_STATE)
    again = await run.reported(handle, after=paid.seq)
    assert again.seq == paid.seq + 1 and again.snapshot == paid.snapshot

    final = await handle.result()  # the three years pass: removal
    last = run.fakes.reports[-1]
    assert final.stage is ListingStage.REMOVED and last.snapshot.stage is ListingStage.REMOVED
    assert last.snapshot == listing_snapshot_of(final)
