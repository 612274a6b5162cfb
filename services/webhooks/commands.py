"""The subscriptions' commands: subscribe, read, change, delete, rotate the secret, list and replay deliveries.

A subscription is its owner's: another agency's is answered as one that does not exist (the operators see and
manage every one). What it may subscribe to follows the owner's scope (`domain.may_subscribe`). Each change is
an audit row (`services.common.audit`) in the transaction that makes it; secrets are never in one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.common import audit
from services.common.auth import Principal, Role
from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.contracts.catalog import events
from services.contracts.events import EventPayload
from services.webhooks import store
from services.webhooks.domain import (
    SUBSCRIBER_ROLES,
    DeliveryStatus,
    Subscriber,
    check_url,
    may_subscribe,
    new_secret,
)
from services.webhooks.settings import WebhooksSettings


def new_subscription_id() -> str:
    return f"sub_{uuid.uuid4().hex}"


def view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "subscription_id": row["subscription_id"],
        "url": row["url"],
        "event_types": list(row["event_types"]),
        "description": row["description"],
        "status": row["status"],
        "disabled_reason": row["disabled_reason"],
        "scope": {"role": row["role"], "county": row["county"], "department": row["department"]},
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


def delivery_view(row: Mapping[str, Any]) -> dict[str, Any]:
    def when(name: str) -> str | None:
        return row[name].isoformat() if row[name] is not None else None

    return {
        "delivery_id": row["delivery_id"],
        "event_id": str(row["event_id"]),
        "event_type": row["event_type"],
        "status": row["status"],
        "attempts": row["attempts"],
        "next_attempt_at": when("next_attempt_at") if row["status"] == DeliveryStatus.PENDING else None,
        "last_status": row["last_status"],
        "last_error": row["last_error"],
        "created_at": when("created_at"),
        "delivered_at": when("delivered_at"),
    }


def _event_classes() -> dict[str, list[type[EventPayload]]]:
    by_type: dict[str, list[type[EventPayload]]] = {}
    for cls in events():
        by_type.setdefault(cls.TYPE, []).append(cls)
    return by_type


def check_event_types(subscriber: Subscriber, event_types: list[str]) -> list[str]:
    """The event types asked for, each known and in the subscriber's scope; `Invalid` naming the others."""
    known = _event_classes()
    errors = []
    for index, event_type in enumerate(event_types):
        classes = known.get(event_type)
        if classes is None:
            errors.append(
                {
                    "field": f"event_types[{index}]",
                    "code": "unknown",
                    "message": f"no event type {event_type} (see docs/events)",
                }
            )
        elif not any(may_subscribe(subscriber, cls) for cls in classes):
            errors.append(
                {
                    "field": f"event_types[{index}]",
                    "code": "out_of_scope",
                    "message": f"events {event_type} are never in the scope of role {subscriber.role.value}",
                }
            )
    if not event_types:
        errors.append({"field": "event_types", "code": "empty", "message": "name at least one event type"})
    if errors:
        raise Invalid("The subscription is not valid", "; ".join(e["message"] for e in errors), errors=errors)
    return sorted(set(event_types))


