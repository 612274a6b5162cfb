"""The operator's tools on the real stack, on one filed complaint: its story (`anxin case show`, also as JSON),
replay of live histories against the current code, the raw Temporal history holding no personal data in clear,
one trace across processes, and the metrics of the API, the relay and the Temporal SDK."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable

import httpx
import jsonschema_rs
import pytest
from temporalio.client import Client

from deploy.stack import Stack
from operations.json_shapes import SHAPES
from operations.operator import replay, spans_for
from operations.stories import tell_story
from services.common.telemetry import flush_traces
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
from workflows.worker import WORKFLOWS


@pytest.fixture(scope="module")
def filed(stack: Stack, agency_token: Callable[[str], str]) -> tuple[dict[str, str], dict[str, str]]:
    stack.start_processes(PROCESSES, timeout=120)
    body = complaint(uuid.uuid4().int % 10**7)
    response = httpx.post(
        f"{stack.processes['intake-api'].url}/v1/complaints",
        json=body,
        headers={"Authorization": f"Bearer {agency_token('clerk-130402')}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return response.json(), body


async def test_case_show_tells_the_story_and_what_it_waits_for(
    stack: Stack, filed: tuple[dict[str, str], dict[str, str]]
) -> None:
    answer, _ = filed
    client = await keyed_client(stack)
    await wait_started(client, answer["complaint_id"])
    settings = stack.client_settings()
    # Started is not yet settled: until the worker has run the first task there is no deadline, and the
    # story says that it waits for the worker instead.
    for _ in range(60):
        story = await tell_story(client, settings, answer["complaint_id"])
        if any(w.startswith("deadline") for w in story.waiting_for):
            break
        assert any("workflow task" in w for w in story.waiting_for), story.waiting_for
        await asyncio.sleep(0.5)
    texts = [line.text for line in story.lines]
    assert story.status == "RUNNING"
    assert "workflow execution started" in texts
    assert any(t.startswith("complaint.submitted") for t in texts), texts
    assert any(w.startswith("deadline") for w in story.waiting_for), story.waiting_for

    result = anxin(stack, "case", "show", answer["complaint_id"], "--no-events", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    assert "waiting for" in result.stdout and answer["complaint_id"] in result.stdout
    assert "…" not in result.stdout and max(map(len, result.stdout.splitlines())) <= 80, result.stdout

    # The same for scripts: one JSON document, in its documented shape.
    result = anxin(
        stack,
        "case",
        "show",
        answer["complaint_id"],
        "--json",
        env={"KAFKA_BOOTSTRAP_SERVERS": stack.kafka.bootstrap_servers},
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    jsonschema_rs.validate(SHAPES["case show"], document)
    assert document["workflow_id"] == f"complaint:{answer['complaint_id']}" and document["status"] == "RUNNING"
    assert any(line["text"].startswith("complaint.submitted") for line in document["lines"]), document["lines"]
    assert any(w.startswith("deadline") for w in document["waiting_for"]), document["waiting_for"]


async def test_live_histories_replay_against_the_current_code(
    stack: Stack, filed: tuple[dict[str, str], dict[str, str]]
) -> None:
    client = await keyed_client(stack)
    await wait_started(client, filed[0]["complaint_id"])
    results = await replay(client, list(WORKFLOWS), query="WorkflowType = 'ComplaintLifecycle'", limit=20)
    assert results and all(r["result"] == "ok" for r in results), results


async def test_raw_history_and_search_attributes_hold_no_personal_data(
    stack: Stack, filed: tuple[dict[str, str], dict[str, str]]
) -> None:
    answer, body = filed
    keyed = await keyed_client(stack)
    await wait_started(keyed, answer["complaint_id"])
    raw = await Client.connect(stack.temporal.address)  # no codec: the history as stored
    handle = raw.get_workflow_handle(complaint_workflow_id(answer["complaint_id"]))
    history = await handle.fetch_history()
    stored = history.to_json()
    description = await handle.describe()
    attributes = str(description.raw_description.workflow_execution_info.search_attributes)
    for secret in (body["id_number"], body["phone"], body["worker_name"]):
        assert secret not in stored and secret not in attributes
    assert "binary/encrypted" in stored or "YmluYXJ5L2VuY3J5cHRlZA" in stored  # payloads are sealed


async def test_one_trace_runs_from_the_request_through_relay_consumer_workflow_and_another_service(
    stack: Stack, filed: tuple[dict[str, str], dict[str, str]]
) -> None:
    answer, _ = filed
    stack.start_processes(["cases-api"], timeout=120)
    client = await keyed_client(stack)
    await wait_started(client, answer["complaint_id"])
    # The inspector accepts and confirms the arrears: the case workflow (started from the complaint's
    # workflow, in its trace) orders payment through the cases service.
    complaint = client.get_workflow_handle(complaint_workflow_id(answer["complaint_id"]))
    await complaint.execute_update(
        Updates.DECIDE_ACCEPTANCE,
        AcceptanceDecision(decision=AcceptanceDecisionKind.ACCEPT, decided_by="inspector-130402"),
    )
    case_id = (await complaint.query(Queries.STATUS))["case_id"]
    case = client.get_workflow_handle(case_workflow_id(case_id))
    await wait_for_verification(case)
    await case.execute_update(
        Updates.RECORD_VERIFICATION,
        VerificationResult(outcome=VerificationOutcome.WAGE_ARREARS, verified_by="inspector-130402"),
    )

    wanted = {"intake-api", "intake-relay", "intake-worker", "lifecycle-worker", "cases-api"}
    deadline = time.monotonic() + 60
    processes: set[str] = set()
    while time.monotonic() < deadline:
        flush_traces()
        spans = spans_for(stack.data_dir, answer["complaint_id"])
        processes = {s["resource"]["attributes"]["service.name"] for s in spans}
        if wanted <= processes and len({s["context"]["trace_id"] for s in spans}) >= 1:
            break
        await asyncio.sleep(1)
    assert wanted <= processes, processes
    submission_trace = next(
        s["context"]["trace_id"]
        for s in spans
        if s["resource"]["attributes"]["service.name"] == "intake-api" and s["name"].startswith("POST")
    )
    in_trace = {
        s["resource"]["attributes"]["service.name"] for s in spans if s["context"]["trace_id"] == submission_trace
    }
    assert wanted <= in_trace, in_trace


async def test_metrics_of_the_api_relay_and_temporal_sdk(
    stack: Stack, filed: tuple[dict[str, str], dict[str, str]]
) -> None:
    client = await keyed_client(stack)
    await wait_started(client, filed[0]["complaint_id"])
    api = httpx.get(f"{stack.processes['intake-api'].url}/metrics").text
    assert 'anxin_http_requests_total{method="POST",process="intake-api",route="/v1/complaints",status="201"}' in api
    relay = httpx.get(f"{stack.processes['intake-relay'].url}/metrics").text
    assert "anxin_outbox_pending" in relay and "anxin_outbox_oldest_unsent_seconds" in relay
    sdk = httpx.get(f"http://127.0.0.1:{stack.ports.lifecycle_worker + 1000}/metrics").text
    assert "temporal_workflow_task_execution_latency" in sdk or "temporal_activity_execution_latency" in sdk, sdk[:500]
