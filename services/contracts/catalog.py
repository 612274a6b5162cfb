"""Every event the services publish: the classes of the services' events modules, for lookups and the published
contract (`docs/events/`, written by `python -m operations.event_contracts`).

Importing this module imports every events module, so each event class is registered
(`services.contracts.events.event_class`) in a process that imports it.
"""

from __future__ import annotations

from services.contracts import (
    case_decision_events,
    case_ledger_events,
    case_payout_events,
    case_warning_events,
    cases_events,
    credit_sharing_events,
    guarantee_funds,
    intake_events,
    interview_events,
    monitoring_events,
    referrals_events,
    sanctions_events,
)
from services.contracts.events import EventPayload, registered_events

# Which service publishes the events of each module (the envelope's `producer`).
PRODUCERS = {
    intake_events.__name__: "intake",
    cases_events.__name__: "cases",
    case_decision_events.__name__: "cases",
    case_ledger_events.__name__: "cases",
    case_payout_events.__name__: "cases",
    case_warning_events.__name__: "cases",
    referrals_events.__name__: "referrals",
    sanctions_events.__name__: "sanctions",
    credit_sharing_events.__name__: "sanctions",
    interview_events.__name__: "sanctions",
    monitoring_events.__name__: "monitoring",
    guarantee_funds.__name__: "monitoring",
}


def events() -> list[type[EventPayload]]:
    """Every event class of the services, by type and version."""
    return [cls for cls in registered_events() if cls.__module__ in PRODUCERS]


def producer_of(cls: type[EventPayload]) -> str:
    return PRODUCERS[cls.__module__]
