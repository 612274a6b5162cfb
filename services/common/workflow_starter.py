"""An inbox handler that starts and signals Temporal workflows from events (the referrals' follow-ups, the
projects' monitoring): the inbox calls it synchronously inside its transaction, on the consumer's thread, so it
runs the Temporal client's coroutines on an event loop of that thread, with one client connected on first use."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from temporalio.client import Client

from services.common import temporal
from services.common.event_handlers import EventHandlers
from services.common.settings import CommonSettings
from services.contracts.events import EventEnvelope

T = TypeVar("T")


class WorkflowStarter:
    """Subclasses set `handlers` (the events they act on) and call `run(...)` / `client()` in their handlers."""

    handlers: EventHandlers

    def __init__(self, settings: CommonSettings) -> None:
        self._settings = settings
        self._local = threading.local()
        self.client_connected: Client | None = None

    def __call__(self, conn: Any, event: EventEnvelope) -> None:
        self.handlers(conn, event)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """`coroutine` run to its end on this thread's event loop (made on the thread's first event)."""
        loop = getattr(self._local, "loop", None)
        if loop is None:
            loop = asyncio.new_event_loop()
            self._local.loop = loop
        return loop.run_until_complete(coroutine)

    async def client(self) -> Client:
        if self.client_connected is None:
            self.client_connected = await temporal.connect(self._settings)
        return self.client_connected