class Subscriptions:
    def __init__(self, pool: AsyncConnectionPool, settings: WebhooksSettings) -> None:
        self.pool = pool
        self.settings = settings

    def _url(self, url: str) -> str:
        return check_url(url, allow_http_loopback=self.settings.allow_http_loopback)

    async def _own(
        self, conn: Any, principal: Principal, subscription_id: str, *, lock: bool = False
    ) -> dict[str, Any]:
        row = await store.get_subscription(conn, subscription_id, lock=lock)
        if row is None or not (principal.role is Role.operator or row["owner"] == principal.client_id):
            raise NotFound("No such subscription", f"subscription {subscription_id} is not one of yours")
        return row

    async def subscribe(
        self, principal: Principal, url: str, event_types: list[str], description: str | None
    ) -> dict[str, Any]:
        """The new subscription, with its secret (shown this once)."""
        if principal.role not in SUBSCRIBER_ROLES:
            raise Forbidden(f"the role {principal.role.value} receives no webhooks")
        subscriber = Subscriber.of(principal)
        types = check_event_types(subscriber, event_types)
        secret = new_secret()
        async with self.pool.connection() as conn, conn.transaction():
            row = await store.insert_subscription(
                conn, new_subscription_id(), principal.client_id, subscriber, self._url(url), types, description, secret
            )
            await audit.record(
                conn,
                principal,
                "subscription.created",
                row["subscription_id"],
                detail={"url": row["url"], "event_types": types},
            )
        return {**view(row), "secret": secret}

    async def list(self, principal: Principal, *, limit: int, cursor: str | None) -> dict[str, Any]:
        owner = None if principal.role is Role.operator else principal.client_id
        async with self.pool.connection() as conn:
            rows, next_cursor = await store.list_subscriptions(conn, owner, limit=limit, cursor=cursor)
        return {"items": [view(row) for row in rows], "next_cursor": next_cursor}

    async def read(self, principal: Principal, subscription_id: str) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            return view(await self._own(conn, principal, subscription_id))

    async def change(self, principal: Principal, subscription_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change the URL, the event types, the description or the status (`active` again after a 410 or a pause;
        `disabled`)."""
        async with self.pool.connection() as conn, conn.transaction():
            row = await self._own(conn, principal, subscription_id, lock=True)
            columns: dict[str, Any] = {}
            if changes.get("url") is not None:
                columns["url"] = self._url(changes["url"])
            if changes.get("event_types") is not None:
                scope = Subscriber(Role(row["role"]), row["county"], row["department"])
                columns["event_types"] = check_event_types(scope, list(changes["event_types"]))
            if "description" in changes:
                columns["description"] = changes["description"]
            if changes.get("status") is not None:
                columns["status"] = changes["status"]
                columns["disabled_reason"] = None if changes["status"] == "active" else "disabled by its owner"
            if not columns:
                return view(row)
            await audit.record(
                conn,
                principal,
                "subscription.changed",
                subscription_id,
                fields=sorted(columns),
                detail={k: v for k, v in columns.items() if k in ("url", "event_types", "status")},
            )
            return view(await store.update_subscription(conn, subscription_id, columns))

    async def delete(self, principal: Principal, subscription_id: str) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await self._own(conn, principal, subscription_id, lock=True)
            await store.delete_subscription(conn, subscription_id)
            await audit.record(conn, principal, "subscription.deleted", subscription_id)

    async def rotate_secret(self, principal: Principal, subscription_id: str) -> dict[str, Any]:
        """A new secret; the one before keeps signing beside it for the grace period."""
        secret = new_secret()
        grace = timedelta(seconds=self.settings.secret_grace_seconds)
        async with self.pool.connection() as conn, conn.transaction():
            await self._own(conn, principal, subscription_id, lock=True)
            ends = await store.rotate_secret(conn, subscription_id, secret, grace)
            await audit.record(
                conn,
                principal,
                "subscription.secret_rotated",
                subscription_id,
                detail={"previous_secret_expires_at": ends.isoformat()},
            )
        return {"subscription_id": subscription_id, "secret": secret, "previous_secret_expires_at": ends.isoformat()}

    async def deliveries(
        self,
        principal: Principal,
        subscription_id: str,
        status: DeliveryStatus | None,
        *,
        limit: int,
        cursor: str | None,
    ) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            await self._own(conn, principal, subscription_id)
            rows, next_cursor = await store.list_deliveries(conn, subscription_id, status, limit=limit, cursor=cursor)
        return {"items": [delivery_view(row) for row in rows], "next_cursor": next_cursor}

    async def replay(self, principal: Principal, subscription_id: str, delivery_id: str | None) -> dict[str, Any]:
        """Send a dead letter (or every one of the subscription) again from its first attempt."""
        async with self.pool.connection() as conn, conn.transaction():
            await self._own(conn, principal, subscription_id)
            if delivery_id is not None:
                row = await store.get_delivery(conn, subscription_id, delivery_id)
                if row is None:
                    raise NotFound("No such delivery", f"delivery {delivery_id} is not one of this subscription's")
                if row["status"] != DeliveryStatus.DEAD:
                    raise Conflict(
                        "Not a dead letter",
                        f"delivery {delivery_id} is {row['status']}; only a dead letter is replayed",
                        code="not-dead-letter",
                    )
            replayed = await store.replay(conn, subscription_id, delivery_id)
            await audit.record(
                conn, principal, "subscription.replayed", subscription_id, detail={"deliveries": replayed}
            )
        return {"replayed": replayed}
