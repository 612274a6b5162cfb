"""Closure reasons: each verification outcome that closes a case has its own, and every reason has its words on
the timeline and on the complainant's status page."""

from __future__ import annotations

from services.contracts.lifecycle import CLOSING_OUTCOMES, ClosureReason, VerificationOutcome
from services.intake import pages
from workflows.texts import CLOSURE_TEXT, OUTCOME_TEXT


def test_every_reason_and_outcome_has_its_timeline_text() -> None:
    # The case workflow's timeline and its refusal of a manual closure both look the reason up.
    assert set(CLOSURE_TEXT) == set(ClosureReason)
    assert set(OUTCOME_TEXT) == set(VerificationOutcome)
    assert set(pages.STATUS_TEXTS["closure_reason"]) == {reason.value for reason in ClosureReason}


def test_an_early_warning_case_without_arrears_is_not_closed_as_an_unfounded_complaint() -> None:
    assert CLOSING_OUTCOMES[VerificationOutcome.NO_ARREARS_FOUND] is ClosureReason.NO_ARREARS_FOUND
    # Only a complaint found untrue closes as unfounded.
    assert [o for o, r in CLOSING_OUTCOMES.items() if r is ClosureReason.UNFOUNDED] == [VerificationOutcome.UNFOUNDED]
    assert CLOSURE_TEXT[ClosureReason.NO_ARREARS_FOUND] == "经核查未发现欠薪"
    assert pages.STATUS_TEXTS["closure_reason"]["no_arrears_found"] == "经核查未发现欠薪"
