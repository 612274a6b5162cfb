"""What the operator commands do: a complaint's or case's whole story, what is stuck, replays, and the
redelivery of events set aside.

Kept apart from the command-line wiring (`cli.py`) so tests can call it directly.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from kafka import KafkaConsumer
from psycopg import sql
from psycopg.types.json import Jsonb
from temporalio.api.enums.v1 import EventType, PendingWorkflowTaskState
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.worker import Replayer

from services.common import audit
from services.common.auth import Principal, Role
from services.common.kafka import client_options
from services.common.settings import CommonSettings
from services.contracts.events import Topics
from services.contracts.lifecycle import (
    SA_NEXT_DEADLINE,
    SA_STAGE,
    Queries,
    case_workflow_id,
    complaint_workflow_id,
)


@dataclass
class StoryLine:
    at: datetime
    source: str  # "workflow", "event", "timeline", "complaint <number>" (a case's complaint, from its workflow)
    text: str


@dataclass
class Story:
    subject: str
    workflow_id: str
    status: str
    lines: list[StoryLine] = field(default_factory=list)
    waiting_for: list[str] = field(default_factory=list)
    deadlines: list[tuple[str, str, str]] = field(default_factory=list)  # name, due, outcome
    summary: dict[str, Any] = field(default_factory=dict)


def workflow_id_for(subject: str) -> str:
    if subject.startswith(("complaint:", "case:", "listing:")):
        return subject
    return case_workflow_id(subject) if subject.startswith("C-") else complaint_workflow_id(subject)


WORKFLOW_TASK_STATES = {
    PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED: "scheduled",
    PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED: "started",
}


def _event_text(event: Any) -> str | None:
    kind = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
    if event.HasField("activity_task_scheduled_event_attributes"):
        return f"activity scheduled: {event.activity_task_scheduled_event_attributes.activity_type.name}"
    if event.HasField("activity_task_completed_event_attributes"):
        return "activity completed"
    if event.HasField("activity_task_failed_event_attributes"):
        failure = event.activity_task_failed_event_attributes.failure
        return f"activity failed: {failure.message or 'encoded failure'}"
    if event.HasField("timer_started_event_attributes"):
        attrs = event.timer_started_event_attributes
        return f"timer started ({attrs.start_to_fire_timeout.ToTimedelta()})"
    if event.HasField("timer_fired_event_attributes"):
        return "timer fired"
    if event.HasField("workflow_execution_update_accepted_event_attributes"):
        name = event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        return f"update accepted: {name}"
    if event.HasField("workflow_execution_update_rejected_event_attributes"):
        return "update rejected"
    if event.HasField("workflow_execution_signaled_event_attributes"):
        return f"signal: {event.workflow_execution_signaled_event_attributes.signal_name}"
    if kind in (
        "WORKFLOW_EXECUTION_STARTED",
        "WORKFLOW_EXECUTION_COMPLETED",
        "WORKFLOW_EXECUTION_FAILED",
        "WORKFLOW_EXECUTION_CONTINUED_AS_NEW",
        "WORKFLOW_EXECUTION_TERMINATED",
        "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES",
        "START_CHILD_WORKFLOW_EXECUTION_INITIATED",
        "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED",
    ):
        return kind.lower().replace("_", " ")
    return None  # task scheduling noise


async def tell_story(client: Client, settings: CommonSettings, subject: str, *, kafka: bool = True) -> Story:
    workflow_id = workflow_id_for(subject)
    handle = client.get_workflow_handle(workflow_id)
    description = await handle.describe()
    story = Story(
        subject=subject, workflow_id=workflow_id, status=description.status.name if description.status else "UNKNOWN"
    )
    async for event in handle.fetch_history_events():
        text = _event_text(event)
        if text:
            story.lines.append(StoryLine(event.event_time.ToDatetime(tzinfo=UTC), "workflow", text))
    raw = description.raw_description
    for activity in raw.pending_activities:
        last = activity.last_failure.message if activity.HasField("last_failure") else ""
        story.waiting_for.append(
            f"activity {activity.activity_type.name} (attempt {activity.attempt}){': ' + last if last else ''}"
        )
    if raw.HasField("pending_workflow_task"):
        # Nothing of the workflow's own state exists until a worker has run this task: a stopped or
        # overloaded lifecycle worker shows up here first.
        task = raw.pending_workflow_task
        story.waiting_for.append(
            f"workflow task {WORKFLOW_TASK_STATES.get(task.state, 'scheduled')} "
            f"(attempt {task.attempt}): a lifecycle worker must run it"
        )
    view: dict[str, Any] = {}
    if description.status == WorkflowExecutionStatus.RUNNING:
        try:
            status = await handle.query(Queries.STATUS)
            view = status if isinstance(status, dict) else json.loads(json.dumps(status, default=str))
        except RPCError:
            view = {}
        for entry in view.get("timeline", []):
            story.lines.append(StoryLine(datetime.fromisoformat(str(entry["at"])), "timeline", entry["text"]))
        for name, deadline in (view.get("deadlines") or {}).items():
            story.deadlines.append((name, str(deadline.get("due_at")), str(deadline.get("outcome"))))
            if deadline.get("outcome") == "pending":
                story.waiting_for.append(f"deadline {name} due {deadline.get('due_at')}")
        story.summary = {
            k: view.get(k) for k in ("stage", "status", "overdue", "case_stage", "closure_reason") if k in view
        }
    members = [str(m) for m in view.get("members") or []] if workflow_id.startswith("case:") else []
    for complaint_id in members:
        story.lines.extend(await _complaint_lines(client, complaint_id))
    if kafka:
        story.lines.extend(events_for(settings, {subject, workflow_id.split(":", 1)[1], *members}))
    story.lines.sort(key=lambda line: line.at)
    return story


async def _complaint_lines(client: Client, complaint_id: str) -> list[StoryLine]:
    """A case's complaint as its own workflow tells it: received, accepted, joined (the case's progress,
    which the complaint's timeline mirrors, is left out: the case tells it already)."""
    try:
        view = await client.get_workflow_handle(complaint_workflow_id(complaint_id)).query(Queries.STATUS)
    except RPCError:
        return [StoryLine(datetime.now(UTC), "complaint", f"{complaint_id}: its workflow does not answer")]
    view = view if isinstance(view, dict) else json.loads(json.dumps(view, default=str))
    return [
        StoryLine(datetime.fromisoformat(str(entry["at"])), f"complaint {complaint_id}", entry["text"])
        for entry in view.get("timeline", [])
        if not str(entry.get("kind", "")).startswith("case.")
    ]


