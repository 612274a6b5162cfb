"""What `anxin stuck` lists: steps parked by a service's refusal (`parked.py`), workflows past a deadline,
activities failing and retrying, and the events each service's consumers set aside (dead letters).

Kept apart from the command-line wiring (`case_cli.py`) so tests can call it directly.
"""

from __future__ import annotations

import psycopg
from temporalio.client import Client

from services.contracts.lifecycle import SA_NEXT_DEADLINE, SA_STAGE


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
