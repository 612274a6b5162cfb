"""What `anxin redeliver` does (`redeliver_cli.py`): events a consumer set aside handed back to it, once the
cause is fixed, through its service's outbox, in one transaction per service's schema, each in the service's
audit trail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from services.common import audit
from services.common.auth import Principal, Role

# Hands set-aside events back to their consumers: in the consumer's own schema and one transaction, the dead
# letter and the consumer's inbox row go, and the envelope is queued in that schema's outbox for its relay to
# publish again (a row already there, when the service produced the event itself, is only marked unsent).
# Every consumer that applied the event before finds its id in its inbox and skips it; only the consumers
# that had set it aside apply it now. This rests on inbox rows never being purged.
_REDELIVER = {
    "take_letters": "DELETE FROM {schema}.dead_letters WHERE (%s::uuid[] IS NULL OR event_id = ANY(%s)) "
    "AND (%s::text IS NULL OR consumer = %s) "
    "RETURNING consumer, event_id, topic, event_type, envelope, error",
    "forget_in_inbox": "DELETE FROM {schema}.inbox WHERE consumer = %s AND event_id = %s",
    "queue_in_outbox": "INSERT INTO {schema}.outbox (event_id, topic, message_key, event_type, envelope) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (event_id) DO UPDATE SET sent_at = NULL",
}


@dataclass
class Redelivery:
    service: str
    consumer: str | None = None
    event_id: str | None = None
    subject: str | None = None
    event_type: str | None = None
    topic: str | None = None
    error: str | None = None  # the schema could not be read or written: nothing of it was redelivered


async def redeliver(
    database_urls: dict[str, str],
    *,
    operator: str,
    event_ids: list[str] | None = None,
    consumer: str | None = None,
) -> list[Redelivery]:
    """Redeliver events set aside, once their cause is fixed and deployed (`docs/operations.md`).

    Which: the events `event_ids` (every consumer that set them aside), or with `consumer` ("service/name")
    only that consumer's, and with `consumer` alone every event that consumer set aside. One `Redelivery` per
    consumer and event, plus one with `error` for a schema that failed (the others still go ahead: each schema
    is its own transaction). Each redelivery is in the service's audit trail under `operator`. A consumer that
    still cannot apply an event sets it aside again.
    """
    if not event_ids and not consumer:
        raise ValueError("name the events, or the consumer whose events to redeliver")
    events = [_event_id(event_id) for event_id in event_ids] if event_ids else None
    only_service, _, only_consumer = consumer.partition("/") if consumer else (None, "", None)
    done: list[Redelivery] = []
    for service, url in database_urls.items():
        if only_service is not None and service != only_service:
            continue
        try:
            done += await _redeliver_in(service, url, events, only_consumer or None, operator)
        except psycopg.Error as exc:
            done.append(Redelivery(service=service, error=f"{type(exc).__name__}: {str(exc).strip()[:300]}"))
    return done


def _event_id(text: str) -> uuid.UUID:
    """Canonical, and a clear error for a mistyped id before any database is touched."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an event id (a UUID, as `anxin stuck` prints it)") from None


async def _redeliver_in(
    service: str,
    url: str,
    events: list[uuid.UUID] | None,
    consumer: str | None,
    operator: str,
) -> list[Redelivery]:
    done: list[Redelivery] = []
    statement = {name: sql.SQL(text).format(schema=sql.Identifier(service)) for name, text in _REDELIVER.items()}
    principal = Principal(client_id=operator, role=Role.operator)
    async with (
        await psycopg.AsyncConnection.connect(url, options=f"-c search_path={service}", connect_timeout=5) as conn,
        conn.transaction(),
    ):
        # Schema-qualified: a schema the role may not use is an error here, not an empty answer.
        found = await (
            await conn.execute("SELECT to_regclass(%s), session_user", (f"{service}.dead_letters",))
        ).fetchone()
        assert found is not None
        table, database_user = found
        if table is None:
            return done  # a service not deployed (or not migrated) yet has set nothing aside
        letters = await (await conn.execute(statement["take_letters"], (events, events, consumer, consumer))).fetchall()
        queued: set[uuid.UUID] = set()
        for name, event_id, topic, event_type, envelope, error in letters:
            await conn.execute(statement["forget_in_inbox"], (name, event_id))
            if event_id not in queued:
                await conn.execute(
                    statement["queue_in_outbox"], (event_id, topic, envelope["subject"], event_type, Jsonb(envelope))
                )
                queued.add(event_id)
            await audit.record(
                conn,
                principal,
                "dead_letter.redelivered",
                envelope["subject"],
                detail={
                    "event_id": str(event_id),
                    "event_type": event_type,
                    "consumer": name,
                    "error": error[:500],
                    "database_user": database_user,
                },
            )
            done.append(
                Redelivery(
                    service=service,
                    consumer=name,
                    event_id=str(event_id),
                    subject=envelope["subject"],
                    event_type=event_type,
                    topic=topic,
                )
            )
    return done
