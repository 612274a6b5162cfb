"""The command kernel's records: a lifecycle request is carried out once per Idempotency-Key (the same request
again gets the first answer, another request under the key is refused, a race lost answers with the winner's
record), an agency action's repeat gets its first response, and records out of scope are not found."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from psycopg.errors import UniqueViolation
from pydantic import BaseModel

from services.common import errors
from services.common.auth import Principal, Role
from services.common.commands import (
    REQUEST_FINGERPRINT,
    ActionLog,
    KeyedRecords,
    in_scope,
    request_hash,
    same_key,
)
from services.common.problems import PROBLEM_BASE, problem_of


class Notice(BaseModel):
    idempotency_key: str
    text: str


class FakeConn:
    """Rows by idempotency key; a transaction that fails leaves them as they were."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.committed_elsewhere: dict[str, dict[str, Any]] = {}  # by a concurrent request's connection
        self.locked: list[str] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        before = copy.deepcopy(self.rows)
        try:
            yield
        except BaseException:
            self.rows = before
            raise


class FakePool:
    def __init__(self, conn: FakeConn) -> None:
        self.conn = conn

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[FakeConn]:
        yield self.conn


async def find(conn: Any, key: str) -> dict[str, Any] | None:
    return conn.rows.get(key) or conn.committed_elsewhere.get(key)  # type: ignore[no-any-return]


async def lock(conn: Any, key: str) -> None:
    conn.locked.append(key)


def maker(conn: Any, key: str, kind: str, fingerprint: str, made: list[str]) -> Any:
    async def create(c: Any) -> dict[str, str]:
        record_id = f"R-{len(made) + 1}"
        made.append(record_id)
        c.rows[key] = {"kind": kind, "request_hash": fingerprint, "record_id": record_id}
        return {"id": record_id}

    return create


RECORDS = [
    KeyedRecords(find, answer=lambda row: {"id": row["record_id"]}),
    KeyedRecords(find, answer=lambda row: {"id": row["record_id"]}, lock=lock),
]


def test_a_request_has_one_fingerprint_and_its_body_names_the_header_key() -> None:
    assert request_hash(Notice(idempotency_key="k", text="a")) == request_hash(Notice(idempotency_key="k", text="a"))
    assert request_hash(Notice(idempotency_key="k", text="a")) != request_hash(Notice(idempotency_key="k", text="b"))
    same_key("k", Notice(idempotency_key="k", text="a"))
    with pytest.raises(errors.IdempotencyKeysDiffer):
        same_key("k", Notice(idempotency_key="other", text="a"))


@pytest.mark.parametrize("records", RECORDS, ids=["unique-key", "locked-key"])
async def test_the_same_request_again_gets_the_first_answer(records: KeyedRecords[dict[str, str]]) -> None:
    conn: Any = FakeConn()
    made: list[str] = []
    fingerprint = request_hash(Notice(idempotency_key="k", text="a"))
    first = await records.once(conn, "k", fingerprint, maker(conn, "k", "notice", fingerprint, made), kind="notice")
    again = await records.once(conn, "k", fingerprint, maker(conn, "k", "notice", fingerprint, made), kind="notice")
    assert first == ({"id": "R-1"}, True)
    assert again == ({"id": "R-1"}, False)
    assert made == ["R-1"]


@pytest.mark.parametrize("records", RECORDS, ids=["unique-key", "locked-key"])
async def test_the_same_key_with_another_request_is_refused(records: KeyedRecords[dict[str, str]]) -> None:
    conn: Any = FakeConn()
    made: list[str] = []
    first = request_hash(Notice(idempotency_key="k", text="a"))
    other = request_hash(Notice(idempotency_key="k", text="b"))
    await records.once(conn, "k", first, maker(conn, "k", "notice", first, made), kind="notice")
    with pytest.raises(errors.IdempotencyKeyReused) as reused:
        await records.once(conn, "k", other, maker(conn, "k", "notice", other, made), kind="notice")
    # Another kind of request under the key is refused as well, and named as the first one's kind.
    with pytest.raises(errors.IdempotencyKeyReused) as other_kind:
        await records.once(conn, "k", first, maker(conn, "k", "order", first, made), kind="order")
    assert made == ["R-1"]
    for caught in (reused, other_kind):
        problem = problem_of(caught.value)
        assert (problem.status, problem.type, problem.title) == (
            422,
            f"{PROBLEM_BASE}idempotency-key-reused",
            "Idempotency-Key reused",
        )
        assert problem.detail == "the Idempotency-Key was used for a different notice request"


