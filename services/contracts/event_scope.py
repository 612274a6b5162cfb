"""Whose an event is: the county, the department and the receiving body it concerns, read from its payload.

This is the one rule of which event goes to which agency's scope (the webhook subscriptions follow it, and it
follows the scope the services apply to the agencies' reads): an event concerns the county its payload names,
the department a handoff or a letter is addressed to, and the body (police, procuratorate, arbitration, legal
aid) a referral or a letter went to. The credit systems' feed is its own topic. An event's class carries these
in fields of the names below; a payload that names none of them concerns nobody but the city office and the
operators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.contracts.events import EventPayload, Topics

# The payload fields (a dotted path into a nested object) that carry each part of an event's scope, in order:
# the first one present gives it.
COUNTY_FIELDS = ("county", "county_code", "project.county")
DEPARTMENT_FIELDS = ("department", "addressee", "project.department")
# A referral's `target` is the kind of body it went to; a letter's `addressee` a department id or that kind.
RECEIVER_FIELDS = ("target", "addressee")
# Topics whose every event is for the credit systems (信用中国, 征信, 公示系统).
CREDIT_FEED_TOPICS = frozenset({Topics.CREDIT_SHARING})


@dataclass(frozen=True)
class EventScope:
    """What one event concerns; None where its payload does not say."""

    county: str | None = None
    department: str | None = None
    receiver: str | None = None
    credit_feed: bool = False


def _lookup(payload: dict[str, Any], path: str) -> Any:
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _first(payload: dict[str, Any], paths: tuple[str, ...]) -> str | None:
    for path in paths:
        value = _lookup(payload, path)
        if isinstance(value, str) and value:
            return value
    return None


def scope_of(event_class: type[EventPayload], payload: dict[str, Any]) -> EventScope:
    """The scope of one event of `event_class`, from its payload as it is on the wire (JSON)."""
    return EventScope(
        county=_first(payload, COUNTY_FIELDS),
        department=_first(payload, DEPARTMENT_FIELDS),
        receiver=_first(payload, RECEIVER_FIELDS),
        credit_feed=getattr(event_class, "TOPIC", None) in CREDIT_FEED_TOPICS,
    )


def _declares(event_class: type[EventPayload], paths: tuple[str, ...]) -> bool:
    for path in paths:
        head, _, rest = path.partition(".")
        field = event_class.model_fields.get(head)
        if field is None:
            continue
        if not rest:
            return True
        nested = field.annotation
        if isinstance(nested, type) and rest in getattr(nested, "model_fields", {}):
            return True
    return False


@dataclass(frozen=True)
class ScopeFields:
    """Which parts of a scope an event class carries: what an agency scoped by that part may subscribe to."""

    county: bool
    department: bool
    receiver: bool
    credit_feed: bool


def scope_fields(event_class: type[EventPayload]) -> ScopeFields:
    return ScopeFields(
        county=_declares(event_class, COUNTY_FIELDS),
        department=_declares(event_class, DEPARTMENT_FIELDS),
        receiver=_declares(event_class, RECEIVER_FIELDS),
        credit_feed=getattr(event_class, "TOPIC", None) in CREDIT_FEED_TOPICS,
    )
