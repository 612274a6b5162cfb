"""The inspector's paths of `make faults` (bench/faults.py): in each scenario, one complaint refused after its order
to pay (additional compensation, criminal referral, blacklist listing, publication) and one handed off and left
unanswered up the ladder of letters, taken by the demo's inspector (deploy/demo_paths.py) while the component is
killed, then checked for what their timers alone should have done."""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from temporalio.client import Client

from bench.fault_report import Outcome
from deploy.demo_paths import Demo
from services.contracts.lifecycle import (
    AcceptanceDecision,
    AcceptanceDecisionKind,
    LetterKind,
    Queries,
    Updates,
    case_workflow_id,
    complaint_workflow_id,
)

if TYPE_CHECKING:
    from bench.faults import Faults


class Inspector(Demo):
    """The demo's inspector (deploy/demo_paths.py), taking complaints down the paths that write letters, handoffs,
    referrals and blacklist listings while a component is killed: it files through the fault stack's intake
    and, like a person, tries again while a component is down."""

    def __init__(self, faults: Faults, http: httpx.AsyncClient) -> None:
        super().__init__(faults.client, http, faults.token)
        self.faults = faults

    async def file(self, scenario: str, body: dict[str, Any]) -> str:
        return await self.faults.post_complaint(self.http, body, f"faults-{self.faults.seed}-{body['phone']}")

    async def accept(self, scenario: str, complaint_id: str) -> str:
        handle = self.client.get_workflow_handle(complaint_workflow_id(complaint_id))
        deadline = time.monotonic() + self.faults.args.catch_up
        while time.monotonic() < deadline:
            try:
                # Checked first: an accept whose answer was lost to the fault has still joined the case.
                status = await self.status(handle.id)
                if status["stage"] == "in_case":
                    CURRENT_PATH.get().case_id = str(status["case_id"])
                    return str(status["case_id"])
                await handle.execute_update(
                    Updates.DECIDE_ACCEPTANCE,
                    AcceptanceDecision(decision=AcceptanceDecisionKind.ACCEPT, decided_by="inspector-130402"),
                )
            except Exception:  # not started yet, or Temporal is down: try again shortly
                await asyncio.sleep(2)
        raise TimeoutError(f"{complaint_id} could not be accepted")


@dataclass
class Path:
    """One complaint an inspector takes down a path, started at the beginning of a scenario."""

    outcome: Outcome
    name: str
    task: asyncio.Task[None] | None = None
    case_id: str | None = None  # known once the complaint is accepted


# The path an inspector's coroutine works on (each path is its own task, with its own copy of the context).
CURRENT_PATH: ContextVar[Path] = ContextVar("CURRENT_PATH")


class InspectorPaths:
    """Two complaints of each scenario taken further by the demo's inspector while the component is killed, and
    whether they got where their timers alone should take them. A part of `Faults` (bench/faults.py), which sets
    the attributes declared here."""

    # Set by `Faults.__init__`.
    client: Client
    seed: int
    inspector: Inspector
    paths: list[Path]

    def start_paths(self, outcome: Outcome) -> None:
        """Two complaints of the scenario go further, in flight when the component is killed: one refused
        after the order to pay (additional compensation, criminal referral, blacklist listing) and one handed
        off to the housing department (the ladder of letters)."""
        seed = self.seed * 10000 + 5000 + 2 * len(self.paths)
        for name, run in (
            ("refused", self.inspector.refused(seed, workers=12, amount="96000", name="refused, referred")),
            ("handed off", self.inspector.handed_off(seed + 1)),
        ):
            path = Path(outcome, name)
            token = CURRENT_PATH.set(path)
            path.task = asyncio.create_task(run)
            CURRENT_PATH.reset(token)
            self.paths.append(path)
        outcome.paths += 2

    async def finish_paths(self) -> None:
        """A path that raised (gave up waiting for a step) counts as a stuck workflow of its scenario."""
        results = await asyncio.gather(*(p.task for p in self.paths if p.task), return_exceptions=True)
        for path, result in zip(self.paths, results, strict=True):
            if isinstance(result, BaseException):
                path.outcome.stuck += 1
                path.outcome.notes.append(f"{path.name} path stopped: {type(result).__name__}: {result}")
            elif missing := await self.path_unfinished(path):
                path.outcome.stuck += 1
                path.outcome.notes.append(f"{path.name} case {path.case_id} never reached: {missing}")

    async def path_unfinished(self, path: Path) -> str | None:
        """What the path's case should have done by its timers alone but did not (None when all done): a
        refusal decides compensation, refers to the police, starts the blacklist procedure and marks the case
        for publication; an unanswered handoff climbs the ladder to its last letter."""
        if path.case_id is None:
            return "acceptance"
        handle = self.client.get_workflow_handle(case_workflow_id(path.case_id))
        # Read with retries like the paths' own steps: a query is refused while a workflow task is being
        # retried (a worker killed or slow under the load: "Workflow Task in failed state") until it completes.
        status = dict(await Demo.retrying(path.case_id, "status", lambda: handle.query(Queries.STATUS)))
        if path.name == "handed off":
            return None if LetterKind.ACCOUNTABILITY_TRANSFER.value in status["letters"] else "the last ladder letter"
        wanted = {
            "compensation decision": status["compensation_decision_id"],
            "police referral": "police" in status["referrals"],
            "blacklist procedure": status["blacklist_procedure_id"],
            "publication mark": status["publication_id"],
        }
        return ", ".join(what for what, done in wanted.items() if not done) or None
