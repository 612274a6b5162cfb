"""`make bench`: Anxin's speed measured against the raw engines, in the same run, on the same engines.

Each figure is printed beside its baseline and as a ratio (Anxin / raw), so the overhead of the
project's own code is what is measured, not the machine:

- intake: complaints/s and p50/p95/p99 latency of `POST /v1/complaints` at fixed concurrency, against a
  bare FastAPI + psycopg endpoint that inserts one row into the same PostgreSQL;
- events: outbox → relay → Kafka → inbox consumers (two processes of one group by default) throughput, and the CPU
  every process spends an event, against raw kafka-python produce + consume, and against a bare outbox, relay and
  inbox in plain psycopg and kafka-python (the least any outbox + inbox path does; bench/bare_events.py);
- end to end: complaints/s from POST to "workflow running", against raw `start_workflow` on the same server, and
  against a bare FastAPI + psycopg endpoint that inserts one row and starts the same raw workflow (the least
  any path from a POST to a running workflow does);
- token flood: the workers' form page's p95 (the intake API's `GET /`) while 50 bad token requests a second hit
  the token issuer's `/oauth/token`, against its p95 idle (the ratio should stay under 2: docs/security.md);
- monitoring feeds: a month of payroll and attendance files for many projects imported through the monitoring
  API (workers/s, files/s, the API's peak memory), against the same rows written with `COPY`
  (bench/monitoring_feeds.py);
- monitoring checks: every project's monitoring workflow checking the month at once, from the check instant
  until all have checked, against as many minimal workflows running one activity (bench/monitoring_checks.py).

A private stack is started under `.data/bench-stack/` (ports shifted by -4000, or by
ANXIN_BENCH_PORT_OFFSET). Results print as a table and are written to `bench/results/latest.json`.
`make bench-scale` (bench/scale.py) measures the same stack with 100,000 workflows open.

The measures are in bench/path_measures.py, the stack they run on in bench/benchmark_stack.py and what every
bench shares (a figure beside its baseline, a load at fixed concurrency, percentiles) in bench/measures.py; this
module runs them and writes the results.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from dataclasses import asdict

from bench import console_queue
from bench.benchmark_stack import BENCH_PROCESSES, BenchStack, bench_stack, development_token
from bench.measures import RESULTS, Figure
from bench.monitoring_checks import bench_monthly_checks
from bench.monitoring_feeds import bench_feed_import
from bench.monitoring_projects import MonitoredProjects, register_projects
from bench.open_workflows import first_steps_done, wait_for_first_steps
from bench.path_measures import INTAKE_WARM_UP, bench_end_to_end, bench_events, bench_intake, bench_token_flood
from deploy.cluster import replica_spec
from deploy.launcher import PROFILES
from deploy.stack import Stack


def print_table(figures: list[Figure]) -> None:
    print(f"\n{'measure':<34}{'anxin':>12}{'raw':>12}{'unit':>16}{'ratio':>9}  note")
    for f in figures:
        print(f"{f.name:<34}{f.anxin:>12.1f}{f.raw:>12.1f}{f.unit:>16}{f.ratio:>9.2f}  {f.note}")


async def bench_monitoring(bench: BenchStack, args: argparse.Namespace) -> list[Figure]:
    """The monitoring service's feeds import and monthly checks; the checks take the feeds' projects (their month
    then has its feeds) when those are enough, else projects registered for them alone."""
    figures: list[Figure] = []
    token = await development_token(bench.stack, "city-office")
    projects: MonitoredProjects | None = None
    if args.feed_projects:
        print("monitoring feeds…", flush=True)
        projects = await register_projects(bench.stack, token, args.feed_projects)
        figures += await bench_feed_import(bench.stack, token, projects, args.feed_workers, args.concurrency)
    if args.check_projects:
        print("monitoring checks…", flush=True)
        if projects is None or len(projects.project_ids) < args.check_projects:
            projects = await register_projects(bench.stack, token, args.check_projects)
        checked = projects.first(args.check_projects)
        figures += await bench_monthly_checks(bench.stack, bench.client, checked, args.concurrency)
    return figures


async def settle(stack: Stack, since: int, filed: int) -> None:
    """Until the complaints a measure filed have run their first steps (workflow started, receipt sent,
    reported to the ledger): the work each complaint sets going downstream runs on the same
    cores as the next measure, which must not pay for it."""
    began = time.monotonic()
    await wait_for_first_steps(stack, since, filed, timeout=900, interval=1.0)
    print(f"  the {filed} complaints filed ran their first steps {time.monotonic() - began:.0f} s later", flush=True)


def start_api_replicas(stack: Stack, name: str, count: int) -> tuple[list[str], list[str]]:
    """Run `count` processes of the API `name`, starting the replicas the stack does not run yet as the cluster
    profile runs them (the cluster profile already runs a second of each API). Returns the names of all `count`
    and of those started."""
    replicas = [replica_spec(stack.spec(name), replica) for replica in range(2, count + 1)]
    started = [spec for spec in replicas if not stack.is_running(spec.name)]
    for spec in started:
        stack.start_process(spec)
    for spec in started:
        stack.wait_process_ready(spec, timeout=120)
    return [name, *(spec.name for spec in replicas)], [spec.name for spec in started]


async def intake_row(bench: BenchStack, args: argparse.Namespace) -> list[Figure]:
    """The intake row measures intake's own path: the API, its transaction and the relay publishing the event,
    against a bare insert. The consumer that starts the complaints' workflows is stopped meanwhile: on one
    machine the workflows' first steps (Temporal, the lifecycle worker, the ledger) would take the same two
    cores while the clock runs — that path is the end-to-end row's. It is started again afterwards and the
    complaints, all relayed, are run to their first steps before the next measure. The complaints are filed over
    `--intake-apis` API processes, in turn, as a load balancer spreads them over production's replicas."""
    stack = bench.stack
    since = await asyncio.to_thread(first_steps_done, stack)
    apis, started = await asyncio.to_thread(start_api_replicas, stack, "intake-api", args.intake_apis)
    await asyncio.to_thread(stack.stop_process, "intake-worker")
    try:
        figures = await bench_intake(stack, bench.token, args.requests, args.concurrency, apis)
    finally:
        for name in started:
            await asyncio.to_thread(stack.stop_process, name)
        await asyncio.to_thread(stack.start_processes, ["intake-worker"], timeout=120)
    await settle(stack, since, args.requests + INTAKE_WARM_UP)
    return figures


