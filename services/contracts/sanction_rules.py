"""The sanction rules the case workflow and the sanctions service both apply, written once so that the
workflow never proposes what the service would refuse (a refused proposal used to park a case).

- The blacklist (人社部令第45号 art. 5): after an order to pay whose deadline passed unpaid, an employer may be
  listed when wages are still unpaid and either the unpaid amount reaches the criminal threshold or the
  arrears caused a mass or extreme incident.
- The quarterly publication (人社部令第29号 art. 5): large arrears (the configured amount), or a refusal to pay
  referred to the judiciary, are major violations to publish.
"""

from __future__ import annotations

from decimal import Decimal

from services.contracts.lifecycle import ListingGround


class ListingCriteriaNotMet(ValueError):
    """A blacklist proposal would not meet the legal criteria; the message says which one."""


def listing_ground(*, unpaid_amount: Decimal, threshold_reached: bool, mass_incident: bool) -> ListingGround:
    """The ground a blacklist proposal rests on, or `ListingCriteriaNotMet` with the reason.

    Called once the order's deadline has passed unpaid (the case's refusal stage), with the amount still
    unpaid at the time of the proposal."""
    if unpaid_amount <= 0:
        raise ListingCriteriaNotMet("nothing is unpaid: a listing needs wages unpaid after the order's deadline")
    if mass_incident:
        return ListingGround.MASS_INCIDENT
    if threshold_reached:
        return ListingGround.CRIMINAL_THRESHOLD
    raise ListingCriteriaNotMet(
        "the unpaid amount does not reach the criminal threshold and no mass or extreme incident is recorded"
    )


def is_major_violation(*, amount: Decimal, referred_to_judiciary: bool, large_arrears: Decimal) -> bool:
    """Whether a refused case is published in the quarter's list of major violations."""
    return referred_to_judiciary or amount >= large_arrears
