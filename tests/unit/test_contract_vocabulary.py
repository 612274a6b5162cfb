"""One vocabulary for letters and referrals: the case workflow asks only for the letters of a handoff by kind;
every other document comes with a referral."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.contracts.lifecycle import HANDOFF_LETTERS, HandoffConfig, LadderRung, LetterKind, LetterRequest
from workflows.texts import LETTER_TEXT


def test_the_handoff_letters_are_the_handoff_letter_and_its_ladder() -> None:
    ladder = {rung.kind for rung in HandoffConfig().ladder}
    assert ladder | {LetterKind.HANDOFF} == HANDOFF_LETTERS
    assert set(LETTER_TEXT) == HANDOFF_LETTERS  # every letter a case workflow issues has its timeline text


@pytest.mark.parametrize("kind", sorted(set(LetterKind) - HANDOFF_LETTERS))
def test_a_referral_document_is_no_ladder_rung_and_no_letter_request(kind: LetterKind) -> None:
    with pytest.raises(ValidationError, match="not a letter of a handoff"):
        LadderRung(kind=kind, wait_working_days=3)
    with pytest.raises(ValidationError, match="not a letter of a handoff"):
        LetterRequest(idempotency_key="k", case_id="C-2026-000001", county="130402", department="housing", kind=kind)
