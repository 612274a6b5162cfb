"""The operator's tools for work that does not move, on the real stack: `anxin stuck` lists a deliberately overdue
handoff and the events the consumers set aside, and `anxin redeliver` hands an event set aside back to its
consumer (one named, or every one that set it aside), applied once."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb
from temporalio.service import RPCError

from deploy.stack import Stack
from services.common.settings import CommonSettings
from services.contracts.lifecycle import (
    AcceptanceDecision,
    AcceptanceDecisionKind,
    Queries,
    Updates,
    VerificationOutcome,
    VerificationResult,
    case_workflow_id,
    complaint_workflow_id,
)
from tests.integration.operator_waits import wait_for_verification, wait_started
from tests.integration.test_intake import PROCESSES, complaint
from tests.support.ledger_audit import keyed_client
from tests.support.operator_cli import anxin


async def test_stuck_lists_a_deliberately_overdue_handoff(stack: Stack, agency_token: Callable[[str], str]) -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    from operations.stuck_work import stuck
    from services.common.lifecycle_config import load_lifecycle_config
    from services.contracts.lifecycle import COMPLAINT_WORKFLOW_TYPE, ComplaintInput, TaskQueues

    stack.start_processes(
        [
            *PROCESSES,
            "cases-api",
            "cases-relay",
            "cases-worker",
            "referrals-api",
            "referrals-relay",
            "referrals-worker",
        ],
        timeout=180,
    )
    # A complaint filed the usual way gives the services the case's facts (employer, project, county).
    seed = uuid.uuid4().int % 10**7
    body = complaint(seed, employer_name=f"邯郸市超期交办测试有限公司{seed}")
    filed = httpx.post(
        f"{stack.processes['intake-api'].url}/v1/complaints",
        json=body,
        headers={"Authorization": f"Bearer {agency_token('clerk-130402')}"},
        timeout=30,
    ).json()
    client = await keyed_client(stack)
    await wait_started(client, filed["complaint_id"])
    first = await client.get_workflow_handle(complaint_workflow_id(filed["complaint_id"])).query(Queries.STATUS)

    # A second complaint in the same case, on a compressed clock (one working day = half a second), whose
    # case is handed off to a department that never answers.
    config = load_lifecycle_config(CommonSettings()).model_copy(update={"working_day_seconds": 0.5})
    complaint_id = f"TS-20261128-{uuid.uuid4().hex[:6].upper()}"
    await client.start_workflow(
        COMPLAINT_WORKFLOW_TYPE,
        ComplaintInput(
            complaint_id=complaint_id,
            case_id=first["case_id"],
            county="130402",
            employer_ref=first.get("employer_ref") or f"E-{seed}",
            project_ref=first.get("project_ref") or "P-1",
            complainant_ref="phone_demo",
            received_at=datetime.now(UTC),
            amount_owed=Decimal("50000"),
            workers_affected=20,
            months_owed=3,
            config=config,
        ),
        id=complaint_workflow_id(complaint_id),
        task_queue=TaskQueues.LIFECYCLE,
    )
    handle = client.get_workflow_handle(complaint_workflow_id(complaint_id))
    await handle.execute_update(
        Updates.DECIDE_ACCEPTANCE,
        AcceptanceDecision(decision=AcceptanceDecisionKind.ACCEPT, decided_by="inspector-130402"),
    )
    case = client.get_workflow_handle(case_workflow_id(first["case_id"]))
    await wait_for_verification(case)
    await case.execute_update(
        Updates.RECORD_VERIFICATION,
        VerificationResult(
            outcome=VerificationOutcome.PROJECT_PAYMENT_DISPUTE, verified_by="inspector-130402", department="housing"
        ),
    )

    deadline = time.monotonic() + 90
    rows: list[dict[str, str]] = []
    while time.monotonic() < deadline:
        rows = await stuck(client)
        if any(r["workflow_id"] == case_workflow_id(first["case_id"]) and "handoff overdue" in r["why"] for r in rows):
            return
        await asyncio.sleep(2)
    raise AssertionError(f"the overdue handoff was not listed: {rows}")


def test_stuck_lists_events_set_aside_by_the_consumers(stack: Stack) -> None:
    from kafka import KafkaProducer

    from deploy.engines import SERVICES
    from operations.stuck_work import dead_letters
    from services.common.kafka import client_options
    from services.contracts.events import EventEnvelope, Topics

    stack.start_processes([*PROCESSES, "cases-worker", "cases-relay"], timeout=180)
    subject = f"TS-20261128-{uuid.uuid4().hex[:6].upper()}"
    # A complaint event without the facts its consumers need: neither the workflow starter nor the case
    # ledger can ever apply it, so each sets it aside, and the complaint moves no further until replayed.
    event = EventEnvelope(
        type="complaint.submitted", subject=subject, producer="intake", payload={"complaint_id": subject}
    )
    producer = KafkaProducer(**client_options(stack.client_settings()))
    producer.send(Topics.INTAKE_COMPLAINTS, key=subject.encode(), value=event.to_bytes()).get(timeout=30)
    producer.close()

    urls = {service: stack.postgres.service_url(service) for service in SERVICES}
    wanted = {"set aside by intake/intake-workflow-starter", "set aside by cases/cases-ledger"}
    found: set[str] = set()
    for _ in range(60):
        whys = [row["why"] for row in dead_letters(urls) if row["workflow_id"] == subject]
        found = {w for w in wanted if any(w in why for why in whys)}
        if found == wanted:
            break
        time.sleep(1)
    assert found == wanted, whys
    assert all(why.startswith("complaint.submitted set aside") for why in whys), whys

    result = anxin(stack, "stuck")
    assert result.returncode == 0, result.stderr
    assert subject in result.stdout and "complaint.submitted set aside" in result.stdout, result.stdout
    assert "anxin redeliver" in result.stdout, result.stdout

    # Redelivered while the cause is not fixed: the event comes back and is set aside again. Only the
    # consumer named gets it; the cases schema had never held the event, so it is queued in its outbox. (Every
    # consumer of complaint events running in this stack set it aside, so which ones is read, not assumed.)
    def set_aside_at() -> dict[str, Any]:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{stack.ports.postgres}/anxin", autocommit=True) as conn:
            return {
                f"{service}/{consumer}": failed_at
                for service in SERVICES
                if conn.execute("SELECT to_regclass(%s)", (f"{service}.dead_letters",)).fetchone() != (None,)
                for consumer, failed_at in conn.execute(
                    f"SELECT consumer, failed_at FROM {service}.dead_letters WHERE event_id = %s", (event.event_id,)
                ).fetchall()
            }

    def wait_set_aside_again(since: dict[str, Any], consumers: set[str]) -> dict[str, Any]:
        for _ in range(60):
            now = set_aside_at()
            if all(name in now and now[name] != since[name] for name in consumers):
                return now
            time.sleep(0.5)
        raise AssertionError(f"not set aside again by {consumers}: {since} then {now}")

    before = set_aside_at()
    assert {"intake/intake-workflow-starter", "cases/cases-ledger"} <= before.keys(), before
    one = anxin(stack, "redeliver", "--consumer", "cases/cases-ledger", "--all")
    assert one.returncode == 0 and "1 redelivered" in one.stdout, one
    assert "for cases/cases-ledger" in one.stdout and "intake/" not in one.stdout, one.stdout
    again = wait_set_aside_again(before, {"cases/cases-ledger"})
    assert again["intake/intake-workflow-starter"] == before["intake/intake-workflow-starter"]

    # Every consumer that set it aside gets it back, through its own schema's relay.
    stack.start_processes([f"{name.split('/')[0]}-relay" for name in again], timeout=120)
    again = set_aside_at()
    every = anxin(stack, "redeliver", str(event.event_id))
    redelivered = set(re.findall(r" for (\S+/\S+) \(event ", every.stdout))
    assert every.returncode == 0 and f"{len(redelivered)} redelivered" in every.stdout, every
    assert redelivered == set(again), (redelivered, again)
    wait_set_aside_again(again, redelivered)


async def test_redeliver_hands_an_event_set_aside_back_to_its_consumer_once(
    stack: Stack, agency_token: Callable[[str], str]
) -> None:
    stack.start_processes([*PROCESSES, "cases-worker"], timeout=180)
    # The workflow starter is away while a complaint is filed, and its inbox is then made to say it set the
    # complaint's event aside, as a since-fixed bug in it would have: back, it skips the event as done.
    stack.stop_process("intake-worker")
    response = httpx.post(
        f"{stack.processes['intake-api'].url}/v1/complaints",
        json=complaint(uuid.uuid4().int % 10**7),
        headers={"Authorization": f"Bearer {agency_token('clerk-130402')}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    complaint_id = response.json()["complaint_id"]
    intake_db = stack.postgres.service_url("intake")
    with psycopg.connect(intake_db, options="-c search_path=intake", autocommit=True) as conn:
        for _ in range(60):
            row = conn.execute(
                "SELECT event_id, topic, event_type, envelope, sent_at FROM outbox "
                "WHERE message_key = %s AND event_type = 'complaint.submitted'",
                (complaint_id,),
            ).fetchone()
            if row is not None and row[4] is not None:
                break
            await asyncio.sleep(0.5)
        assert row is not None and row[4] is not None, "the relay never published the complaint"
        event_id, topic, event_type, envelope, _ = row
        with conn.transaction():
            conn.execute(
                'INSERT INTO inbox (consumer, event_id, topic, partition, "offset") VALUES (%s, %s, %s, 0, 0)',
                ("intake-workflow-starter", event_id, topic),
            )
            conn.execute(
                'INSERT INTO dead_letters (consumer, event_id, topic, partition, "offset", event_type, '
                "error, envelope) VALUES (%s, %s, %s, 0, 0, %s, %s, %s)",
                ("intake-workflow-starter", event_id, topic, event_type, "KeyError: 'amount_owed'", Jsonb(envelope)),
            )
    stack.restart_process("intake-worker")

    for _ in range(60):
        if _consumer_count(stack, "intake-worker", "duplicates", "intake-workflow-starter") >= 1:
            break
        await asyncio.sleep(0.5)
    else:
        raise AssertionError("the restarted worker never read the complaint's event")
    ledger_skipped = _consumer_count(stack, "cases-worker", "duplicates", "cases-ledger")
    client = await keyed_client(stack)
    with pytest.raises(RPCError):  # nothing, not even the concurrent starts, acted on an event set aside
        await client.get_workflow_handle(complaint_workflow_id(complaint_id)).describe()

    refused = anxin(stack, "redeliver", "not-an-event-id")
    assert refused.returncode == 2 and "is not an event id" in refused.stderr, refused

    result = anxin(stack, "redeliver", str(event_id))
    assert result.returncode == 0, result.stderr
    assert f"complaint.submitted for {complaint_id} queued again" in result.stdout, result.stdout
    await wait_started(client, complaint_id)

    with psycopg.connect(intake_db, options="-c search_path=intake", autocommit=True) as conn:
        # The starter records the event in its inbox just after the start it made.
        for _ in range(60):
            started = conn.execute(
                "SELECT count(*) FROM workflow_starts WHERE complaint_id = %s", (complaint_id,)
            ).fetchone()
            if started == (1,):
                break
            await asyncio.sleep(0.5)
        assert started == (1,)
        assert conn.execute("SELECT count(*) FROM dead_letters WHERE event_id = %s", (event_id,)).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM outbox WHERE event_id = %s", (event_id,)).fetchone() == (1,)
        audit = conn.execute(
            "SELECT actor, role, detail FROM audit_log WHERE action = 'dead_letter.redelivered' AND subject = %s",
            (complaint_id,),
        ).fetchall()
    # Applied once by the consumer that had set it aside; skipped by the case ledger, which had applied it.
    assert _consumer_count(stack, "intake-worker", "applied", "intake-workflow-starter") == 1
    for _ in range(60):
        if _consumer_count(stack, "cases-worker", "duplicates", "cases-ledger") > ledger_skipped:
            break
        await asyncio.sleep(0.5)
    else:
        raise AssertionError("the case ledger never saw the redelivered event")
    assert len(audit) == 1 and audit[0][0].startswith("operator:") and audit[0][1] == "operator", audit
    assert audit[0][2]["consumer"] == "intake-workflow-starter" and audit[0][2]["event_id"] == str(event_id)
    assert audit[0][2]["database_user"] == "postgres"

    again = anxin(stack, "redeliver", str(event_id))
    assert again.returncode == 1 and "nothing set aside matches" in again.stdout, again


def _consumer_count(stack: Stack, process: str, count: str, group: str) -> float:
    """A consumer group's `anxin_consumer_<count>_total` from its worker's /metrics (0 before its first)."""
    metrics = httpx.get(f"{stack.processes[process].url}/metrics").text
    found = re.search(rf'anxin_consumer_{count}_total\{{group="{group}"\}} (\S+)', metrics)
    return float(found.group(1)) if found else 0.0
