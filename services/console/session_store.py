"""The console's sessions in PostgreSQL (its `console` schema, `migrations/`): one store for every replica, so
a session opened through one console is valid on the others and a sign-out on any ends it on all.

What a row holds and why:

- the SHA-256 of the session id, never the id: the id is the cookie's value, the one secret a browser shows;
  a copy of the table signs no one in;
- the person's token sealed (AES-GCM) under the console's own key ring (`KeyPurpose.CONSOLE`, held by the
  console alone), bound to the row's hash, so a sealed token copied to another row does not open;
- when it was last used and when its token expires, as wall-clock times: replicas compare them with their own
  clocks, so the machines' clocks are kept in step (NTP), as the tokens' expiry already needs.

Ended rows (idle, or their token expired) are deleted when they are next asked for and by every sign-in.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.common.crypto import FieldCipher
from services.common.errors import Unavailable
from services.common.health import database_check
from services.console.sessions import Session, new_csrf, new_session_id

SCHEMA = "console"
MIGRATIONS = Path(__file__).parent / "migrations"
COLUMNS = "person_id, role, county, department, token_sealed, token_expires_at, csrf, last_seen"


def session_hash(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode()).digest()


def _token_context(hashed: bytes) -> str:
    return f"console.sessions.token:{hashed.hex()}"


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class PostgresSessionStore:
    def __init__(self, idle_seconds: float, cipher: FieldCipher, *, clock: Callable[[], float] = time.time) -> None:
        self.idle_seconds = idle_seconds
        self._cipher = cipher
        self._clock = clock
        # Opened with the app (its lifespan), after the schema is prepared.
        self.pool: AsyncConnectionPool | None = None

    def _open_pool(self) -> AsyncConnectionPool:
        if self.pool is None:
            raise Unavailable("Sessions not open", "The console is starting; try again.", retry_after=1)
        return self.pool

    async def ready(self) -> str | None:
        """A readiness check (`services.common.health`): None when the sessions can be read."""
        if self.pool is None:
            return "postgresql not open yet"
        return await database_check(self.pool)()

    async def open(
        self, person_id: str, role: str, county: str | None, department: str | None, token: str, expires_in: float
    ) -> Session:
        now = self._clock()
        session = Session(
            new_session_id(), person_id, role, county, department, token, now + expires_in, new_csrf(), now
        )
        hashed = session_hash(session.session_id)
        sealed = self._cipher.seal(token, context=_token_context(hashed))
        async with self._open_pool().connection() as conn:
            await conn.execute(
                "DELETE FROM sessions WHERE last_seen < %s OR token_expires_at <= %s",
                (_at(now - self.idle_seconds), _at(now)),
            )
            await conn.execute(
                f"INSERT INTO sessions (session_hash, {COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    hashed,
                    person_id,
                    role,
                    county,
                    department,
                    sealed,
                    _at(session.token_expires_at),
                    session.csrf,
                    _at(now),
                ),
            )
        return session

    async def get(self, session_id: str | None, *, touch: bool = True) -> Session | None:
        if not session_id:
            return None
        hashed = session_hash(session_id)
        now = self._clock()
        # `touch=False` (a page's own refresh polling): read the live session without counting it as activity.
        seen = "%s" if touch else "last_seen"
        async with self._open_pool().connection() as conn:
            cursor = await conn.execute(
                f"UPDATE sessions SET last_seen = {seen} WHERE session_hash = %s AND last_seen >= %s "
                f"AND token_expires_at > %s RETURNING {COLUMNS}",
                ((_at(now),) if touch else ()) + (hashed, _at(now - self.idle_seconds), _at(now)),
            )
            row: dict[str, Any] | None = await cursor.fetchone()  # type: ignore[assignment]
            if row is None:
                # Unknown, or ended: an ended row goes now.
                await conn.execute("DELETE FROM sessions WHERE session_hash = %s", (hashed,))
                return None
        token = self._cipher.open(row["token_sealed"], context=_token_context(hashed))
        return Session(
            session_id,
            row["person_id"],
            row["role"],
            row["county"],
            row["department"],
            token,
            row["token_expires_at"].timestamp(),
            row["csrf"],
            row["last_seen"].timestamp(),
        )

    async def close(self, session_id: str) -> None:
        async with self._open_pool().connection() as conn:
            await conn.execute("DELETE FROM sessions WHERE session_hash = %s", (session_hash(session_id),))

    async def close_all(self, person_id: str) -> int:
        async with self._open_pool().connection() as conn:
            cursor = await conn.execute("DELETE FROM sessions WHERE person_id = %s", (person_id,))
            return cursor.rowcount

    async def count(self) -> int:
        """How many rows there are (ended ones not yet swept included)."""
        async with self._open_pool().connection() as conn:
            cursor = await conn.execute("SELECT count(*) AS n FROM sessions")
            row: dict[str, Any] | None = await cursor.fetchone()  # type: ignore[assignment]
        return int(row["n"]) if row else 0
