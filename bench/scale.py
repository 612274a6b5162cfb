"""`make bench-scale`: Anxin with a city's worth of work — many workflows open, a year of complaints stored.

Two parts, each skipped with 0:

- `--workflows` (default 100,000): on the `make bench` stack (bench/benchmark_stack.py), that many complaint
  workflows are started as intake starts them and run by the lifecycle worker until each waits on its
  working-day timer (bench/open_workflows.py); then the lifecycle worker's and the Temporal server's memory, the Temporal
  database on disk, and the end-to-end figure of `make bench` again, beside the same figure before.
- `--complaints` (default 1,000,000): that many complaints over a year in the cases service's schema on a private
  PostgreSQL, and the case list and the quarterly report timed over them, the project's own code path beside the
  least raw SQL that answers the same question (bench/scale_complaints.py).

Results print as tables and go to `bench/results/scale.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
from datetime import UTC, datetime
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

from bench.scale_complaints import complaints_part
from deploy.engines import REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "results"

console = Console(width=150)


def workflows_part(
    total: int,
    concurrency: int,
    e2e: int,
    profile: str = "embedded",
    lifecycle_workers: int = 1,
    workflow_cache: int | None = None,
) -> dict[str, Any]:
    from bench import open_workflows
    from bench.benchmark_stack import BENCH_PROCESSES, bench_stack

    # The cluster profile's replicas of the lifecycle worker are named lifecycle-worker-2, -3… (deploy/cluster.py).
    replicas = [f"lifecycle-worker-{n}" for n in range(2, lifecycle_workers + 1)]

    extra_env = {"ANXIN_LIFECYCLE_WORKFLOW_CACHE": str(workflow_cache)} if workflow_cache else {}

    async def run() -> dict[str, Any]:
        async with bench_stack(extra_env, profile=profile, processes=[*BENCH_PROCESSES, *replicas]) as bench:
            return await open_workflows.measure(bench, total, concurrency, e2e, console)

    result = asyncio.run(run())
    mib = 1024 * 1024
    table = Table(
        title=f"{total:,} complaint workflows waiting on their timers (started in "
        f"{result['start_seconds']:.0f} s, first steps done in {result['settled_seconds']:.0f} s)"
    )
    for column in ("measure", "idle", "peak", f"{total:,} open"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    server = "Temporal dev server" if profile == "embedded" else "Temporal Server"
    for name, key in (("lifecycle worker RSS (MiB)", "worker_rss"), (f"{server} RSS (MiB)", "temporal_rss")):
        table.add_row(
            name,
            f"{result['idle'][key] / mib:.0f}",
            f"{result['peak'][key] / mib:.0f}",
            f"{result['open'][key] / mib:.0f}",
        )
    storage = "Temporal SQLite" if profile == "embedded" else "Temporal's PostgreSQL databases"
    table.add_row(
        f"{storage} on disk (MiB)",
        f"{sum(result['idle']['database'].values()) / mib:.0f}",
        "",
        f"{sum(result['open']['database'].values()) / mib:.0f}",
    )
    for empty, loaded in zip(result["end_to_end_empty"], result["end_to_end_open"], strict=True):
        table.add_row(
            f"{empty['name']} ({empty['unit']}; anxin / raw)",
            f"{empty['anxin']} / {empty['raw']}",
            "",
            f"{loaded['anxin']} / {loaded['raw']}",
        )
    console.print(table)
    console.print(
        f"running on the server: {result['running_on_server']:,}; sample waiting on a timer: "
        f"{result['sample_waiting_on_timer']}"
    )
    return result


def reopened_part(e2e: int) -> dict[str, Any]:
    from bench import open_workflows
    from bench.benchmark_stack import BENCH_PROCESSES, bench_stack

    async def run() -> dict[str, Any]:
        async with bench_stack(keep_data=True, processes=BENCH_PROCESSES) as bench:
            return await open_workflows.measure_reopened(bench, e2e, console)

    result = asyncio.run(run())
    mib = 1024 * 1024
    table = Table(title=f"{result['running_on_server']:,} complaint workflows open, stack restarted on them")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("lifecycle worker RSS after the restart (MiB)", f"{result['open']['worker_rss'] / mib:.0f}")
    table.add_row("Temporal dev server RSS after the restart (MiB)", f"{result['open']['temporal_rss'] / mib:.0f}")
    table.add_row("Temporal SQLite on disk (MiB)", f"{sum(result['open']['database'].values()) / mib:.0f}")
    for loaded in result["end_to_end_open"]:
        table.add_row(f"{loaded['name']} ({loaded['unit']}; anxin / raw)", f"{loaded['anxin']} / {loaded['raw']}")
    table.add_row("sample waiting on a timer", result["sample_waiting_on_timer"])
    console.print(table)
    return result


def workflows_key(args: argparse.Namespace) -> str:
    """Where a run of the open workflows is kept in scale.json: one entry per profile and number of workers."""
    key = "workflows" if args.profile == "embedded" else f"workflows_{args.profile}"
    return key if args.lifecycle_workers == 1 else f"{key}_{args.lifecycle_workers}_workers"


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench-scale", description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=1_000_000, help="complaints generated (0: skip)")
    parser.add_argument("--repeat", type=int, default=20, help="runs of each case list and report query")
    parser.add_argument("--workflows", type=int, default=100_000, help="complaint workflows opened (0: skip)")
    parser.add_argument("--concurrency", type=int, default=64, help="workflow starts in flight")
    parser.add_argument("--e2e", type=int, default=60, help="complaints of each end-to-end measure")
    parser.add_argument(
        "--reopen",
        action="store_true",
        help="only the end-to-end figure, on the workflows the last run left open (stack restarted)",
    )
    parser.add_argument(
        "--profile",
        choices=["embedded", "cluster"],
        default="embedded",
        help="the open workflows on make run's engines or make run-cluster's (kept apart in scale.json)",
    )
    parser.add_argument(
        "--lifecycle-workers",
        type=int,
        choices=[1, 2],
        default=1,
        help="lifecycle workers running the workflows (2: the cluster profile's second replica too)",
    )
    parser.add_argument(
        "--workflow-cache",
        type=int,
        default=None,
        help="workflows each lifecycle worker keeps cached (ANXIN_LIFECYCLE_WORKFLOW_CACHE; default the worker's)",
    )
    args = parser.parse_args()
    if args.lifecycle_workers > 1 and args.profile != "cluster":
        parser.error("a second lifecycle worker runs on the cluster profile only (--profile cluster)")

    started = time.monotonic()
    machine = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 1024**3, 1),
    }
    # A part skipped with 0 keeps its figures from the last run that measured it.
    path = RESULTS / "scale.json"
    result: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    if args.reopen:
        result["workflows_reopened"] = {
            "at": datetime.now(UTC).isoformat(),
            "machine": machine,
            **reopened_part(args.e2e),
        }
        args.workflows = args.complaints = 0
    if args.workflows:
        result[workflows_key(args)] = {
            "at": datetime.now(UTC).isoformat(),
            "machine": machine,
            "profile": args.profile,
            "lifecycle_workers": args.lifecycle_workers,
            "workflow_cache": args.workflow_cache,
            **workflows_part(
                args.workflows, args.concurrency, args.e2e, args.profile, args.lifecycle_workers, args.workflow_cache
            ),
        }
    if args.complaints:
        result["complaints"] = {
            "at": datetime.now(UTC).isoformat(),
            "machine": machine,
            **complaints_part(args.complaints, args.repeat),
        }
    wall = time.monotonic() - started
    console.print(f"wall time {wall:.0f} s")
    for part in ("workflows", "complaints"):
        if getattr(args, part):
            key = workflows_key(args) if part == "workflows" else part
            result[key]["wall_seconds"] = round(wall, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
