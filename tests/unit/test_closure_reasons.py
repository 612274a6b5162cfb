"""Closure reasons: every reason has its words on the timeline and on the complainant's status page."""

from __future__ import annotations

from services.contracts.lifecycle import ClosureReason, VerificationOutcome
from services.intake import pages
from workflows.texts import CLOSURE_TEXT, OUTCOME_TEXT


def test_every_reason_and_outcome_has_its_timeline_text() -> None:
    # The case workflow's timeline and its refusal of a manual closure both look the reason up.
    assert set(CLOSURE_TEXT) == set(ClosureReason)
    assert set(OUTCOME_TEXT) == set(VerificationOutcome)
    assert set(pages.STATUS_TEXTS["closure_reason"]) == {reason.value for reason in ClosureReason}
