"""Replay the recorded histories (tests/replay/histories) under the Update-order runner.

Those histories carry no `updates-after-other-jobs` marker, so the runner must leave their order
alone and every one must replay as it does under the SDK's own runner.

Usage: python -m bench.update_order_replay_check [history.json ...]
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from bench.updates_after_other_jobs import UpdatesAfterOtherJobsRunner
from services.common.temporal import data_converter
from services.monitoring.monitoring_workflow import ProjectMonitoringWorkflow
from services.monitoring.payout_workflow import GuaranteePayoutWorkflow
from services.referrals.project_ladder import ProjectLetterLadderWorkflow
from services.sanctions.blacklist import BlacklistWorkflow
from workflows.worker import WORKFLOW_RUNNER, WORKFLOWS

HISTORIES = Path(__file__).resolve().parent.parent / "tests" / "replay" / "histories"


async def main(paths: list[Path]) -> int:
    runner = SandboxedWorkflowRunner(
        restrictions=WORKFLOW_RUNNER.restrictions.with_passthrough_modules("bench"),
        runner_class=UpdatesAfterOtherJobsRunner,
    )
    replayer = Replayer(
        workflows=[
            *WORKFLOWS,
            BlacklistWorkflow,
            ProjectMonitoringWorkflow,
            ProjectLetterLadderWorkflow,
            GuaranteePayoutWorkflow,
        ],
        data_converter=data_converter(),
        workflow_runner=runner,
    )
    failed = 0
    for path in paths:
        history = WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text(encoding="utf-8"))
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failed += 1
            print(f"FAIL {path.name}: {result.replay_failure}")
    print(f"{len(paths)} histories, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    chosen = [Path(a) for a in sys.argv[1:]] or sorted(HISTORIES.glob("*.json"))
    sys.exit(asyncio.run(main(chosen)))
