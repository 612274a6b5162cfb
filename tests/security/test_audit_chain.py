"""Attacks on the audit trail by someone with the schema owner's rights, performed on the real stack and
detected (docs/security.md lists them): the append-only trigger disabled, then a row changed, or a row
deleted. `anxin audit verify` finds the first broken link at that row. Each tampering is undone afterwards
(the row put back as it was), so the chain is whole again for the tests after it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
from psycopg.types.json import Jsonb

from deploy.stack import Stack
from tests.support.factories import ComplaintTemplate, seed
from tests.support.operator_cli import anxin

AUDIT = ComplaintTemplate(
    employer_name="邯郸市审计链测试劳务有限公司",
    project_name="审计链测试安置房项目",
    period=("2026-05-01", "2026-08-31"),
    description="五月到八月在该项目干活，工资一直没有结清。",
    phone_prefix="134",
    credit_series="MF",
)


def _superuser(stack: Stack) -> psycopg.Connection[Any]:
    return psycopg.connect(
        f"postgresql://postgres@127.0.0.1:{stack.ports.postgres}/anxin",
        autocommit=True,
        options="-c search_path=intake",
    )


def _verify(stack: Stack) -> tuple[int, str]:
    result = anxin(stack, "audit", "verify", "--service", "intake")
    return result.returncode, result.stdout + result.stderr


@contextmanager
def _trigger_disabled(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """As an attacker with the owner's rights would: the append-only trigger off, for this one change."""
    conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    try:
        yield
    finally:
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")


def _audited_rows(stack: Stack, client: Callable[[str, str | None], httpx.Client]) -> list[int]:
    """File a complaint and read its complainant (each request writes audit rows); the ids of its rows."""
    filed = client("intake-api", "clerk-130402").post("/v1/complaints", json=AUDIT.body(seed()))
    assert filed.status_code == 201, filed.text
    complaint_id = filed.json()["complaint_id"]
    inspector = client("intake-api", "inspector-130402")
    for _ in range(2):
        assert inspector.get(f"/v1/complaints/{complaint_id}/complainant").status_code == 200
    with _superuser(stack) as conn:
        rows = conn.execute("SELECT id FROM audit_log WHERE subject = %s ORDER BY id", (complaint_id,)).fetchall()
    assert len(rows) >= 2, rows
    return [row[0] for row in rows]


def test_rows_written_by_requests_are_chained(stack: Stack, client: Callable[[str, str | None], httpx.Client]) -> None:
    ids = _audited_rows(stack, client)
    with _superuser(stack) as conn:
        rows = conn.execute(
            "SELECT id, prev_hash, row_hash FROM audit_log WHERE id <= %s ORDER BY id DESC LIMIT 2", (ids[-1],)
        ).fetchall()
    (last, last_prev, _), (_, _, before) = rows
    assert last == ids[-1] and last_prev == before and len(before) == 32
    code, output = _verify(stack)
    assert code == 0 and "rows, chain intact" in output, output


def test_a_row_changed_past_the_trigger_is_found(
    stack: Stack, client: Callable[[str, str | None], httpx.Client]
) -> None:
    target = _audited_rows(stack, client)[0]
    with _superuser(stack) as conn:
        (actor,) = conn.execute("SELECT actor FROM audit_log WHERE id = %s", (target,)).fetchone() or ("",)
        with _trigger_disabled(conn):
            conn.execute("UPDATE audit_log SET actor = 'someone-else' WHERE id = %s", (target,))
        try:
            code, output = _verify(stack)
            assert code == 1 and f"chain broken at row {target}:" in output and "content" in output, output
        finally:
            with _trigger_disabled(conn):
                conn.execute("UPDATE audit_log SET actor = %s WHERE id = %s", (actor, target))
    code, output = _verify(stack)
    assert code == 0 and "chain intact" in output, output


def test_a_row_deleted_past_the_trigger_is_found(
    stack: Stack, client: Callable[[str, str | None], httpx.Client]
) -> None:
    ids = _audited_rows(stack, client)
    target, following = ids[0], ids[1]
    with _superuser(stack) as conn:
        cursor = conn.execute("SELECT * FROM audit_log WHERE id = %s", (target,))
        columns = [c.name for c in cursor.description or []]
        saved = cursor.fetchone()
        with _trigger_disabled(conn):
            conn.execute("DELETE FROM audit_log WHERE id = %s", (target,))
        try:
            code, output = _verify(stack)
            # The row after the gap no longer follows the row before it; nothing before it is reported.
            nexts = conn.execute("SELECT min(id) FROM audit_log WHERE id > %s", (target,)).fetchone()
            assert nexts is not None and nexts[0] <= following
            assert code == 1 and f"chain broken at row {nexts[0]}:" in output and "removed" in output, output
        finally:
            with _trigger_disabled(conn):
                conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain")
                try:
                    conn.execute(
                        f"INSERT INTO audit_log ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
                        [Jsonb(v) if isinstance(v, dict) else v for v in saved or ()],
                    )
                finally:
                    conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_chain")
    code, output = _verify(stack)
    assert code == 0 and "chain intact" in output, output


def test_concurrent_inserts_form_one_chain(stack: Stack, client: Callable[[str, str | None], httpx.Client]) -> None:
    """Eight writers at once, as intake's own role, each inserting in transactions of several rows: the chain
    stays one line in id order (ids are drawn under the chain's lock)."""
    subject = f"audit-chain-{uuid.uuid4().hex[:8]}"
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with psycopg.connect(stack.postgres.service_url("intake"), options="-c search_path=intake") as conn:
                for batch in range(5):
                    with conn.transaction():
                        for row in range(3):
                            conn.execute(
                                "INSERT INTO audit_log (actor, role, scope, action, subject, detail) "
                                "VALUES ('test', 'system', 'city', 'test.concurrent', %s, %s)",
                                (subject, f'{{"writer": {n}, "batch": {batch}, "row": {row}}}'),
                            )
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    with _superuser(stack) as conn:
        rows = conn.execute("SELECT count(*) FROM audit_log WHERE subject = %s", (subject,)).fetchone()
        heads = conn.execute("SELECT prev_hash, count(*) FROM audit_log GROUP BY 1 HAVING count(*) > 1").fetchall()
    assert rows == (8 * 5 * 3,) and heads == [], heads
    code, output = _verify(stack)
    assert code == 0 and "chain intact" in output, output