async def test_records_of_one_kind_name_it_and_compare_the_fingerprint_only() -> None:
    letters = KeyedRecords(find, answer=lambda row: {"id": row["record_id"]}, kind="letter", lock=lock)
    conn: Any = FakeConn()
    made: list[str] = []
    await letters.once(conn, "k", "h1", maker(conn, "k", "handoff", "h1", made))
    assert await letters.once(conn, "k", "h1", maker(conn, "k", "handoff", "h1", made)) == ({"id": "R-1"}, False)
    with pytest.raises(errors.IdempotencyKeyReused, match="different letter request"):
        await letters.once(conn, "k", "h2", maker(conn, "k", "handoff", "h2", made))
    assert conn.locked == ["k", "k", "k"]


async def test_a_first_request_that_loses_the_race_answers_with_the_winners_record() -> None:
    conn: Any = FakeConn()

    async def lose(c: Any) -> dict[str, str]:
        # The winner commits while this one is being made; this one's insert then breaks the key's constraint.
        c.committed_elsewhere["k"] = {"kind": "notice", "request_hash": "h", "record_id": "R-winner"}
        c.rows["k"] = {"kind": "notice", "request_hash": "h", "record_id": "R-lost"}
        raise UniqueViolation("duplicate key value violates unique constraint")

    assert await RECORDS[0].once(conn, "k", "h", lose, kind="notice") == ({"id": "R-winner"}, False)
    assert "k" not in conn.rows  # what the loser wrote is rolled back


async def test_a_unique_violation_of_another_record_is_not_taken_for_a_repeat() -> None:
    conn: Any = FakeConn()

    async def clash(c: Any) -> dict[str, str]:
        raise UniqueViolation("duplicate key value violates unique constraint on case_id")

    with pytest.raises(UniqueViolation):
        await RECORDS[0].once(conn, "k", "h", clash, kind="mark")


async def test_a_repeated_action_gets_its_first_response_only_for_its_client_request_and_scope() -> None:
    conn: Any = FakeConn()
    conn.rows["k"] = {
        "action_id": "A-1",
        "actor": "inspector-130402",
        "request_fingerprint": "f1",
        "response": {"action_id": "A-1", "accepted": True},
    }
    log = ActionLog(FakePool(conn), find)  # type: ignore[arg-type]
    owner, stranger = (
        Principal("inspector-130402", Role.county_inspector, county="130402"),
        Principal("inspector-130403", Role.county_inspector, county="130403"),
    )
    checked: list[str] = []

    async def visible(row: dict[str, Any]) -> None:
        checked.append(row["action_id"])

    async def gone(row: dict[str, Any]) -> None:
        raise errors.NotFound("No such case", "not in your scope")

    token = REQUEST_FINGERPRINT.set("f1")
    try:
        assert await log.repeated("k", owner, visible) == {"action_id": "A-1", "accepted": True, "repeated": True}
        assert checked == ["A-1"]
        assert await log.repeated("new", owner, visible) is None
        assert await log.repeated(None, owner, visible) is None
        # Another client's key, the key with another request, a record no longer in scope: nothing revealed.
        with pytest.raises(errors.IdempotencyKeyReused):
            await log.repeated("k", stranger, visible)
        REQUEST_FINGERPRINT.set("f2")
        with pytest.raises(errors.IdempotencyKeyReused):
            await log.repeated("k", owner, visible)
        REQUEST_FINGERPRINT.set("f1")
        with pytest.raises(errors.NotFound):
            await log.repeated("k", owner, gone)
    finally:
        REQUEST_FINGERPRINT.reset(token)


async def test_a_record_out_of_scope_is_not_found_like_a_missing_one() -> None:
    conn: Any = FakeConn()
    conn.rows = {"C-1": {"case_id": "C-1", "county": "130402"}, "C-3": {"case_id": "C-3", "county": "130403"}}
    pool: Any = FakePool(conn)

    def visible(row: dict[str, Any]) -> bool:
        return bool(row["county"] == "130402")

    assert await in_scope(pool, find, "C-1", "case", visible) == conn.rows["C-1"]
    for case_id in ("C-2", "C-3"):
        with pytest.raises(errors.NotFound) as missing:
            await in_scope(pool, find, case_id, "case", visible)
        problem = problem_of(missing.value)
        assert (problem.status, problem.title, problem.detail) == (
            404,
            "No such case",
            f"case {case_id} was not found in your scope",
        )
