"""The lifecycle's enums and the referrals service's wider ones agree, name for name and value for value.

`LetterKind` (what a case workflow asks for) is a part of `LetterType` (every document the referrals service
issues), and `ReferralTarget` a part of `ReferralKind`; the service converts one into the other by value.
"""

from __future__ import annotations

from enum import StrEnum

import pytest

from services.contracts.lifecycle import LetterKind, ReferralTarget
from services.contracts.referrals_events import LetterType, ReferralKind
from services.referrals.domain import letter_type, referral_kind


@pytest.mark.parametrize(("part", "whole"), [(LetterKind, LetterType), (ReferralTarget, ReferralKind)])
def test_the_lifecycle_vocabulary_is_part_of_the_services(part: type[StrEnum], whole: type[StrEnum]) -> None:
    assert {m.name: m.value for m in part}.items() <= {m.name: m.value for m in whole}.items()


def test_what_only_the_referrals_service_issues() -> None:
    assert {m.value for m in LetterType} - {m.value for m in LetterKind} == {
        "issue_transfer", "criminal_referral", "procuratorate_request", "arbitration_referral",
        "legal_aid_referral",
    }
    assert {m.value for m in ReferralKind} - {m.value for m in ReferralTarget} == {"legal_aid"}


def test_every_requested_letter_and_referral_converts() -> None:
    assert [letter_type(kind) for kind in LetterKind] == [LetterType[kind.name] for kind in LetterKind]
    assert [referral_kind(target) for target in ReferralTarget] == [ReferralKind[t.name] for t in ReferralTarget]
