"""Properties of the sanctions listing stages and the cases ledger stages, on generated inputs.

The listing procedure runs in `services/sanctions/blacklist.py`: its stages move NOTICE → DEFENCE → (REVIEW) →
LISTED → REMOVED, or end in NOT_LISTED, and the workflow's update validators
(`services/sanctions/listing_messages.py`) decide what each stage accepts. The validators and
`early_removal_refusals` are plain functions of the workflow's state, so they are checked here directly on
every stage. The ledger (`services/cases/domain.summarize`) sums a case up
from its complaints and processes; its stage and status must stay consistent for any mix of them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.cases.domain import summarize
from services.contracts.lifecycle import CaseStage, ComplaintStage, ListingGround
from services.contracts.sanctions_workflows import ListingStage, ListingStatus, StatementRecord, StatementReview
from services.sanctions.blacklist import BlacklistWorkflow
from services.sanctions.listing_messages import early_removal_refusals

FAST = settings(max_examples=150, deadline=None)

# Stages in which the employer may still make a statement (the defence period has not ended).
DEFENCE_OPEN = (ListingStage.NOTICE, ListingStage.DEFENCE)
FINAL = (ListingStage.NOT_LISTED, ListingStage.REMOVED)

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 31))
stages = st.sampled_from(list(ListingStage))
ids = st.from_regex(r"[A-Z]{2}-[0-9]{6}", fullmatch=True)


def listing_status(
    stage: ListingStage, paid_in_full_on: date | None, possible_from: date | None, pending: str | None
) -> ListingStatus:
    return ListingStatus(
        listing_id="BL-1",
        case_id="CS-1",
        stage=stage,
        ground=ListingGround.CRIMINAL_THRESHOLD,
        amount=Decimal("50000"),
        amount_corrected=Decimal("50000") if paid_in_full_on else Decimal(0),
        paid_in_full_on=paid_in_full_on,
        notice_document_id=None,
        defence_due_date=None,
        statements=[],
        decided_on=None,
        decision_document_id=None,
        not_listed_reason=None,
        expires_on=None,
        early_removal_possible_from=possible_from,
        pending_application=pending,
        removal_reason=None,
        removed_on=None,
        timeline=[],
    )


def workflow_state(stage: ListingStage, statements: list[str], review: StatementReview | None) -> Any:
    """The part of a BlacklistWorkflow's state its statement and review validators read."""
    return SimpleNamespace(_stage=stage, _statements=list(statements), _review=review, _defence_due=date(2026, 1, 1))


# --- early removal (信用修复) ---------------------------------------------------------------------------


@FAST
@given(
    stage=stages.filter(lambda s: s is not ListingStage.LISTED),
    paid=st.none() | days,
    today=days,
    pending=st.none() | ids,
)
def test_early_removal_is_refused_in_every_stage_but_listed(
    stage: ListingStage, paid: date | None, today: date, pending: str | None
) -> None:
    possible_from = paid + timedelta(days=183) if paid else None
    reasons = early_removal_refusals(listing_status(stage, paid, possible_from, pending), today)
    assert reasons and stage.value in reasons[0]


@FAST
@given(
    paid=st.none() | days,
    wait=st.integers(min_value=0, max_value=400),
    today=days,
    later=st.integers(min_value=0, max_value=800),
    pending=st.none() | ids,
)
def test_a_listed_employer_may_apply_exactly_when_paid_six_months_ago_and_nothing_pending(
    paid: date | None, wait: int, today: date, later: int, pending: str | None
) -> None:
    possible_from = paid + timedelta(days=wait) if paid else None
    status = listing_status(ListingStage.LISTED, paid, possible_from, pending)
    accepted = not early_removal_refusals(status, today)
    assert accepted == (paid is not None and possible_from is not None and today >= possible_from and pending is None)
    # Waiting never turns an acceptable application into a refused one.
    if accepted:
        assert not early_removal_refusals(status, today + timedelta(days=later))


