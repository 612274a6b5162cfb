"""The command kernel the agency services share: idempotency by key, and the opening of an action.

- **The lifecycle's requests** (a notice, a letter, a listing …) are carried out once per Idempotency-Key:
  `same_key` checks the header against the body, `request_hash` fingerprints the request, and
  `KeyedRecords.once` finds what an earlier request with the key made. The same request gets the first
  answer again (`created` False); another request under a used key is refused (`IdempotencyKeyReused`).
- **Agency actions** open alike: a repeated Idempotency-Key is answered with the first response
  (`ActionLog.repeated`) — only to the client that used it, for the same request (the route's
  `fingerprint_request` dependency fingerprints method, path and body), and only while the record is still
  in the caller's scope — and the record acted on is looked up in the caller's scope (`in_scope`: not there
  or not visible is one answer, `NotFound`).

Each service keeps its SQL in its own `store.py`; the kernel takes the store's functions as callables.
The Temporal side is `services/common/process_gateway.py`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from psycopg import AsyncConnection
from psycopg.errors import UniqueViolation
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel
from starlette.requests import Request

from services.common.auth import Principal
from services.common.errors import IdempotencyKeyReused, IdempotencyKeysDiffer, NotFound

A = TypeVar("A")
Conn = AsyncConnection[Any]
Row = dict[str, Any]
FindByKey = Callable[[Conn, str], Awaitable[Row | None]]


def request_hash(model: BaseModel) -> str:
    """The fingerprint of a request: the same request always has the same one."""
    return hashlib.sha256(json.dumps(model.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


# The fingerprint of the agency request being served (method, path, canonical body), set by the action routes'
# `fingerprint_request` dependency: recorded with the action, compared when its Idempotency-Key comes again.
REQUEST_FINGERPRINT: ContextVar[str | None] = ContextVar("request_fingerprint", default=None)


async def fingerprint_request(request: Request) -> None:
    """A dependency of the agencies' action routes: fingerprint this request for `ActionLog`."""
    body = await request.body()
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
    except ValueError:
        canonical = body  # not JSON (a form, a file): its bytes as they came
    seen = f"{request.method} {request.url.path}\n".encode() + canonical
    REQUEST_FINGERPRINT.set(hashlib.sha256(seen).hexdigest())


def same_key(header: str, request: BaseModel) -> None:
    """A request that names its idempotency key in the body too must name the header's."""
    if getattr(request, "idempotency_key", header) != header:
        raise IdempotencyKeysDiffer()


@dataclass(frozen=True)
class KeyedRecords(Generic[A]):
    """Where a service keeps what each Idempotency-Key made, and how it answers a repeat.

    `find(conn, key)` is the store's look-up (a row with `request_hash`, and `kind` unless `kind` is given:
    the one kind of request these records are made for); `answer(row)` is the answer a repeat gets.
    With `lock(conn, key)` (e.g. an advisory lock on the key) requests with one key are serialised and
    made in one transaction with the look-up; without it, a concurrent first request is recognised by
    the key's unique constraint, and the one that lost answers with the winner's record.
    """

    find: FindByKey
    answer: Callable[[Row], A]
    kind: str | None = None
    lock: Callable[[Conn, str], Awaitable[None]] | None = None

    async def once(
        self,
        conn: Conn,
        key: str,
        request_hash: str,
        create: Callable[[Conn], Awaitable[A]],
        *,
        kind: str | None = None,
    ) -> tuple[A, bool]:
        """(the answer, whether it was created now): `create(conn)` runs, in a transaction, for a new key only."""
        kind = kind or self.kind
        assert kind is not None, "a request's kind is needed where records hold several kinds"
        if self.lock is not None:
            async with conn.transaction():
                await self.lock(conn, key)
                row = await self.find(conn, key)
                if row is not None:
                    return self._again(row, kind, request_hash), False
                return await create(conn), True
        row = await self.find(conn, key)
        if row is not None:
            return self._again(row, kind, request_hash), False
        try:
            async with conn.transaction():
                return await create(conn), True
        except UniqueViolation:
            row = await self.find(conn, key)
            if row is None:  # another record than the key's was the one already there
                raise
            return self._again(row, kind, request_hash), False

    def _again(self, row: Row, kind: str, request_hash: str) -> A:
        first_kind = self.kind or row["kind"]
        if first_kind != kind or row["request_hash"] != request_hash:
            raise IdempotencyKeyReused(first_kind)
        return self.answer(row)


@dataclass(frozen=True)
class ActionLog:
    """Agency actions as recorded with the response each got (`find(conn, key)` gives the row, with
    `response`)."""

    pool: AsyncConnectionPool
    find: FindByKey

    async def repeated(
        self,
        key: str | None,
        principal: Principal,
        still_visible: Callable[[Row], Awaitable[object]],
    ) -> dict[str, Any] | None:
        """The first response again, marked `repeated`, when this client recorded an action with this key for
        this same request (`REQUEST_FINGERPRINT`) on a record it may still see (`still_visible(row)` raises
        `NotFound` otherwise). Another client's key, or the key with another request, is refused without
        revealing anything of the first action."""
        if not key:
            return None
        async with self.pool.connection() as conn:
            found = await self.find(conn, key)
        if found is None:
            return None
        fingerprint = REQUEST_FINGERPRINT.get()
        if found["actor"] != principal.client_id or (
            found.get("request_fingerprint") and fingerprint and found["request_fingerprint"] != fingerprint
        ):
            raise IdempotencyKeyReused("agency action")
        await still_visible(found)
        return {**found["response"], "repeated": True}


async def in_scope(
    pool: AsyncConnectionPool, fetch: FindByKey, record_id: str, what: str, visible: Callable[[Row], bool]
) -> Row:
    """The record `fetch(conn, record_id)` finds, when the caller may see it (`visible`); otherwise
    `NotFound`, the same answer whether it does not exist or is out of scope."""
    async with pool.connection() as conn:
        row = await fetch(conn, record_id)
    if row is None or not visible(row):
        raise NotFound(f"No such {what}", f"{what} {record_id} was not found in your scope")
    return row
