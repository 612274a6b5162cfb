"""The sanction rules the case workflow and the sanctions service share (services/contracts/sanction_rules.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.contracts.lifecycle import ListingGround
from services.contracts.sanction_rules import ListingCriteriaNotMet, is_major_violation, listing_ground


@pytest.mark.parametrize(
    ("unpaid", "threshold", "incident", "ground"),
    [
        ("60000", True, False, ListingGround.CRIMINAL_THRESHOLD),
        ("9000", False, True, ListingGround.MASS_INCIDENT),
        ("60000", True, True, ListingGround.MASS_INCIDENT),
    ],
)
def test_a_listing_rests_on_unpaid_wages_and_the_threshold_or_an_incident(
    unpaid: str, threshold: bool, incident: bool, ground: ListingGround
) -> None:
    assert listing_ground(unpaid_amount=Decimal(unpaid), threshold_reached=threshold, mass_incident=incident) is ground


@pytest.mark.parametrize(
    ("unpaid", "threshold", "incident", "says"),
    [
        ("0", True, False, "nothing is unpaid"),
        ("0", False, True, "nothing is unpaid"),
        ("9000", False, False, "does not reach the criminal threshold"),
    ],
)
def test_no_listing_without_unpaid_wages_or_a_ground(unpaid: str, threshold: bool, incident: bool, says: str) -> None:
    with pytest.raises(ListingCriteriaNotMet, match=says):
        listing_ground(unpaid_amount=Decimal(unpaid), threshold_reached=threshold, mass_incident=incident)


def test_major_violations_are_large_arrears_or_referred_to_the_judiciary() -> None:
    large = Decimal("100000")
    assert is_major_violation(amount=Decimal("100000"), referred_to_judiciary=False, large_arrears=large)
    assert is_major_violation(amount=Decimal("5000"), referred_to_judiciary=True, large_arrears=large)
    assert not is_major_violation(amount=Decimal("99999.99"), referred_to_judiciary=False, large_arrears=large)
