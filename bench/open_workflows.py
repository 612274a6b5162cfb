"""Many complaints open at once: N complaint workflows waiting on their working-day timers.

Each complaint is started the way intake's worker starts it (`services.intake.worker.complaint_input` from a
`complaint.submitted` payload, then `start_workflow` on the lifecycle task queue with the project's
encrypting converter), and the stack's own lifecycle worker runs it: the complaint is recorded, the
acceptance deadline and its reminder are computed (the calendar activity, no service called) and the
complainant is notified (the local SMS sink); then the workflow waits on the reminder's timer, days away.

Measured: how long the starts and the worker's first steps take, the lifecycle worker's memory, the
Temporal dev server's memory and its SQLite database on disk, and the end-to-end figure of `make bench`
(POST to workflow running, against raw `start_workflow`) before and with the N workflows open.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psutil
import psycopg
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy

from bench.benchmark_stack import BenchStack
from bench.measures import Figure
from bench.path_measures import bench_end_to_end
from deploy.stack import Stack
from deploy.temporal_server import DATABASES, TemporalServerEngine
from services.common.lifecycle_config import load_lifecycle_config
from services.contracts.intake_events import ComplaintSubmitted
from services.contracts.lifecycle import (
    COMPLAINT_WORKFLOW_TYPE,
    ActivityNames,
    LifecycleConfig,
    TaskQueues,
    complaint_workflow_id,
)
from services.intake.worker import complaint_input
from tests.support.factories import complaint_submitted

COUNTIES = ["130402", "130403", "130404", "130406", "130421"]


def submitted(tag: str, n: int, now: datetime) -> ComplaintSubmitted:
    """A `complaint.submitted` event as intake publishes it; three complaints to a case."""
    case = n // 3
    return complaint_submitted(
        f"TS-B{tag}-{n:07d}",
        employer=f"邯郸某建筑劳务有限公司{tag}{case}",
        project=f"某某小区{case}号楼",
        county=COUNTIES[case % len(COUNTIES)],
        period=(date(2026, 3, 1), date(2026, 8, 31)),
        amount_owed=Decimal(12000 + n % 50000),
        workers=1 + n % 12,
        submitted_at=now,
    )


def rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def sqlite_bytes(database: Path) -> dict[str, int]:
    """The dev server's SQLite file and its -wal/-shm companions, by name."""
    return {p.name: p.stat().st_size for p in sorted(database.parent.glob(database.name + "*"))}


def temporal_storage(stack: Stack) -> dict[str, int]:
    """What Temporal keeps on disk, by name: the dev server's SQLite files, or Temporal Server's two
    PostgreSQL databases (the cluster profile)."""
    if isinstance(stack.temporal, TemporalServerEngine):
        with psycopg.connect(stack.postgres.admin_url) as conn:
            return {
                name: int(conn.execute("SELECT pg_database_size(%s)", (name,)).fetchone()[0])  # type: ignore[index]
                for name in DATABASES
            }
    return sqlite_bytes(stack.temporal.data_dir / "temporal.sqlite")


# Normal and local activities (the deadlines are local activities) have their own latency histograms.
_METRIC = re.compile(
    r"^temporal_(?:local_)?activity_execution_latency(?:_seconds)?_count\{([^}]*)\}\s+([0-9.e+]+)$", re.M
)


def activity_counts(metrics_url: str) -> dict[str, int]:
    """Activities (normal and local) the lifecycle worker has run, by type, from its SDK metrics (Prometheus text)."""
    with urllib.request.urlopen(metrics_url, timeout=10) as response:
        text = response.read().decode()
    counts: dict[str, int] = {}
    for labels, value in _METRIC.findall(text):
        kind = re.search(r'activity_type="([^"]+)"', labels)
        if kind:
            counts[kind.group(1)] = counts.get(kind.group(1), 0) + int(float(value))
    return counts


