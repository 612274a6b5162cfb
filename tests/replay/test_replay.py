"""Replays recorded histories against the current workflow code: a non-deterministic change fails here.

Histories are recorded by `python -m tests.replay.record_histories` (the lifecycle workflows),
`python -m tests.replay.listing_scenarios` (the blacklist procedure),
`python -m tests.replay.monitoring_scenarios` (the project monitoring workflow) and
`python -m tests.replay.project_letter_scenarios` (the ladder against a project) and
`python -m tests.replay.payout_scenarios` (the payouts from the deposit or the emergency fund); see
docs/process.md for the `workflow.patched()` convention that keeps old histories replayable.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from services.common.temporal import data_converter
from services.monitoring.monitoring_workflow import ProjectMonitoringWorkflow
from services.monitoring.payout_workflow import GuaranteePayoutWorkflow
from services.referrals.project_ladder import ProjectLetterLadderWorkflow
from services.sanctions.blacklist import BlacklistWorkflow
from workflows.worker import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_are_recorded() -> None:
    assert len(HISTORIES) >= 5, "record them with `python -m tests.replay.record_histories`"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays_deterministically(path: Path) -> None:
    history = WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text(encoding="utf-8"))
    replayer = Replayer(
        workflows=[
            *WORKFLOWS,
            BlacklistWorkflow,
            ProjectMonitoringWorkflow,
            ProjectLetterLadderWorkflow,
            GuaranteePayoutWorkflow,
        ],
        data_converter=data_converter(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
