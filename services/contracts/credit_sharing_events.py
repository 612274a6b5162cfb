"""The sanctions service's feed for the credit systems (信用中国, 征信, 公示系统, 住建) on
`Topics.CREDIT_SHARING`: a blacklist entry added when a listing is published, removed when it ends. What a
credit system applies, each envelope's `event_id` once (it is the deduplication key); the subject is the
lifecycle case id, as on `Topics.SANCTIONS` (`sanctions_events.py`, which has the rest of the service's events).

The employer (a company) by name and credit code, its responsible persons only as a masked name and a keyed
reference (`person_ref`) — a credit system that needs the full identity asks the authenticated, audited API.
Never a worker's name, ID number or phone. Pure: pydantic only, nothing done on import.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from services.contracts.events import EventPayload, Topics
from services.contracts.lifecycle import ListingGround
from services.contracts.sanctions_events import PublishedPerson
from services.contracts.sanctions_workflows import RemovalReason


class CreditEvent(EventPayload):
    """What a credit system applies: the outbound feed, its own topic."""

    TOPIC: ClassVar[str] = Topics.CREDIT_SHARING


class CreditEntryAdded(CreditEvent):
    """A blacklist entry for the credit systems (信用中国, 征信, 公示系统, 住建)."""

    TYPE: ClassVar[str] = "credit.blacklist_entry_added"
    VERSION: ClassVar[int] = 1

    listing_id: str
    employer_name: str | None
    credit_code: str | None
    employer_ref: str
    responsible_persons: list[PublishedPerson]
    ground: ListingGround
    issuing_authority: str
    decision_document_number: str
    listed_on: date
    expires_on: date


class CreditEntryRemoved(CreditEvent):
    """A blacklist entry for the credit systems was removed."""

    TYPE: ClassVar[str] = "credit.blacklist_entry_removed"
    VERSION: ClassVar[int] = 1

    listing_id: str
    credit_code: str | None
    employer_ref: str
    reason: RemovalReason
    removed_on: date


class CreditEvents:
    """Event type names on `Topics.CREDIT_SHARING` (each the `TYPE` of its class): what a credit system applies."""

    ENTRY_ADDED = CreditEntryAdded.TYPE
    ENTRY_REMOVED = CreditEntryRemoved.TYPE
