"""What the joint interviews' commands share (`interview_scheduling.py`, `interview_follow_up.py`): the engines
they use, an interview read within the caller's scope, a request answered once per Idempotency-Key, and one
action recorded with its audit row, its stored answer and its event."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from psycopg.errors import UniqueViolation
from psycopg_pool import AsyncConnectionPool

from services.common import audit
from services.common.auth import Principal
from services.common.commands import REQUEST_FINGERPRINT, ActionLog
from services.common.errors import NotFound, Refused
from services.common.outbox import add_event_async
from services.contracts.events import EventEnvelope
from services.contracts.interview_events import InterviewEvent
from services.sanctions import domain, interviews_store
from services.sanctions.interviews import ProposalRule
from services.sanctions.settings import SanctionsSettings
from services.sanctions.store import PRODUCER, Conn


def plain(value: Any) -> Any:
    """What a stored answer holds: money as strings, dates as ISO 8601 (as the API answers)."""
    return json.loads(json.dumps(value, default=lambda v: str(v) if isinstance(v, Decimal) else v.isoformat()))


async def emit(conn: Conn, interview_id: str, payload: InterviewEvent) -> None:
    await add_event_async(conn, payload.TOPIC, EventEnvelope.wrap(payload, subject=interview_id, producer=PRODUCER))


class InterviewsBase:
    """One instance per API process (as `Interviews`)."""

    def __init__(
        self, pool: AsyncConnectionPool, settings: SanctionsSettings, today: Callable[[], date] | None = None
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._actions = ActionLog(pool, interviews_store.find_action)
        self._today = today or (lambda: domain.china_date(datetime.now(UTC)))
        self.rule = ProposalRule(
            min_cases=settings.interview_min_cases,
            amount_threshold=settings.interview_amount_threshold,
            window_months=settings.interview_window_months,
        )

    async def _visible(
        self, conn: Conn, principal: Principal, interview_id: str, *, lock: bool = False
    ) -> dict[str, Any]:
        interview = await interviews_store.get_interview(conn, interview_id, lock=lock)
        if interview is None or not any(principal.may_see_county(c) for c in interview["counties"]):
            raise NotFound("No such interview", f"interview {interview_id} was not found in your scope")
        return interview

    async def _once(
        self, principal: Principal, key: str | None, action: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """The action, or the first answer to this client's same request with this key. The same request sent
        twice at once: the second finds the key taken when it commits (or the record changed by the first) and
        answers the first's answer."""
        if (repeated := await self._repeated(principal, key)) is not None:
            return repeated
        try:
            return await action()
        except (UniqueViolation, Refused):
            if (repeated := await self._repeated(principal, key)) is not None:
                return repeated
            raise

    async def _repeated(self, principal: Principal, key: str | None) -> dict[str, Any] | None:
        async def still_visible(action: dict[str, Any]) -> None:
            async with self._pool.connection() as conn:
                await self._visible(conn, principal, action["interview_id"])

        return await self._actions.repeated(key, principal, still_visible)

    @staticmethod
    async def _record(
        conn: Conn,
        principal: Principal,
        interview_id: str,
        kind: str,
        key: str | None,
        response: dict[str, Any],
        detail: dict[str, Any],
    ) -> None:
        await interviews_store.insert_action(
            conn,
            action_id=response["action_id"],
            interview_id=interview_id,
            kind=kind,
            key=key,
            actor=principal.client_id,
            response=response,
            request_fingerprint=REQUEST_FINGERPRINT.get(),
        )
        await audit.record(conn, principal, f"interview.{kind}", interview_id, detail=detail)
