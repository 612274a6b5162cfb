"""What the demo does as a clerk and an inspector would, on a running stack: file a complaint through the intake
API, decide its acceptance, record an inspector's action on a case as a Temporal Update (what the cases service
does on their behalf, with the same validation), tried again while it is refused for now, and read a workflow's
status, timeline, threshold and letters while waiting for its next step.

The paths walked with these steps are in `deploy/demo_paths.py`; `make faults` (bench/faults.py) takes the same
steps while a component is killed.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from temporalio.client import Client

from services.contracts.lifecycle import (
    AcceptanceDecision,
    AcceptanceDecisionKind,
    Evidence,
    EvidenceKind,
    LetterKind,
    Queries,
    ServiceMethod,
    ServiceRecord,
    Updates,
    VerificationOutcome,
    VerificationResult,
    case_workflow_id,
    complaint_workflow_id,
)

# The intake API of the running stack (ANXIN_INTAKE_URL for a stack on other ports).
INTAKE = os.environ.get("ANXIN_INTAKE_URL", "http://127.0.0.1:8001")


def say(scenario: str, text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {scenario:<22} {text}", flush=True)


class DemoSteps:
    """A clerk's and an inspector's steps on the running stack's intake API and workflows."""

    def __init__(self, client: Client, http: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.http = http
        self.token = token
        # Every workflow the demo started, checked at the end for a parked step.
        self.workflow_ids: list[str] = []

    async def file(self, scenario: str, body: dict[str, Any]) -> str:
        response = await self.http.post(
            f"{INTAKE}/v1/complaints", json=body, headers={"Authorization": f"Bearer {self.token}"}
        )
        response.raise_for_status()
        complaint_id = str(response.json()["complaint_id"])
        self.workflow_ids.append(complaint_workflow_id(complaint_id))
        say(scenario, f"filed {complaint_id} ({body['workers_affected']} workers, ¥{body['amount_owed']})")
        return complaint_id

    async def status(self, workflow_id: str) -> dict[str, Any]:
        result = await self.client.get_workflow_handle(workflow_id).query(Queries.STATUS)
        return dict(result)

    async def parked_steps(self) -> dict[str, dict[str, Any]]:
        """The demo's workflows whose `status` shows a step parked by a service's refusal."""
        found: dict[str, dict[str, Any]] = {}
        for workflow_id in sorted(set(self.workflow_ids)):
            try:
                parked = (await self.status(workflow_id)).get("parked")
            except Exception as exc:  # a workflow that does not answer is reported as such
                print(f"{workflow_id}: status not answered: {exc}", file=sys.stderr)
                continue
            if parked:
                found[workflow_id] = parked
        return found

    async def wait_for(self, scenario: str, what: str, check: Callable[[], Awaitable[bool]], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if await check():
                    say(scenario, what)
                    return
            except Exception:  # the workflow may not be started yet
                pass
            await asyncio.sleep(1)
        raise TimeoutError(f"{scenario}: gave up waiting for {what}")

    async def decide(self, scenario: str, complaint_id: str, decision: AcceptanceDecision) -> str:
        """The inspector's acceptance decision, once the complaint's workflow runs; its workflow id."""
        workflow_id = complaint_workflow_id(complaint_id)

        async def started() -> bool:
            return bool(await self.status(workflow_id))

        await self.wait_for(scenario, "workflow running, awaiting acceptance", started, 120)
        update_id = f"demo-accept-{uuid.uuid4().hex}"
        await self.retrying(
            scenario,
            Updates.DECIDE_ACCEPTANCE,
            lambda: self.client.get_workflow_handle(workflow_id).execute_update(
                Updates.DECIDE_ACCEPTANCE, decision, id=update_id
            ),
        )
        return workflow_id

    async def accept(self, scenario: str, complaint_id: str) -> str:
        workflow_id = await self.decide(
            scenario,
            complaint_id,
            AcceptanceDecision(decision=AcceptanceDecisionKind.ACCEPT, decided_by="inspector-130402"),
        )
        case_id = str((await self.retrying(scenario, "status", lambda: self.status(workflow_id)))["case_id"])
        self.workflow_ids.append(case_workflow_id(case_id))
        say(scenario, f"accepted; joined case {case_id}")
        return case_id

    async def update_case(self, case_id: str, update: str, arg: Any) -> dict[str, Any]:
        # An inspector acting a moment too early (the workflow is still recording the previous step) is
        # refused with a reason; like a person, the demo tries again shortly. Every try carries the same
        # update id, as the cases API's actions do: when an answer is lost (Temporal restarting), the retry
        # gets the first outcome instead of being refused for a step already taken.
        update_id = f"demo-{update}-{uuid.uuid4().hex}"
        result = await self.retrying(
            case_id,
            update,
            lambda: self.client.get_workflow_handle(case_workflow_id(case_id)).execute_update(
                update, arg, id=update_id
            ),
        )
        return dict(result)

    @staticmethod
    async def retrying(subject: str, what: str, call: Callable[[], Awaitable[Any]], patience: float = 180) -> Any:
        """`call()`, tried again for up to `patience` seconds: a step taken a moment too early is refused with
        a reason, and a call can meet Temporal restarting or too busy to answer (a connection error, a
        timeout). A restart of the Temporal server takes longer than a few quick tries, so the limit is time."""
        deadline = time.monotonic() + patience
        while True:
            try:
                return await call()
            except Exception as exc:
                if time.monotonic() >= deadline:
                    raise
                say(subject, f"{what} refused for now ({getattr(exc, 'cause', None) or exc}); trying again")
                await asyncio.sleep(2)

    async def case_stage(self, case_id: str) -> str:
        return str((await self.status(case_workflow_id(case_id))).get("stage"))

    async def timeline_has(self, case_id: str, word: str) -> bool:
        status = await self.status(case_workflow_id(case_id))
        return any(word in entry["text"] for entry in status.get("timeline", []))

    async def threshold_known(self, case_id: str) -> bool:
        return (await self.status(case_workflow_id(case_id))).get("threshold") is not None

    async def threshold_reached(self, case_id: str) -> bool:
        return bool((await self.status(case_workflow_id(case_id)))["threshold"]["reached"])

    async def verified(self, case_id: str, outcome: VerificationOutcome, **extra: Any) -> None:
        await self.wait_for(case_id, "case open for verification", lambda: self.stage_is(case_id, "verification"), 120)
        await self.update_case(
            case_id,
            Updates.RECORD_VERIFICATION,
            VerificationResult(outcome=outcome, verified_by="inspector-130402", **extra),
        )

    async def stage_is(self, case_id: str, stage: str) -> bool:
        return await self.case_stage(case_id) == stage

    def served(self, method: ServiceMethod) -> ServiceRecord:
        kind = EvidenceKind.RECEIPT if method is ServiceMethod.IN_PERSON else EvidenceKind.PHOTO
        return ServiceRecord(
            method=method,
            served_by="inspector-130402",
            evidence=[Evidence(kind=kind, ref=f"demo-{uuid.uuid4().hex[:8]}")],
        )

    async def letter_issued(self, case_id: str, kind: LetterKind) -> bool:
        return kind.value in (await self.status(case_workflow_id(case_id))).get("letters", {})