async def start_all(
    client: Client, config: LifecycleConfig, tag: str, total: int, concurrency: int, progress: Progress
) -> list[str]:
    """Start `total` complaint workflows, `concurrency` starts in flight; returns their ids."""
    task = progress.add_task("workflows started", total=total)
    gate = asyncio.Semaphore(concurrency)
    now = datetime.now(UTC)
    ids: list[str] = []

    async def start(n: int) -> None:
        workflow_input = complaint_input(submitted(tag, n, now), config)
        workflow_id = complaint_workflow_id(workflow_input.complaint_id)
        async with gate:
            await client.start_workflow(
                COMPLAINT_WORKFLOW_TYPE,
                workflow_input,
                id=workflow_id,
                task_queue=TaskQueues.LIFECYCLE,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        ids.append(workflow_id)
        progress.advance(task)

    # Coroutines made in slices: a million pending coroutines would be memory the bench measures itself.
    for first in range(0, total, 10 * concurrency):
        await asyncio.gather(*(start(n) for n in range(first, min(first + 10 * concurrency, total))))
    return ids


def first_steps_done(stack: Stack) -> int:
    """Workflows past their first steps (the receipt notified: a new complaint's acceptance deadlines come
    computed in its input, so the receipt is the step that ends its first task's work), over every running
    lifecycle worker, from their SDK metrics."""
    notices = 0
    for name, spec in stack.processes.items():
        if not name.startswith("lifecycle-worker") or not spec.process or spec.process.poll() is not None:
            continue
        counts = activity_counts(f"http://127.0.0.1:{spec.env['ANXIN_TEMPORAL_SDK_METRICS_PORT']}/metrics")
        notices += counts.get(ActivityNames.NOTIFY_COMPLAINANT, 0)
    return notices


async def wait_for_first_steps(
    stack: Stack,
    since: int,
    total: int,
    *,
    timeout: float,
    interval: float = 2.0,
    progress: tuple[Progress, TaskID] | None = None,
) -> None:
    """Until `total` workflows more than `since` are past their first steps. A line a minute says how far it
    got: a long run's log (not a terminal) shows rich's progress only when it ends."""
    began = time.monotonic()
    said = began
    while True:
        done = await asyncio.to_thread(first_steps_done, stack) - since
        if progress:
            progress[0].update(progress[1], completed=min(done, total))
        if done >= total:
            return
        elapsed = time.monotonic() - began
        if elapsed > timeout:
            raise TimeoutError(f"only {done} of {total} workflows finished their first steps in {timeout:.0f} s")
        if time.monotonic() - said >= 60:
            said = time.monotonic()
            print(
                f"  {elapsed:.0f} s: {done:,} of {total:,} past their first steps ({done / elapsed:.1f}/s)", flush=True
            )
        await asyncio.sleep(interval)


async def waiting_on_timer(client: Client, workflow_id: str) -> bool:
    """The workflow is running, no activity pending, and its last command was a timer still to fire."""
    handle = client.get_workflow_handle(workflow_id)
    description = await handle.describe()
    if description.raw_description.pending_activities:
        return False
    started: set[int] = set()
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            started.add(event.event_id)
        elif event.event_type in (EventType.EVENT_TYPE_TIMER_FIRED, EventType.EVENT_TYPE_TIMER_CANCELED):
            attributes = event.timer_fired_event_attributes or event.timer_canceled_event_attributes
            started.discard(attributes.started_event_id)
    return bool(started) and description.status is not None and description.status.name == "RUNNING"


async def end_to_end(bench: BenchStack, e2e: int) -> list[Figure]:
    """`make bench`'s POST-to-running row, `e2e` complaints (0: not measured)."""
    if not e2e:
        return []
    return await bench_end_to_end(bench.stack, bench.settings, bench.client, await bench.fresh_token(), e2e, 16)


async def measure(bench: BenchStack, total: int, concurrency: int, e2e: int, console: Console) -> dict[str, Any]:
    stack, client = bench.stack, bench.client
    worker_pid = stack.processes["lifecycle-worker"].process.pid  # type: ignore[union-attr]
    temporal_pid = stack.temporal.process.pid  # type: ignore[union-attr]
    config = load_lifecycle_config(bench.settings)
    tag = uuid.uuid4().hex[:6]

    console.print("end to end, nothing else open…")
    empty = await end_to_end(bench, e2e)
    idle = {"worker_rss": rss(worker_pid), "temporal_rss": rss(temporal_pid), "database": temporal_storage(stack)}

    peak = {"worker_rss": 0, "temporal_rss": 0}
    sampling = True

    async def sample() -> None:
        while sampling:
            peak["worker_rss"] = max(peak["worker_rss"], rss(worker_pid))
            peak["temporal_rss"] = max(peak["temporal_rss"], rss(temporal_pid))
            await asyncio.sleep(1)

    sampler = asyncio.create_task(sample())
    before = await asyncio.to_thread(first_steps_done, stack)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        began = time.monotonic()
        ids = await start_all(client, config, tag, total, concurrency, progress)
        started_s = time.monotonic() - began
        task = progress.add_task("first steps done", total=total)
        await wait_for_first_steps(stack, before, total, timeout=max(600.0, total * 0.5), progress=(progress, task))
        settled_s = time.monotonic() - began
    sampling = False
    await sampler

    sample_ids = ids[:: max(1, len(ids) // 20)][:20]
    checked = [await waiting_on_timer(client, workflow_id) for workflow_id in sample_ids]
    running = (
        await client.count_workflows(f'WorkflowType = "{COMPLAINT_WORKFLOW_TYPE}" AND ExecutionStatus = "Running"')
    ).count
    opened = {"worker_rss": rss(worker_pid), "temporal_rss": rss(temporal_pid), "database": temporal_storage(stack)}
    # Said now, so that a failure in the last measure does not lose the hour before it.
    console.print(
        f"started in {started_s:.0f} s, first steps done in {settled_s:.0f} s; idle {idle}; peak {peak}; "
        f"open {opened}; sample waiting on a timer {sum(checked)}/{len(checked)}",
        highlight=False,
    )

    console.print(f"end to end, {running:,} complaint workflows open…")
    loaded = await end_to_end(bench, e2e)
    return {
        "workflows": total,
        "concurrency": concurrency,
        "start_seconds": round(started_s, 1),
        "settled_seconds": round(settled_s, 1),
        "starts_per_second": round(total / started_s, 1),
        "running_on_server": running,
        "sample_waiting_on_timer": f"{sum(checked)}/{len(checked)}",
        "idle": idle,
        "peak": peak,
        "open": opened,
        "end_to_end_empty": [figure_dict(f) for f in empty],
        "end_to_end_open": [figure_dict(f) for f in loaded],
    }


async def measure_reopened(bench: BenchStack, e2e: int, console: Console) -> dict[str, Any]:
    """The end-to-end figure on a stack restarted on the workflows the last run left open.

    For when that run's own last measure was lost: the open workflows and their database are what the
    measure is about, and they survive a restart. The processes' memory is measured fresh after it.
    """
    stack, client = bench.stack, bench.client
    query = f'WorkflowType = "{COMPLAINT_WORKFLOW_TYPE}" AND ExecutionStatus = "Running"'
    running = (await client.count_workflows(query)).count
    if not running:
        raise SystemExit("no complaint workflows are open on the kept bench stack: run without --reopen first")
    sample_ids = [execution.id async for execution in client.list_workflows(query, limit=20)]
    checked = [await waiting_on_timer(client, workflow_id) for workflow_id in sample_ids]
    console.print(f"end to end, {running:,} complaint workflows open (restarted)…")
    loaded = await end_to_end(bench, e2e)
    return {
        "running_on_server": running,
        "sample_waiting_on_timer": f"{sum(checked)}/{len(checked)}",
        "open": {
            "worker_rss": rss(stack.processes["lifecycle-worker"].process.pid),  # type: ignore[union-attr]
            "temporal_rss": rss(stack.temporal.process.pid),  # type: ignore[union-attr]
            "database": temporal_storage(stack),
        },
        "end_to_end_open": [figure_dict(f) for f in loaded],
    }


def figure_dict(figure: Figure) -> dict[str, Any]:
    return {
        "name": figure.name,
        "unit": figure.unit,
        "anxin": round(figure.anxin, 1),
        "raw": round(figure.raw, 1),
        "ratio": round(figure.ratio, 2),
    }
