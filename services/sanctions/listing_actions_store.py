"""The SQL of what agencies record on a listing: its responsible persons (names and ID numbers sealed), the
actions taken on it by Idempotency-Key, the employer's statements (sealed) and the early-removal applications
with their decisions. Each change is written with its event by the caller, in one transaction
(`listing_actions.py`, over `command_base.py`); the listing itself is in `store.py`."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from services.sanctions.store import Conn

# --- responsible persons -------------------------------------------------------------------------------------


async def replace_persons(conn: Conn, listing_id: str, persons: list[dict[str, Any]], recorded_by: str) -> None:
    await conn.execute("DELETE FROM responsible_persons WHERE listing_id = %s", (listing_id,))
    for seq, person in enumerate(persons, start=1):
        await conn.execute(
            "INSERT INTO responsible_persons (listing_id, seq, role, name_sealed, id_number_sealed, name_masked, "
            "person_ref, recorded_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                listing_id,
                seq,
                person["role"],
                person["name_sealed"],
                person["id_number_sealed"],
                person["name_masked"],
                person["person_ref"],
                recorded_by,
            ),
        )


async def persons(conn: Conn, listing_id: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT seq, role, name_sealed, id_number_sealed, name_masked, person_ref FROM responsible_persons "
        "WHERE listing_id = %s ORDER BY seq",
        (listing_id,),
    )
    return await cur.fetchall()


async def persons_of(conn: Conn, listing_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    cur = await conn.execute(
        "SELECT listing_id, role, name_sealed, name_masked, person_ref FROM responsible_persons "
        "WHERE listing_id = ANY(%s) ORDER BY listing_id, seq",
        (listing_ids,),
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for row in await cur.fetchall():
        found.setdefault(row["listing_id"], []).append(row)
    return found


# --- actions, statements, applications ---------------------------------------------------------------------------


async def find_action(conn: Conn, key: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT action_id, listing_id, kind, actor, request_fingerprint, response FROM listing_actions "
        "WHERE idempotency_key = %s",
        (key,),
    )
    return await cur.fetchone()


async def insert_action(
    conn: Conn,
    *,
    action_id: str,
    listing_id: str,
    kind: str,
    key: str | None,
    actor: str,
    detail: dict[str, Any],
    response: dict[str, Any],
    request_fingerprint: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO listing_actions (action_id, listing_id, kind, idempotency_key, actor, detail, response, "
        "request_fingerprint) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (action_id, listing_id, kind, key, actor, Jsonb(detail), Jsonb(response), request_fingerprint),
    )


async def actions(conn: Conn, listing_id: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT action_id, kind, actor, detail, at FROM listing_actions WHERE listing_id = %s ORDER BY at, action_id",
        (listing_id,),
    )
    return await cur.fetchall()


async def insert_statement(
    conn: Conn, statement_id: str, listing_id: str, text_sealed: bytes, recorded_by: str
) -> None:
    await conn.execute(
        "INSERT INTO statements (statement_id, listing_id, text_sealed, recorded_by) VALUES (%s, %s, %s, %s)",
        (statement_id, listing_id, text_sealed, recorded_by),
    )


async def statements(conn: Conn, listing_id: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT statement_id, text_sealed, recorded_by, received_at FROM statements WHERE listing_id = %s "
        "ORDER BY received_at, statement_id",
        (listing_id,),
    )
    return await cur.fetchall()


async def insert_application(
    conn: Conn,
    *,
    application_id: str,
    listing_id: str,
    status: str,
    pledge_ref: str,
    payment_proof_ref: str,
    refusal_reasons: list[str],
    recorded_by: str,
) -> None:
    await conn.execute(
        "INSERT INTO early_removal_applications (application_id, listing_id, status, pledge_ref, payment_proof_ref, "
        "refusal_reasons, recorded_by) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (application_id, listing_id, status, pledge_ref, payment_proof_ref, Jsonb(refusal_reasons), recorded_by),
    )


async def get_application(conn: Conn, application_id: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT application_id, listing_id, status, pledge_ref, payment_proof_ref, refusal_reasons, recorded_by, "
        "applied_at, decided_by, decision_reason, decided_at FROM early_removal_applications WHERE application_id = %s",
        (application_id,),
    )
    return await cur.fetchone()


async def applications(conn: Conn, listing_id: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT application_id, status, pledge_ref, payment_proof_ref, refusal_reasons, recorded_by, applied_at, "
        "decided_by, decision_reason, decided_at FROM early_removal_applications WHERE listing_id = %s ORDER BY applied_at",
        (listing_id,),
    )
    return await cur.fetchall()


async def decide_application(conn: Conn, application_id: str, status: str, decided_by: str, reason: str) -> None:
    await conn.execute(
        "UPDATE early_removal_applications SET status = %s, decided_by = %s, decision_reason = %s, decided_at = now() "
        "WHERE application_id = %s",
        (status, decided_by, reason, application_id),
    )
