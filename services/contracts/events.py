"""The event envelope that every Kafka message carries, the versioned topic names, and what an event is.

Events are facts, keyed by case (or complaint) id so one case's events stay in order on one partition.
Payloads never carry workers' personal data in clear: only masked values or keyed references.

An event is its class: each `(type, version)` is one `EventPayload` subclass, registered when it is
defined. `EventEnvelope.wrap(payload, ...)` puts a payload object in an envelope (type and version from its
class); `envelope.parse()` gives it back as that class, or raises `UnknownEvent` for a `(type, version)`
no class is registered for (pydantic's `ValidationError` for a payload its class does not accept). A new
version of an event is a new class with the same `TYPE` and the next `VERSION`.

Free text that an agency typed (a forwarding note, the reason of an extension, a merge or a split) is never
on the wire: every service and anyone with access to a topic reads it, and such text can hold anything, a
name or a phone number included. A payload field holding it is declared `AgencyText`: the producer still
sets it (so it can keep the text), but it is left out of the serialized payload and out of the published
schema, and an older event that still carries it is read as before. The producing service keeps the text in
its own records (`EventPayload.agency_texts()` gives it, to store by the event's id), where agencies read it
over its API with their scope checked. Nothing in another service needs such text; one that did would ask
the owner's API rather than have it sealed into the event.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class Topics:
    """Versioned topic names. A breaking change to a topic's events gets a new `.vN` topic."""

    INTAKE_COMPLAINTS = "anxin.intake.complaints.v1"
    CASES = "anxin.cases.cases.v1"
    REFERRALS = "anxin.referrals.referrals.v1"
    SANCTIONS = "anxin.sanctions.listings.v1"
    # Outbound feed for the credit systems (信用中国, 征信, 公示系统): blacklist entries and removals.
    CREDIT_SHARING = "anxin.sanctions.credit-sharing.v1"
    # The project register of the monitoring service (在建项目台账).
    MONITORING = "anxin.monitoring.projects.v1"

    @classmethod
    def all(cls) -> list[str]:
        return [v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str)]


class UnknownEvent(ValueError):
    """No event class is registered for this `(type, version)`: the event can never be read here."""

    def __init__(self, event_type: str, version: int) -> None:
        self.event_type, self.version = event_type, version
        self.known_versions = known_versions(event_type)
        known = (
            f"the versions known are {', '.join(f'v{v}' for v in self.known_versions)}"
            if self.known_versions
            else "no version of it is known"
        )
        super().__init__(f"unknown event {event_type} v{version}: {known}")


class _AgencyTextMarker:
    """Marks a payload field as an agency's free text (`AgencyText`)."""


AgencyText = Annotated[
    str | None,
    _AgencyTextMarker(),
    Field(
        exclude=True,
        description="Free text an agency typed: never serialized (older events may carry it; it is read if present).",
    ),
]


class EventPayload(BaseModel):
    """The payload of one event type at one version. A subclass names them in `TYPE` and `VERSION` and is
    registered under `(TYPE, VERSION)` when it is defined; a base class that names neither is not."""

    model_config = ConfigDict(extra="forbid")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int]
    # The topic it is published on: set by the common base of each service's events.
    TOPIC: ClassVar[str]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if ("TYPE" in cls.__dict__ or "VERSION" in cls.__dict__) and hasattr(cls, "TYPE"):
            _register(cls)

    @classmethod
    def agency_text_fields(cls) -> list[str]:
        """The fields of free text an agency typed (`AgencyText`): kept by the producer, never serialized."""
        return [
            name
            for name, field in cls.model_fields.items()
            if any(isinstance(m, _AgencyTextMarker) for m in field.metadata)
        ]

    def agency_texts(self) -> dict[str, str]:
        """The agencies' free text this payload holds (left out of its event), for the producer to keep."""
        return {
            name: value for name in self.agency_text_fields() if isinstance(value := getattr(self, name), str) and value
        }


_REGISTRY: dict[tuple[str, int], type[EventPayload]] = {}


def _register(cls: type[EventPayload]) -> None:
    version = getattr(cls, "VERSION", None)
    if not isinstance(version, int) or version < 1:
        raise TypeError(f"{cls.__qualname__}: VERSION must be an integer from 1, not {version!r}")
    key = (cls.TYPE, version)
    known = _REGISTRY.get(key)
    if known is None:
        _REGISTRY[key] = cls
    elif _name(known) != _name(cls):
        raise TypeError(f"event {cls.TYPE} v{version} is already {_name(known)}; {_name(cls)} cannot be it too")
    # The same class defined again (its module imported anew, as in Temporal's workflow sandbox) keeps the
    # first definition: envelopes parsed anywhere in a process give instances of one class.


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def event_class(event_type: str, version: int) -> type[EventPayload]:
    """The class of `(event_type, version)`; `UnknownEvent` when none is registered."""
    try:
        return _REGISTRY[(event_type, version)]
    except KeyError:
        raise UnknownEvent(event_type, version) from None


def known_versions(event_type: str) -> list[int]:
    return sorted(version for name, version in _REGISTRY if name == event_type)


def registered_events() -> list[type[EventPayload]]:
    """Every event class registered in this process, by type and version."""
    return [_REGISTRY[key] for key in sorted(_REGISTRY)]


class EventEnvelope(BaseModel):
    """What every event looks like on the wire (JSON in the Kafka message value)."""

    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID = Field(
        default_factory=uuid.uuid4, description="The event's id: delivery is at least once, apply each id once."
    )
    type: str = Field(description="Dotted fact name, e.g. `complaint.submitted`.")
    version: int = Field(1, ge=1, description="Version of this event type's payload schema.")
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC), description="When the fact happened.")
    subject: str = Field(description="Case or complaint id: the Kafka key and ordering unit.")
    producer: str = Field(description="The service that owns the fact.")
    # W3C trace context (`traceparent`, `tracestate`) so one trace follows a complaint across services.
    trace: dict[str, str] = Field(
        default_factory=dict,
        description="W3C trace context (`traceparent`, `tracestate`) of the change that made the event; may be empty.",
    )
    payload: dict[str, Any] = Field(
        default_factory=dict, description="The event's payload: its type and version's schema."
    )

    @classmethod
    def wrap(
        cls,
        payload: EventPayload,
        *,
        subject: str,
        producer: str,
        occurred_at: datetime | None = None,
        trace: dict[str, str] | None = None,
        event_id: uuid.UUID | None = None,
    ) -> EventEnvelope:
        """The envelope of `payload`: type and version from its class, the payload as its JSON object."""
        event_type = type(payload)
        known = _REGISTRY.get((getattr(event_type, "TYPE", ""), getattr(event_type, "VERSION", 0)))
        if known is None or _name(known) != _name(event_type):
            raise TypeError(f"{event_type.__qualname__} is not a registered event class")
        fields: dict[str, Any] = {"occurred_at": occurred_at, "trace": trace, "event_id": event_id}
        return cls(
            type=event_type.TYPE,
            version=event_type.VERSION,
            subject=subject,
            producer=producer,
            payload=payload.model_dump(mode="json"),
            **{name: value for name, value in fields.items() if value is not None},
        )

    def parse(self) -> EventPayload:
        """The payload as its class's instance: `UnknownEvent` for an unknown `(type, version)`, pydantic's
        `ValidationError` for a payload the class does not accept."""
        return event_class(self.type, self.version).model_validate(self.payload)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> EventEnvelope:
        return cls.model_validate_json(data)
