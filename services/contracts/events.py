"""The event envelope that every Kafka message carries, and the versioned topic names.

Events are facts, keyed by case (or complaint) id so one case's events stay in order on one partition.
Payloads never carry workers' personal data in clear: only masked values or keyed references.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Topics:
    """Versioned topic names. A breaking change to a topic's events gets a new `.vN` topic."""

    INTAKE_COMPLAINTS = "anxin.intake.complaints.v1"
    CASES = "anxin.cases.cases.v1"
    REFERRALS = "anxin.referrals.referrals.v1"
    SANCTIONS = "anxin.sanctions.listings.v1"
    # Outbound feed for the credit systems (信用中国, 征信, 公示系统): blacklist entries and removals.
    CREDIT_SHARING = "anxin.sanctions.credit-sharing.v1"

    @classmethod
    def all(cls) -> list[str]:
        return [v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str)]


class EventEnvelope(BaseModel):
    """What every event looks like on the wire (JSON in the Kafka message value)."""

    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str = Field(description="Dotted fact name, e.g. `complaint.submitted`.")
    version: int = Field(1, ge=1, description="Version of this event type's payload schema.")
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str = Field(description="Case or complaint id: the Kafka key and ordering unit.")
    producer: str = Field(description="The service that owns the fact.")
    # W3C trace context (`traceparent`, `tracestate`) so one trace follows a complaint across services.
    trace: dict[str, str] = Field(default_factory=dict)
    payload: dict[str, Any] = Field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> EventEnvelope:
        return cls.model_validate_json(data)
