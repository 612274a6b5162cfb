"""The webhooks' rules, free of I/O: who may subscribe to what, which event a subscription receives, the URL a
receiver may have, the retry schedule, what a receiver's answer means, and the Standard Webhooks signature.

Scope: a subscription takes its owner's scope (role, county, department) from the token that made it, and the
events it receives are the ones the owner could read through the services: a department its own handoffs and
letters, a county's inspectors and bureau head their county, the police (the procuratorate, arbitration, legal
aid) what was referred or addressed to them, the credit systems their feed, the city office and the operators
everything. What an event concerns is read from it by `services.contracts.event_scope`, the one place that rule
lives.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

from services.common.auth import COUNTY_SCOPED_ROLES, Principal, Role
from services.common.errors import Invalid
from services.contracts.event_scope import EventScope, scope_fields
from services.contracts.events import EventEnvelope, EventPayload

EVERYTHING_ROLES = frozenset({Role.city_office, Role.operator})
RECEIVING_BODIES = frozenset({Role.police, Role.procuratorate, Role.arbitration, Role.legal_aid})
# The agencies that may subscribe: the ones whose reads the services scope (courts, the lifecycle worker and the
# console's own client read no feed).
SUBSCRIBER_ROLES = frozenset(
    {*EVERYTHING_ROLES, *COUNTY_SCOPED_ROLES, Role.department, *RECEIVING_BODIES, Role.credit_system}
) - {Role.intake_clerk}


@dataclass(frozen=True)
class Subscriber:
    """The scope a subscription delivers in: its owner's, as the owner's token had it when it subscribed."""

    role: Role
    county: str | None = None
    department: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Subscriber:
        return cls(principal.role, principal.county, principal.department)


def may_subscribe(subscriber: Subscriber, event_class: type[EventPayload]) -> bool:
    """Whether events of this class can ever be in the subscriber's scope."""
    carries = scope_fields(event_class)
    if subscriber.role in EVERYTHING_ROLES:
        return True
    if subscriber.role in COUNTY_SCOPED_ROLES:
        return subscriber.county is not None and carries.county
    if subscriber.role is Role.department:
        return subscriber.department is not None and carries.department
    if subscriber.role in RECEIVING_BODIES:
        return carries.receiver
    if subscriber.role is Role.credit_system:
        return carries.credit_feed
    return False


def may_receive(subscriber: Subscriber, scope: EventScope) -> bool:
    """Whether one event (of a type subscribed to) is in the subscriber's scope; fails closed."""
    if subscriber.role in EVERYTHING_ROLES:
        return True
    if subscriber.role in COUNTY_SCOPED_ROLES:
        return subscriber.county is not None and scope.county == subscriber.county
    if subscriber.role is Role.department:
        return subscriber.department is not None and scope.department == subscriber.department
    if subscriber.role in RECEIVING_BODIES:
        return scope.receiver == subscriber.role.value
    if subscriber.role is Role.credit_system:
        return scope.credit_feed
    return False


# --- receivers' URLs ---------------------------------------------------------------------------------------


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, allow_http_loopback: bool) -> str:
    """The receiver's URL as given, if it is https (or http to this machine's loopback, in development);
    `Invalid` otherwise."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        host = None
    reason = None
    if host is None or parts.scheme not in ("https", "http"):
        reason = "the URL must be an absolute https:// URL"
    elif parts.username or parts.password:
        reason = "the URL may not carry credentials"
    elif parts.scheme == "http" and not (allow_http_loopback and _loopback(host)):
        reason = "the URL must be https" + (
            "" if allow_http_loopback else " (http is allowed for loopback only where the deployment allows it)"
        )
    if reason:
        raise Invalid(
            "The subscription is not valid", reason, errors=[{"field": "url", "code": "invalid", "message": reason}]
        )
    return url


# --- retries ----------------------------------------------------------------------------------------------


def parse_schedule(text: str) -> tuple[float, ...]:
    """`"5,30,120"` → (5.0, 30.0, 120.0): the pause after each failed attempt, in seconds."""
    pauses = tuple(float(part) for part in text.replace(" ", "").split(",") if part)
    if not pauses or any(p < 0 for p in pauses):
        raise ValueError(f"a retry schedule is a comma-separated list of pauses in seconds, not {text!r}")
    return pauses


def pause_after(schedule: Sequence[float], attempts: int) -> float | None:
    """The pause before the next attempt once `attempts` have failed; None when none is left (a dead letter)."""
    return schedule[attempts - 1] if 1 <= attempts <= len(schedule) else None


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    # 410 Gone: the receiver says the endpoint is no more; the subscription is disabled.
    GONE = "gone"


def outcome_of(status: int | None) -> Outcome:
    """What a receiver's answer means (None: no answer at all: refused, timed out)."""
    if status is not None and 200 <= status < 300:
        return Outcome.DELIVERED
    if status == 410:
        return Outcome.GONE
    return Outcome.RETRY


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


# --- signing ----------------------------------------------------------------------------------------------


def new_secret() -> str:
    """A subscription's signing secret, `whsec_` and 32 random bytes in base64 (Standard Webhooks)."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def delivery_id(subscription_id: str, event_id: uuid.UUID) -> str:
    """The `webhook-id` of one event to one subscription: the same for every attempt and replay, so a receiver
    that got it before can tell."""
    return "msg_" + uuid.uuid5(uuid.NAMESPACE_URL, f"anxin:webhook:{subscription_id}:{event_id}").hex


def signature(message_id: str, timestamp: datetime, body: str, secrets: Sequence[str]) -> str:
    """The `webhook-signature` header: one `v1,<base64 HMAC-SHA256>` of `id.timestamp.body` per secret, space
    separated (during a rotation's grace period the old secret signs beside the new one)."""
    return " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in secrets)


def headers(message_id: str, timestamp: datetime, body: str, secrets: Sequence[str]) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature(message_id, timestamp, body, secrets),
        "content-type": "application/json",
    }


def body_of(envelope: EventEnvelope) -> str:
    """The JSON a receiver gets for one event (Standard Webhooks' `type`, `timestamp`, `data`): the event as it is
    on Kafka, less its trace context. The payload is sealed as the event is: no personal data in clear."""
    event = envelope.model_dump(mode="json", exclude={"trace"})
    return json.dumps(
        {"type": envelope.type, "timestamp": event["occurred_at"], "data": event},
        ensure_ascii=False,
        separators=(",", ":"),
    )