def events_for(settings: CommonSettings, keys: set[str], *, timeout_ms: int = 3000) -> Iterable[StoryLine]:
    """Every event on the project's topics keyed by one of `keys` (read from the start of each topic)."""
    consumer = KafkaConsumer(
        *Topics.all(),
        **client_options(settings),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=timeout_ms,
    )
    wanted = {k.encode() for k in keys}
    try:
        for message in consumer:
            if message.key in wanted:
                envelope = json.loads(message.value)
                yield StoryLine(
                    datetime.fromisoformat(envelope["occurred_at"]),
                    "event",
                    f"{envelope['type']} (from {envelope['producer']})",
                )
    finally:
        consumer.close()


async def stuck(client: Client, *, limit: int = 200, ledger_url: str | None = None) -> list[dict[str, str]]:
    """Workflows with a parked step (with the command to retry it), workflows past a deadline (the overdue
    flag) and workflows whose activities keep failing.

    A parked step is read from the ledger (`ledger_url`, the cases service's database) and, for an overdue
    workflow the ledger does not show parked, from the workflow's own `status` query.
    """
    from operations.parked import parked_in_ledger, parked_rows, parked_workflows

    rows: list[dict[str, str]] = []
    overdue: list[tuple[str, str]] = []
    async for execution in client.list_workflows("AnxinOverdue = true AND ExecutionStatus = 'Running'", limit=limit):
        attributes = execution.typed_search_attributes
        stage = attributes.get(SA_STAGE) or "?"
        due = attributes.get(SA_NEXT_DEADLINE)
        why = {
            "handoff": "handoff overdue: the department has not answered; the follow-up ladder is climbing",
            "awaiting_acceptance": "acceptance overdue",
            "service": "order not served in time",
        }.get(stage, f"past a legal deadline at stage {stage}")
        overdue.append((execution.id, why + (f" (next deadline {due:%Y-%m-%d})" if due else "")))
    parked = {}
    if ledger_url is not None:
        try:
            parked = parked_in_ledger(ledger_url)
        except psycopg.Error as exc:
            rows.append({"workflow_id": "cases ledger", "why": f"could not be read: {str(exc)[:200]}"})
    parked.update(await parked_workflows(client, [w for w, _ in overdue if w not in parked]))
    rows += parked_rows(parked)
    rows += [{"workflow_id": w, "why": why} for w, why in overdue if w not in parked]
    async for execution in client.list_workflows("ExecutionStatus = 'Running'", limit=limit):
        description = await client.get_workflow_handle(execution.id).describe()
        for activity in description.raw_description.pending_activities:
            if activity.attempt > 1:
                message = activity.last_failure.message if activity.HasField("last_failure") else "no detail"
                rows.append(
                    {
                        "workflow_id": execution.id,
                        "why": f"{activity.activity_type.name} failing, attempt {activity.attempt}: {message}",
                    }
                )
    return rows


