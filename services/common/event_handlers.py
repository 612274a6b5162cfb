"""A consumer's handlers, registered by event class: the one way the services' inbox handlers dispatch.

    handlers = EventHandlers({ComplaintSubmitted: on_submitted, HandoffResponded: on_handoff_responded})
    InboxConsumer(..., handler=handlers)          # handlers(conn, envelope)

Each handler is called as `handler(conn, envelope, payload)` with the payload already read as its class.
For an envelope the consumer has no handler for:

- a type it does not handle (in any version) whose class is known: ignored (someone else's business);
- a type it handles, in a version it does not: `UnacceptedVersion`, naming the versions it accepts;
- a `(type, version)` no class is known for: `UnknownEvent`.

Both errors are permanent for the inbox (`services.common.inbox.PERMANENT_ERRORS`), as is the
`ValidationError` of a payload its class does not accept: the event is set aside as a dead letter with the
message, and the events behind it flow on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from services.common.inbox import PermanentEventError
from services.contracts.events import EventEnvelope, EventPayload, event_class

# (connection, envelope, payload as its class); the connection is the inbox transaction's.
PayloadHandler = Callable[[Any, EventEnvelope, Any], None]


class UnacceptedVersion(PermanentEventError):
    """The consumer handles the event's type, but not in this version."""


class EventHandlers:
    """The inbox handler `(conn, envelope) -> None` made of one handler per event class."""

    def __init__(
        self, handlers: Mapping[type[EventPayload], PayloadHandler], *, consumer: str = "this consumer"
    ) -> None:
        self._handlers = {(cls.TYPE, cls.VERSION): (cls, handler) for cls, handler in handlers.items()}
        self._consumer = consumer
        self._accepted: dict[str, list[int]] = {}
        for event_type, version in sorted(self._handlers):
            self._accepted.setdefault(event_type, []).append(version)

    def payload_of(self, envelope: EventEnvelope) -> EventPayload | None:
        """The envelope's payload as its class when this consumer handles it; None when it ignores it."""
        found = self._handlers.get((envelope.type, envelope.version))
        if found is not None:
            return found[0].model_validate(envelope.payload)
        accepted = self._accepted.get(envelope.type)
        if accepted:
            versions = ", ".join(f"v{v}" for v in accepted)
            raise UnacceptedVersion(f"{self._consumer} accepts {envelope.type} {versions}, not v{envelope.version}")
        event_class(envelope.type, envelope.version)  # UnknownEvent for a (type, version) no class is known for
        return None

    def __call__(self, conn: Any, envelope: EventEnvelope) -> None:
        payload = self.payload_of(envelope)
        if payload is not None:
            self._handlers[(envelope.type, envelope.version)][1](conn, envelope, payload)
