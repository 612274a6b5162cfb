"""Temporal workers for tests, built as the project's workers are: the workflows run through the project's
runner (services/common/workflow_runner.py), inside the full sandbox, so a test sees the same order of
Updates and other jobs, and records the same histories, as production."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from services.common.workflow_runner import sandboxed_workflow_runner


def project_worker(
    client: Client, queue: str, workflows: Sequence[type], activities: Sequence[Callable[..., Any]]
) -> Worker:
    return Worker(
        client,
        task_queue=queue,
        workflows=workflows,
        activities=activities,
        workflow_runner=sandboxed_workflow_runner(),
    )
