"""The console's PostgreSQL session store on the stack's database, its clock in the test's hand: idle timeout,
token expiry, sign-out and sign-out everywhere, ended rows swept, a token that opens only in its own row."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import psycopg
import pytest
from cryptography.exceptions import InvalidTag

from deploy.stack import Stack
from services.common.crypto import FieldCipher, new_key
from services.common.db import open_async_pool
from services.console.session_store import SCHEMA, PostgresSessionStore, session_hash


class Clock:
    def __init__(self) -> None:
        self.now = 2_000_000_000.0

    def __call__(self) -> float:
        return self.now


def _run(stack: Stack, check: Callable[[PostgresSessionStore, Clock], Awaitable[None]]) -> None:
    async def run() -> None:
        clock = Clock()
        store = PostgresSessionStore(60, FieldCipher.from_config(f'{{"t": "{new_key()}"}}', "t"), clock=clock)
        store.pool = await open_async_pool(stack.postgres.service_url(SCHEMA), SCHEMA, min_size=1, max_size=2)
        try:
            await check(store, clock)
        finally:
            await store.pool.close()

    asyncio.run(run())


async def _idle_expiry_and_sign_out_everywhere(store: PostgresSessionStore, clock: Clock) -> None:
    person, someone_else = f"s{clock.now:.0f}a", f"s{clock.now:.0f}b"
    kept = await store.open(person, "county_inspector", "130403", None, "t1", expires_in=300)
    other = await store.open(person, "county_inspector", "130403", None, "t2", expires_in=300)
    theirs = await store.open(someone_else, "city_office", None, None, "t3", expires_in=300)
    clock.now += 50
    found = await store.get(kept.session_id)
    assert found is not None and found.token == "t1" and found.csrf == kept.csrf  # a request resets the idle time …
    clock.now += 50
    assert await store.get(kept.session_id) is not None
    assert await store.get(other.session_id) is None  # … of that session only: 100 s idle
    clock.now += 40
    assert await store.get(kept.session_id) is not None
    clock.now += 170  # 310 s after it opened: its token has expired, however active it was
    assert await store.get(kept.session_id) is None
    fresh = await store.open(person, "county_inspector", "130403", None, "t4", expires_in=300)
    again = await store.open(person, "county_inspector", "130403", None, "t5", expires_in=300)
    assert await store.close_all(person) == 2
    assert await store.get(fresh.session_id) is None and await store.get(again.session_id) is None
    # The other person's session, idle 310 s, was swept by the sign-ins: no row left to ask for.
    async with store._open_pool().connection() as conn:
        left = await (
            await conn.execute(
                "SELECT count(*) AS n FROM sessions WHERE session_hash = %s", (session_hash(theirs.session_id),)
            )
        ).fetchone()
    assert left is not None and left["n"] == 0
    signed_out = await store.open(someone_else, "city_office", None, None, "t6", expires_in=300)
    await store.close(signed_out.session_id)
    assert await store.get(signed_out.session_id) is None
    assert await store.get(None) is None and await store.get("no-such-session") is None


def test_a_stored_session_ends_when_idle_or_expired_and_on_sign_out(stack: Stack, console: str) -> None:
    _run(stack, _idle_expiry_and_sign_out_everywhere)


async def _a_token_opens_only_in_its_own_row(store: PostgresSessionStore, clock: Clock) -> None:
    first = await store.open(f"s{clock.now:.0f}c", "city_office", None, None, "token-one", expires_in=300)
    second = await store.open(f"s{clock.now:.0f}c", "city_office", None, None, "token-two", expires_in=300)
    async with store._open_pool().connection() as conn:
        await conn.execute(
            "UPDATE sessions SET token_sealed = (SELECT token_sealed FROM sessions WHERE "
            "session_hash = %s) WHERE session_hash = %s",
            (session_hash(first.session_id), session_hash(second.session_id)),
        )
    with pytest.raises(InvalidTag):
        await store.get(second.session_id)
    await store.close_all(first.person_id)


def test_a_sealed_token_copied_to_another_session_does_not_open(stack: Stack, console: str) -> None:
    _run(stack, _a_token_opens_only_in_its_own_row)


def test_the_console_schema_is_its_roles_alone(stack: Stack, console: str) -> None:
    with (
        psycopg.connect(stack.postgres.service_url("issuer")) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("SELECT count(*) FROM console.sessions")
