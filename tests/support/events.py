"""Events of the tests and benches only, on their own topics: what the outbox, relay and inbox carry when
the point is the carrying, not a service's fact."""

from __future__ import annotations

from typing import ClassVar

from services.contracts.events import EventPayload


class Counted(EventPayload):
    """The n-th of a run's events: each must take effect exactly once."""

    TYPE: ClassVar[str] = "test.counted"
    VERSION: ClassVar[int] = 1

    n: int


class Marked(EventPayload):
    """An event a test finds again by its marker."""

    TYPE: ClassVar[str] = "test.marked"
    VERSION: ClassVar[int] = 1

    marker: str
