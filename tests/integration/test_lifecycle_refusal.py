"""The main refusal path on the real dev server, the real workers and every real service, on a compressed
clock: twelve workers owed above the province's threshold, an order served by posting, its deadline passed
unpaid — additional compensation, a criminal referral, the blacklist procedure and marking for publication
follow; the police open a case and the workflow records it."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import httpx
from temporalio.client import Client
from temporalio.service import RPCError

from deploy.stack import Stack
from services.common.lifecycle_config import load_lifecycle_config
from services.common.settings import CommonSettings
from services.common.temporal import connect
from services.contracts.lifecycle import (
    COMPLAINT_WORKFLOW_TYPE,
    AcceptanceDecision,
    AcceptanceDecisionKind,
    ComplaintInput,
    Evidence,
    EvidenceKind,
    PoliceDecision,
    PoliceDecisionRecord,
    Queries,
    ServiceMethod,
    ServiceRecord,
    TaskQueues,
    Updates,
    VerificationOutcome,
    VerificationResult,
    case_workflow_id,
    complaint_workflow_id,
)
from tests.integration.test_intake import complaint
from tests.support.referral_approval import approve_referral

PROCESSES = [
    f"{s}-{kind}" for s in ("intake", "cases", "referrals", "sanctions") for kind in ("api", "relay", "worker")
]


async def _client(stack: Stack) -> Client:
    env = json.loads((stack.data_dir / "development-secrets.json").read_text())
    return await connect(
        stack.client_settings(
            ANXIN_PAYLOAD_KEYS=env["ANXIN_PAYLOAD_KEYS"], ANXIN_PAYLOAD_KEY_ID=env["ANXIN_PAYLOAD_KEY_ID"]
        )
    )


async def _status(client: Client, workflow_id: str) -> dict:
    for _ in range(120):
        try:
            return dict(await client.get_workflow_handle(workflow_id).query(Queries.STATUS))
        except RPCError:
            await asyncio.sleep(0.5)
    raise AssertionError(f"{workflow_id} never answered")


async def _until(client: Client, workflow_id: str, check: Callable[[dict], bool], timeout: float, what: str) -> dict:
    deadline = time.monotonic() + timeout
    status: dict = {}
    while time.monotonic() < deadline:
        status = await _status(client, workflow_id)
        if check(status):
            return status
        await asyncio.sleep(1)
    raise AssertionError(
        f"{what} did not happen: stage {status.get('stage')}, timeline "
        f"{[e['text'] for e in status.get('timeline', [])][-6:]}"
    )


async def compressed_case(
    stack: Stack, agency_token: Callable[[str], str], employer: str, tag: str
) -> tuple[Client, str, str]:
    """A case opened the usual way (filed through intake, so every service learns its facts from the event
    stream), then joined by a second complaint on a compressed clock — one legal working day lasts 0.3 s, the
    7-day order 2 s — and accepted: (client, case id, that complaint's id), the case waiting for its verification."""
    stack.start_processes([*PROCESSES, "lifecycle-worker"], timeout=240)
    seed = uuid.uuid4().int % 10**7
    body = complaint(seed, employer_name=f"{employer}{seed}", workers_affected=12, amount_owed="96000")
    filed = httpx.post(
        f"{stack.processes['intake-api'].url}/v1/complaints",
        json=body,
        headers={"Authorization": f"Bearer {agency_token('clerk-130402')}"},
        timeout=30,
    ).json()
    client = await _client(stack)
    first = await _status(client, complaint_workflow_id(filed["complaint_id"]))
    config = load_lifecycle_config(CommonSettings()).model_copy(update={"working_day_seconds": 0.3})
    complaint_id = f"TS-20261128-{uuid.uuid4().hex[:6].upper()}"
    await client.start_workflow(
        COMPLAINT_WORKFLOW_TYPE,
        ComplaintInput(
            complaint_id=complaint_id,
            case_id=first["case_id"],
            county="130402",
            employer_ref=f"E-{tag}{seed}",
            project_ref=f"P-{tag}{seed}",
            complainant_ref=f"phone_{tag}test",
            received_at=datetime.now(UTC),
            amount_owed=Decimal("96000"),
            workers_affected=12,
            months_owed=4,
            config=config,
        ),
        id=complaint_workflow_id(complaint_id),
        task_queue=TaskQueues.LIFECYCLE,
    )
    await client.get_workflow_handle(complaint_workflow_id(complaint_id)).execute_update(
        Updates.DECIDE_ACCEPTANCE,
        AcceptanceDecision(decision=AcceptanceDecisionKind.ACCEPT, decided_by="inspector-130402"),
    )
    await _until(
        client, case_workflow_id(first["case_id"]), lambda s: s["stage"] == "verification", 60, "the case opening"
    )
    return client, first["case_id"], complaint_id


async def test_refusal_above_the_threshold_ends_in_referral_and_blacklist(
    stack: Stack, agency_token: Callable[[str], str]
) -> None:
    await walk_the_refusal_path(stack, agency_token)


async def walk_the_refusal_path(stack: Stack, agency_token: Callable[[str], str]) -> None:
    """Filed, verified above the threshold, served, left unpaid: compensation, referral, blacklist, publication,
    and the police's decision recorded (also walked on the cluster profile, test_cluster_profile.py)."""
    client, plain_case_id, _ = await compressed_case(stack, agency_token, "邯郸市拒不支付测试建筑有限公司", "R")
    case_id = case_workflow_id(plain_case_id)
    case = client.get_workflow_handle(case_id)
    await case.execute_update(
        Updates.RECORD_VERIFICATION,
        VerificationResult(
            outcome=VerificationOutcome.WAGE_ARREARS,
            verified_by="inspector-130402",
            confirmed_amount=Decimal("96000"),
            confirmed_workers=12,
        ),
    )
    await _until(client, case_id, lambda s: s["stage"] == "service" and s["order_id"], 60, "the order to pay")
    await case.execute_update(
        Updates.RECORD_SERVICE,
        ServiceRecord(
            method=ServiceMethod.POSTING,
            served_by="inspector-130402",
            evidence=[Evidence(kind=EvidenceKind.PHOTO, ref="p")],
        ),
    )

    await _until(
        client,
        case_id,
        lambda s: s["compensation_decision_id"] and s["blacklist_procedure_id"] and s["publication_id"],
        180,
        "the escalation after refusal",
    )
    await approve_referral(case)
    status = await _until(client, case_id, lambda s: "police" in s["referrals"], 60, "the approved police referral")
    assert status["stage"] == "refusal"
    assert status["threshold"]["reached"] is True and status["threshold"]["workers"] == 12

    await case.execute_update(
        Updates.RECORD_POLICE_DECISION,
        PoliceDecisionRecord(decision=PoliceDecision.CASE_OPENED, police_ref="邯公立〔2026〕1号", recorded_by="police"),
    )
    status = await _status(client, case_id)
    assert status["police_decision"] == "case_opened"
