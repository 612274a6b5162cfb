"""Signed-in people's sessions: the person's token, held server-side only, and the CSRF token of their forms. A
session ends after `idle_seconds` without a request, when its token expires, on sign-out, or on the person's
sign-out everywhere (all their sessions).

The console keeps them in PostgreSQL (`session_store.PostgresSessionStore`), so every replica sees the same
sessions and a restart ends none; `MemorySessionStore` keeps them in this process, for the unit tests. Both
answer the same four calls (`SessionStore`).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass
class Session:
    session_id: str
    person_id: str
    role: str
    county: str | None
    department: str | None
    token: str
    token_expires_at: float
    csrf: str
    last_seen: float

    def csrf_matches(self, offered: str | None) -> bool:
        return offered is not None and hmac.compare_digest(offered.encode(), self.csrf.encode())


class SessionStore(Protocol):
    idle_seconds: float

    async def open(
        self, person_id: str, role: str, county: str | None, department: str | None, token: str, expires_in: float
    ) -> Session:
        """A new session of the person (its id is the cookie's value); sessions that have ended are swept."""

    async def get(self, session_id: str | None, *, touch: bool = True) -> Session | None:
        """The live session of this id, its idle time reset (unless `touch` is False: a page refreshing itself is
        no sign of the person); None (and forgotten) once idle or its token ran out."""

    async def close(self, session_id: str) -> None:
        """End this session (sign-out)."""

    async def close_all(self, person_id: str) -> int:
        """End every session of the person (sign-out everywhere); returns how many."""


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


class MemorySessionStore:
    """Sessions in this process's memory: they end when it restarts and no other process sees them."""

    def __init__(self, idle_seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._sessions: dict[str, Session] = {}

    async def open(
        self, person_id: str, role: str, county: str | None, department: str | None, token: str, expires_in: float
    ) -> Session:
        now = self._clock()
        session = Session(
            new_session_id(), person_id, role, county, department, token, now + expires_in, new_csrf(), now
        )
        self._sessions[session.session_id] = session
        self._sweep(now)
        return session

    async def get(self, session_id: str | None, *, touch: bool = True) -> Session | None:
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        now = self._clock()
        if self._ended(session, now):
            del self._sessions[session_id]
            return None
        if touch:
            session.last_seen = now
        return session

    async def close(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    async def close_all(self, person_id: str) -> int:
        ended = [sid for sid, s in self._sessions.items() if s.person_id == person_id]
        for sid in ended:
            del self._sessions[sid]
        return len(ended)

    def _ended(self, session: Session, now: float) -> bool:
        return now - session.last_seen > self.idle_seconds or now >= session.token_expires_at

    def _sweep(self, now: float) -> None:
        for sid in [sid for sid, s in self._sessions.items() if self._ended(s, now)]:
            del self._sessions[sid]

    def __len__(self) -> int:
        return len(self._sessions)