async def main_async(args: argparse.Namespace) -> list[Figure]:
    figures: list[Figure] = []
    processes = BENCH_PROCESSES + (
        [p for p in console_queue.PROCESSES if p not in BENCH_PROCESSES] if args.queue_cases else []
    )
    # The monitoring relay and worker are started by the checks, after the feeds are in.
    processes += ["monitoring-api"] if args.feed_projects or args.check_projects else []
    async with bench_stack(profile=args.profile, processes=processes) as bench:
        # A count of 0 skips its measure (`--requests 0 --events 0 --e2e 0`: the token flood alone).
        if args.requests:
            print("intake…", flush=True)
            figures += await intake_row(bench, args)
        if args.events:
            print("events…", flush=True)
            figures += await asyncio.to_thread(
                bench_events, bench.stack, bench.settings, args.events, args.event_consumers
            )
        if args.e2e:
            print("end to end…", flush=True)
            since = await asyncio.to_thread(first_steps_done, bench.stack)
            figures += await bench_end_to_end(
                bench.stack, bench.settings, bench.client, bench.token, args.e2e, args.concurrency
            )
            await settle(bench.stack, since, args.e2e)
        if args.queue_cases:
            print("the console's queue page…", flush=True)
            measured = await asyncio.to_thread(
                console_queue.measure_queue, bench.stack, args.queue_cases, args.queue_repeat
            )
            figures += [
                Figure(
                    f"console queue page {q} ({args.queue_cases:,} open cases)",
                    "ms",
                    measured["console"][q],
                    measured["api"][q],
                    console_queue.BASELINE,
                )
                for q in ("p50", "p95")
            ]
        if args.flood_rate > 0:
            print("token flood…", flush=True)
            figures += await asyncio.to_thread(bench_token_flood, bench.stack, args.flood_rate, args.flood_seconds)
        figures += await bench_monitoring(bench, args)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument(
        "--event-consumers", type=int, default=2, help="consumer processes of the events row's group (6 partitions)"
    )
    # Two by default: production runs two replicas of every API (the cluster profile, the Kubernetes base), and one
    # API process's event loop was what kept the row's requests waiting (docs/performance.md, "Intake").
    parser.add_argument(
        "--intake-apis",
        type=int,
        choices=range(1, 10),
        default=2,
        metavar="N",
        help="intake API processes the intake row's requests are spread over, in turn (1-9, default 2)",
    )
    parser.add_argument("--e2e", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--flood-rate", type=float, default=50, help="bad token requests/s of the token flood (0: skip)"
    )
    parser.add_argument("--flood-seconds", type=float, default=10)
    parser.add_argument(
        "--queue-cases", type=int, default=10000, help="open cases in one county for the console's queue page (0: skip)"
    )
    parser.add_argument("--queue-repeat", type=int, default=200)
    # docs/performance.md has the figures of 2,000 projects, 200,000 workers and 2,000 checks.
    parser.add_argument(
        "--feed-projects", type=int, default=200, help="projects whose month of feeds is imported (0: skip)"
    )
    parser.add_argument("--feed-workers", type=int, default=20000, help="workers over those projects' feeds")
    parser.add_argument(
        "--check-projects", type=int, default=200, help="projects whose monitoring workflows check a month (0: skip)"
    )
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="embedded",
        help="the engines measured: make run's (embedded) or make run-cluster's (cluster)",
    )
    args = parser.parse_args()
    figures = asyncio.run(main_async(args))
    print_table(figures)
    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()}
    written = RESULTS / ("latest.json" if args.profile == "embedded" else f"latest-{args.profile}.json")
    written.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "machine": machine,
                "args": vars(args),
                "figures": [{**asdict(f), "ratio": f.ratio} for f in figures],
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"\nwritten to {written}")


if __name__ == "__main__":
    main()
