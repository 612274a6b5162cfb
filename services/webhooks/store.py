"""The webhooks service's SQL for its API: subscriptions, their secrets and their deliveries (the dispatcher's
own SQL is in `dispatcher.py`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection

from services.common.pagination import Keyset
from services.webhooks.domain import DeliveryStatus, Subscriber

Conn = AsyncConnection[Any]

SUBSCRIPTION_COLUMNS = (
    "subscription_id, owner, role, county, department, url, event_types, description, status, "
    "disabled_reason, created_at, updated_at"
)
DELIVERY_COLUMNS = (
    "delivery_id, subscription_id, event_id, event_type, status, attempts, next_attempt_at, "
    "last_status, last_error, created_at, updated_at, delivered_at"
)

SUBSCRIPTIONS = Keyset("subscriptions", "created_at", "timestamptz", "subscription_id")
DELIVERIES = Keyset("deliveries", "created_at", "timestamptz", "delivery_id")


async def insert_subscription(
    conn: Conn,
    subscription_id: str,
    owner: str,
    subscriber: Subscriber,
    url: str,
    event_types: list[str],
    description: str | None,
    secret: str,
) -> dict[str, Any]:
    cur = await conn.execute(
        f"INSERT INTO subscriptions (subscription_id, owner, role, county, department, url, event_types, description) "
        f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING {SUBSCRIPTION_COLUMNS}",
        (
            subscription_id,
            owner,
            subscriber.role.value,
            subscriber.county,
            subscriber.department,
            url,
            event_types,
            description,
        ),
    )
    row = await cur.fetchone()
    assert row is not None
    await conn.execute(
        "INSERT INTO subscription_secrets (subscription_id, secret) VALUES (%s, %s)", (subscription_id, secret)
    )
    return row


async def get_subscription(conn: Conn, subscription_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE subscription_id = %s"
        + (" FOR UPDATE" if lock else ""),
        (subscription_id,),
    )
    return await cur.fetchone()


async def list_subscriptions(
    conn: Conn, owner: str | None, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The owner's subscriptions (None: everyone's), newest first."""
    clauses, params = (["owner = %s"], [owner]) if owner is not None else ([], [])
    return await SUBSCRIPTIONS.fetch(
        conn,
        SUBSCRIPTION_COLUMNS,
        "subscriptions",
        clauses,
        params,
        limit=limit,
        cursor=cursor,
        id_field="subscription_id",
    )


async def update_subscription(conn: Conn, subscription_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Set the columns in `changes` (names from the API's own model, never from a caller)."""
    assignments = ", ".join(f"{column} = %s" for column in changes)
    cur = await conn.execute(
        f"UPDATE subscriptions SET {assignments}, updated_at = now() WHERE subscription_id = %s "
        f"RETURNING {SUBSCRIPTION_COLUMNS}",
        (*changes.values(), subscription_id),
    )
    row = await cur.fetchone()
    assert row is not None
    return row


async def delete_subscription(conn: Conn, subscription_id: str) -> None:
    await conn.execute("DELETE FROM subscriptions WHERE subscription_id = %s", (subscription_id,))


async def rotate_secret(conn: Conn, subscription_id: str, secret: str, grace: timedelta) -> datetime:
    """A new secret for the subscription; the ones before sign beside it until now + `grace` (sooner if they were
    to end sooner). When the old ones stop signing."""
    cur = await conn.execute(
        "UPDATE subscription_secrets SET expires_at = LEAST(coalesce(expires_at, 'infinity'), now() + %s) "
        "WHERE subscription_id = %s RETURNING expires_at",
        (grace, subscription_id),
    )
    ends = [row["expires_at"] for row in await cur.fetchall()]
    await conn.execute(
        "DELETE FROM subscription_secrets WHERE subscription_id = %s AND expires_at <= now()", (subscription_id,)
    )
    await conn.execute(
        "INSERT INTO subscription_secrets (subscription_id, secret) VALUES (%s, %s)", (subscription_id, secret)
    )
    cur = await conn.execute("SELECT now() + %s AS ends", (grace,))
    row = await cur.fetchone()
    assert row is not None
    return max(ends, default=row["ends"])


async def list_deliveries(
    conn: Conn, subscription_id: str, status: DeliveryStatus | None, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    clauses = ["subscription_id = %s"] + (["status = %s"] if status else [])
    params: list[Any] = [subscription_id] + ([status.value] if status else [])
    return await DELIVERIES.fetch(
        conn, DELIVERY_COLUMNS, "deliveries", clauses, params, limit=limit, cursor=cursor, id_field="delivery_id"
    )


async def replay(conn: Conn, subscription_id: str, delivery_id: str | None) -> list[str]:
    """Send dead letters again from the first attempt: the one named, or every one of the subscription. The ids
    replayed."""
    clause, params = ("AND delivery_id = %s", [delivery_id]) if delivery_id else ("", [])
    cur = await conn.execute(
        "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL, "
        f"updated_at = now() WHERE subscription_id = %s AND status = 'dead' {clause} RETURNING delivery_id",
        (subscription_id, *params),
    )
    return [row["delivery_id"] for row in await cur.fetchall()]


async def get_delivery(conn: Conn, subscription_id: str, delivery_id: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE subscription_id = %s AND delivery_id = %s",
        (subscription_id, delivery_id),
    )
    return await cur.fetchone()
