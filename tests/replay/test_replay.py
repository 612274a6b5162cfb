"""Replays recorded histories against the current workflow code: a non-deterministic change fails here.

Histories are recorded by `python -m tests.replay.record_histories` (the lifecycle workflows),
`python -m tests.replay.listing_scenarios` (the blacklist procedure),
`python -m tests.replay.monitoring_scenarios` (the project monitoring workflow) and
`python -m tests.replay.project_letter_scenarios` (the ladder against a project) and
`python -m tests.replay.payout_scenarios` (the payouts from the deposit or the emergency fund); see
docs/process.md for the `workflow.patched()` convention that keeps old histories replayable.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from services.common.temporal import data_converter
from services.common.workflow_runner import COLD_TASK_DETERMINISM, ONE_JOB_A_PASS, sandboxed_workflow_runner
from services.monitoring.monitoring_workflow import ProjectMonitoringWorkflow
from services.monitoring.payout_workflow import GuaranteePayoutWorkflow
from services.referrals.project_ladder import ProjectLetterLadderWorkflow
from services.sanctions.blacklist import BlacklistWorkflow
from workflows.worker import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
ALL_WORKFLOWS = [
    *WORKFLOWS,
    BlacklistWorkflow,
    ProjectMonitoringWorkflow,
    ProjectLetterLadderWorkflow,
    GuaranteePayoutWorkflow,
]


def test_histories_are_recorded() -> None:
    assert len(HISTORIES) >= 5, "record them with `python -m tests.replay.record_histories`"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays_deterministically(path: Path) -> None:
    history = WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text(encoding="utf-8"))
    replayer = Replayer(
        workflows=ALL_WORKFLOWS,
        data_converter=data_converter(),
        workflow_runner=sandboxed_workflow_runner(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


def _patches(history: WorkflowHistory) -> set[str]:
    """The patch ids of a history's markers (each marker's details hold a JSON payload with the id)."""
    ids = set()
    for event in history.events:
        if event.HasField("marker_recorded_event_attributes"):
            for payloads in event.marker_recorded_event_attributes.details.values():
                ids.update(json.loads(p.data).get("id", "") for p in payloads.payloads)
    return ids


def test_every_workflow_with_updates_records_the_runner_patches() -> None:
    """A workflow with Updates must record the runner's patches in its first task (`record_runner_patches()`,
    the first line of its run method), or a cold worker, or one handed a task's jobs in two activations, can
    leave it a history it cannot replay (services/common/workflow_runner.py)."""
    with_updates = {d.name for d in map(workflow._Definition.must_from_class, ALL_WORKFLOWS) if d.updates}
    recorded = set()
    for path in HISTORIES:
        history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
        kind = history.events[0].workflow_execution_started_event_attributes.workflow_type.name
        if kind in with_updates and not path.name.startswith("before-"):
            recorded.add(kind)
            assert {COLD_TASK_DETERMINISM, ONE_JOB_A_PASS} <= _patches(history), path.name
    assert recorded == with_updates
