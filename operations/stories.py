"""A complaint's or case's whole story, as `anxin case show` tells it: its workflow's history (steps, timers,
updates, signals), the status timeline its workflow keeps, its deadlines, a case's complaints as their own
workflows tell them, the events on Kafka keyed by it, and what it waits for now.

Kept apart from the command-line wiring (`case_cli.py`) and the rendering (`views.py`) so tests can call it
directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer
from temporalio.api.enums.v1 import EventType, PendingWorkflowTaskState
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from services.common.kafka import client_options
from services.common.settings import CommonSettings
from services.contracts.events import Topics
from services.contracts.lifecycle import Queries, case_workflow_id, complaint_workflow_id


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