def dead_letters(database_urls: dict[str, str], *, limit: int = 200) -> list[dict[str, str]]:
    """Events each service's consumers set aside (`services/common/inbox.py`): their effect never happened.

    Each is a complaint, case or handoff that moves no further until the cause is fixed and the event is
    redelivered (`redeliver`), so it is listed beside the stuck workflows. A schema that cannot be read is
    listed too: an empty answer must mean nothing is set aside, not that nobody looked.
    """
    rows: list[dict[str, str]] = []
    for service, url in database_urls.items():
        try:
            with psycopg.connect(url, options=f"-c search_path={service}", connect_timeout=5) as conn:
                found = conn.execute(
                    "SELECT consumer, event_type, envelope->>'subject', error, failed_at, event_id FROM dead_letters "
                    "ORDER BY failed_at DESC LIMIT %s",
                    (limit,),
                ).fetchall()
        except psycopg.Error as exc:
            rows.append({"workflow_id": f"{service} dead letters", "why": f"could not be read: {str(exc)[:200]}"})
            continue
        for consumer, event_type, subject, error, failed_at, event_id in found:
            rows.append(
                {
                    "workflow_id": str(subject),
                    "why": f"{event_type} set aside by {service}/{consumer} at {failed_at:%Y-%m-%d %H:%M}: "
                    f"{error.splitlines()[0][:200]} (event {event_id}: `anxin redeliver` it once fixed)",
                }
            )
    return rows


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


async def replay(client: Client, workflows: list[type], *, query: str | None, limit: int) -> list[dict[str, str]]:
    """Replay recorded histories against the current workflow code: the determinism check before a deploy."""
    replayer = Replayer(workflows=workflows, data_converter=client.data_converter)
    results: list[dict[str, str]] = []
    histories = client.list_workflows(query, limit=limit).map_histories()
    async with replayer.workflow_replay_iterator(histories) as replays:
        async for result in replays:
            results.append(
                {
                    "workflow_id": result.history.workflow_id,
                    "result": "ok" if result.replay_failure is None else f"FAILED: {result.replay_failure}",
                }
            )
    return results


def spans_for(data_dir: Path, subject: str) -> list[dict[str, Any]]:
    """All spans of the traces that touched `subject` (a complaint or case id, or a trace id)."""
    spans = []
    for path in sorted((data_dir / "traces").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                spans.append(json.loads(line))
            except ValueError:
                continue
    trace_ids = {
        s["context"]["trace_id"]
        for s in spans
        if subject in (s["context"]["trace_id"], str((s.get("attributes") or {}).get("anxin.subject")))
        or subject in json.dumps(s.get("attributes") or {}, ensure_ascii=False)
    }
    return sorted((s for s in spans if s["context"]["trace_id"] in trace_ids), key=lambda s: s["start_time"])