# --- statement, defence and review ---------------------------------------------------------------------


@FAST
@given(stage=stages, earlier=st.lists(ids, max_size=3), statement_id=ids)
def test_a_new_statement_is_accepted_only_while_the_defence_period_runs(
    stage: ListingStage, earlier: list[str], statement_id: str
) -> None:
    state = workflow_state(stage, [s for s in earlier if s != statement_id], None)
    statement = StatementRecord(statement_id=statement_id, recorded_by="county-inspector")
    if stage in DEFENCE_OPEN:
        BlacklistWorkflow._check_statement(state, statement)
    else:
        with pytest.raises(ValueError, match="period is over"):
            BlacklistWorkflow._check_statement(state, statement)


@FAST
@given(stage=stages, earlier=st.lists(ids, min_size=1, max_size=3), pick=st.integers(min_value=0))
def test_a_statement_already_recorded_is_accepted_again_in_any_stage(
    stage: ListingStage, earlier: list[str], pick: int
) -> None:
    # A retried update must not fail just because the procedure moved on since the first attempt.
    state = workflow_state(stage, earlier, None)
    BlacklistWorkflow._check_statement(
        state, StatementRecord(statement_id=earlier[pick % len(earlier)], recorded_by="county-inspector")
    )


@FAST
@given(stage=stages, review_id=ids, list_employer=st.booleans())
def test_a_first_review_is_accepted_only_in_the_review_stage(
    stage: ListingStage, review_id: str, list_employer: bool
) -> None:
    review = StatementReview(
        review_id=review_id, decided_by="city-office", list_employer=list_employer, reason="复核意见"
    )
    state = workflow_state(stage, ["ST-000001"], None)
    if stage is ListingStage.REVIEW:
        BlacklistWorkflow._check_review(state, review)
    else:
        with pytest.raises(ValueError, match="no statement is waiting for review"):
            BlacklistWorkflow._check_review(state, review)


@pytest.mark.parametrize("final", FINAL)
def test_a_final_listing_accepts_no_new_statement_review_or_application(final: ListingStage) -> None:
    state = workflow_state(final, ["ST-000001"], None)
    with pytest.raises(ValueError):
        BlacklistWorkflow._check_statement(state, StatementRecord(statement_id="ST-000002", recorded_by="x"))
    with pytest.raises(ValueError):
        BlacklistWorkflow._check_review(
            state, StatementReview(review_id="RV-000001", decided_by="x", list_employer=True, reason="复核意见")
        )
    paid = date(2026, 1, 1)
    assert early_removal_refusals(listing_status(final, paid, paid, None), date(2030, 1, 1))


# --- the cases ledger ----------------------------------------------------------------------------------

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
instants = st.integers(min_value=0, max_value=200 * 24).map(lambda h: T0 + timedelta(hours=h))
money = st.decimals(min_value=0, max_value=1_000_000, places=2)

OPEN_COMPLAINT_STAGES = [
    ComplaintStage.AWAITING_ACCEPTANCE,
    ComplaintStage.AWAITING_INFORMATION,
    ComplaintStage.IN_CASE,
]
CLOSED_COMPLAINT_STAGES = [ComplaintStage.CALLBACK, ComplaintStage.DONE]
OPEN_CASE_STAGES = [s for s in CaseStage if s is not CaseStage.CLOSED]
# What a ledger case can show: a case process stage, or where its earliest open complaint waits.
LEDGER_STAGES = {s.value for s in CaseStage} | {"acceptance", "information"}


