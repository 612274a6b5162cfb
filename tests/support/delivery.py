"""What the kill-under-load tests check after filing: each complaint started its workflow (intake records the
start) and reached the cases ledger, and each event a relay resent took effect once in the cases inbox."""

from __future__ import annotations

import time

import psycopg


def started_and_ledgered(database_url: str, ids: list[str], timeout: float) -> tuple[int, int]:
    """(complaints with a recorded workflow start, complaints in the cases ledger), polled until both reach
    `len(ids)` or `timeout` seconds pass."""
    started = ledgered = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(database_url) as conn:
            started = conn.execute(
                "SELECT count(*) FROM intake.workflow_starts WHERE complaint_id = ANY(%s)", (ids,)
            ).fetchone()[0]  # type: ignore[index]
            ledgered = conn.execute(
                "SELECT count(*) FROM cases.complaints WHERE complaint_id = ANY(%s)", (ids,)
            ).fetchone()[0]  # type: ignore[index]
        if started == ledgered == len(ids):
            break
        time.sleep(1)
    return started, ledgered


def inbox_applications(database_url: str, ids: list[str]) -> tuple[int, int]:
    """(rows, distinct events) the cases inbox applied of the events intake published for `ids`."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM cases.inbox WHERE event_id IN "
            "(SELECT event_id FROM intake.outbox WHERE message_key = ANY(%s))",
            (ids,),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])