@st.composite
def complaints(draw: st.DrawFn, n: int) -> dict[str, Any]:
    is_open = draw(st.booleans())
    submitted = draw(instants)
    closed_at = None if is_open else submitted + timedelta(days=draw(st.integers(min_value=1, max_value=60)))
    return {
        "complaint_id": f"TS-20260302-{n:06d}",
        "complainant_ref": draw(st.sampled_from(["P-1", "P-2", "P-3", None])),
        "status": "open" if is_open else "closed",
        "stage": draw(st.sampled_from(OPEN_COMPLAINT_STAGES if is_open else CLOSED_COMPLAINT_STAGES)).value,
        "amount_owed": draw(money),
        "workers_affected": draw(st.integers(min_value=1, max_value=40)),
        "submitted_at": submitted,
        "decision": draw(st.sampled_from([None, "accept"])),
        "decided_at": submitted + timedelta(hours=4),
        "closed_at": closed_at,
        "closure_reason": None if is_open else draw(st.sampled_from(["paid_in_full", "rejected", "withdrawn"])),
        "overdue": draw(st.booleans()),
        "deadlines": [],
    }


@st.composite
def processes(draw: st.DrawFn, n: int) -> dict[str, Any]:
    is_open = draw(st.booleans())
    opened = draw(instants)
    stage = draw(st.sampled_from(OPEN_CASE_STAGES)).value if is_open else CaseStage.CLOSED.value
    return {
        "process_case_id": f"CS-20260302-{n:06d}",
        "status": "open" if is_open else "closed",
        "stage": stage,
        "opened_at": opened,
        "closed_at": None if is_open else opened + timedelta(days=draw(st.integers(min_value=1, max_value=90))),
        "closure_reason": None if is_open else "paid_in_full",
        "amount_verified": draw(st.none() | money),
        "workers_verified": draw(st.none() | st.integers(min_value=1, max_value=40)),
        "overdue": draw(st.booleans()),
        "stage_times": {"verification": opened.isoformat()},
        "deadlines": [],
    }


ledgers = st.integers(min_value=0, max_value=4).flatmap(
    lambda nc: st.integers(min_value=0 if nc else 1, max_value=3).flatmap(
        lambda np: st.tuples(
            st.tuples(*[complaints(i) for i in range(nc)]), st.tuples(*[processes(i) for i in range(np)])
        )
    )
)


@FAST
@given(ledger=ledgers)
def test_a_ledger_case_is_closed_exactly_when_nothing_in_it_is_open(ledger: tuple[tuple, tuple]) -> None:
    cs, ps = list(ledger[0]), list(ledger[1])
    summary = summarize(cs, ps, {})
    nothing_open = all(p["status"] != "open" for p in ps) and all(c["status"] != "open" for c in cs)
    assert summary.stage in LEDGER_STAGES
    assert (summary.status == "closed") == (summary.stage == CaseStage.CLOSED.value) == nothing_open
    if summary.status == "open":
        assert summary.closed_at is None and summary.closure_reason is None
        assert "closed" not in summary.stage_times
    else:
        assert summary.closed_at is not None and not summary.overdue


@FAST
@given(ledger=ledgers)
def test_a_ledger_case_follows_its_earliest_open_process(ledger: tuple[tuple, tuple]) -> None:
    cs, ps = list(ledger[0]), list(ledger[1])
    summary = summarize(cs, ps, {})
    open_ps = sorted((p for p in ps if p["status"] == "open"), key=lambda p: (p["opened_at"], p["process_case_id"]))
    if open_ps:
        assert summary.stage == open_ps[0]["stage"]
    # The stage times read in the order they happened, starting at receipt.
    times = [datetime.fromisoformat(t) for t in summary.stage_times.values()]
    assert times == sorted(times)
    assert summary.stage_times["received"] == summary.received_at.isoformat()


@FAST
@given(ledger=ledgers, extra=processes(99))
def test_closing_more_processes_never_reopens_a_closed_case(ledger: tuple[tuple, tuple], extra: dict) -> None:
    cs, ps = list(ledger[0]), list(ledger[1])
    if summarize(cs, ps, {}).status != "closed":
        return
    closed = {
        **extra,
        "status": "closed",
        "stage": CaseStage.CLOSED.value,
        "closed_at": extra["opened_at"] + timedelta(days=1),
        "closure_reason": "paid_in_full",
    }
    assert summarize(cs, [*ps, closed], {}).status == "closed"
