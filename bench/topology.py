"""`make bench-topology`: the embedded and the cluster profile side by side, and what a second replica adds.

For each profile, on a private stack (intake's API, relay and worker, the lifecycle worker and the cases API
the workflows report to; on the cluster profile two of each):

- POST to workflow running against raw `start_workflow` on the same server (`make bench`'s end-to-end row);
- new complaints' first steps per second: N complaints filed through `POST /v1/complaints` at a fixed
  concurrency, timed until every one's workflow has run its first steps (the receipt notified;
  counted from the lifecycle workers' SDK metrics);
- over that run, the CPU seconds each component spent per complaint (APIs, relays, consumers, lifecycle
  workers, the ledger's API, Temporal, Kafka, PostgreSQL with its backends) and its share of a core, which
  says what saturates first; and each engine's memory (proportional set size, so PostgreSQL's shared buffers
  count once).

On the cluster profile the first-steps run is made twice: with one intake consumer and one lifecycle worker
(the second replicas stopped), then with two of each: the scale-out evidence. Both profiles compete for the
same cores of one machine, so the point is where the time goes and whether a second replica takes load, not
which profile is faster here. Results: `bench/results/topology.json` and a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
import uuid
from typing import Any

import httpx

from bench.benchmark_stack import BenchStack, bench_stack
from bench.measures import RESULTS, load
from bench.open_workflows import first_steps_done, wait_for_first_steps
from bench.path_measures import bench_end_to_end
from bench.process_cpu import BENCH_PROCESS, ENGINES, cpu_by_process, engine_pids, tree_memory
from deploy.stack import Stack
from services.common.temporal import exit_program
from tests.integration.test_intake import complaint

# The cases API is the ledger the workflows report to (bench/benchmark_stack.py, BENCH_PROCESSES).
CORE_PROCESSES = ["intake-api", "intake-relay", "intake-worker", "lifecycle-worker", "cases-api"]
SCALED = ["intake-worker", "lifecycle-worker"]  # what the second replica is measured for
COMPONENTS = ("api", "relay", "consumer", "lifecycle worker", "ledger", "temporal", "kafka", "postgresql")


def component_of(process_name: str) -> str:
    if process_name.startswith("lifecycle-worker"):
        return "lifecycle worker"
    if process_name.startswith("cases-api"):
        return "ledger"
    kind = process_name.split("-")[1]
    return {"api": "api", "relay": "relay", "worker": "consumer"}[kind]


def cpu_snapshot(stack: Stack) -> dict[str, float]:
    spent = dict.fromkeys(COMPONENTS, 0.0)
    for name, seconds in cpu_by_process(stack).items():
        if name in ENGINES:
            spent[name] += seconds
        elif name != BENCH_PROCESS:
            spent[component_of(name)] += seconds
    return spent


async def first_steps(bench: BenchStack, total: int, concurrency: int) -> dict[str, Any]:
    """File `total` complaints (spread over the running API replicas) and time them to their first steps."""
    stack = bench.stack
    apis = [
        spec.url
        for name, spec in stack.processes.items()
        if name.startswith("intake-api") and spec.process and spec.process.poll() is None
    ]
    token = await bench.fresh_token()
    before_steps = await asyncio.to_thread(first_steps_done, stack)
    before_cpu = await asyncio.to_thread(cpu_snapshot, stack)
    seed = uuid.uuid4().int % 10**6
    began = time.monotonic()
    async with httpx.AsyncClient(timeout=60, headers={"Authorization": f"Bearer {token}"}) as http:

        async def file(i: int) -> None:
            body = complaint(seed * 10 + i, phone=f"137{(seed * 10000 + i) % 10**8:08d}")
            response = await http.post(f"{apis[i % len(apis)]}/v1/complaints", json=body)
            response.raise_for_status()

        filing_rate, _ = await load(file, total, concurrency)
    await wait_for_first_steps(stack, before_steps, total, timeout=max(600, total), interval=0.5)
    elapsed = time.monotonic() - began
    after_cpu = await asyncio.to_thread(cpu_snapshot, stack)
    spent = {c: after_cpu[c] - before_cpu[c] for c in COMPONENTS}
    return {
        "complaints": total,
        "seconds": round(elapsed, 1),
        "first_steps_per_second": round(total / elapsed, 1),
        "filed_per_second": round(filing_rate, 1),
        "cpu_ms_per_complaint": {c: round(1000 * spent[c] / total, 1) for c in COMPONENTS},
        "share_of_a_core": {c: round(spent[c] / elapsed, 2) for c in COMPONENTS},
        "cpu_ms_per_complaint_total": round(1000 * sum(spent.values()) / total, 1),
    }


async def measure_profile(profile: str, args: argparse.Namespace) -> dict[str, Any]:
    processes = (
        CORE_PROCESSES
        if profile == "embedded"
        else [*CORE_PROCESSES, *[f"{name}-2" for name in CORE_PROCESSES if name not in SCALED]]
    )
    async with bench_stack(profile=profile, processes=processes) as bench:
        stack = bench.stack
        result: dict[str, Any] = {"profile": profile}
        print(f"{profile}: end to end against raw start_workflow…", flush=True)
        figures = await bench_end_to_end(stack, bench.settings, bench.client, bench.token, args.e2e, args.concurrency)
        result["end_to_end"] = [
            {"name": f.name, "anxin": round(f.anxin, 1), "raw": round(f.raw, 1), "ratio": round(f.ratio, 2)}
            for f in figures
        ]
        print(f"{profile}: first steps, one consumer and one lifecycle worker…", flush=True)
        result["one_replica"] = await first_steps(bench, args.complaints, args.concurrency)
        if profile != "embedded":
            await asyncio.to_thread(stack.start_processes, [f"{name}-2" for name in SCALED], timeout=180)
            await asyncio.sleep(10)  # the consumer group's rebalance and the second worker's first polls
            print(f"{profile}: first steps, two consumers and two lifecycle workers…", flush=True)
            result["two_replicas"] = await first_steps(bench, args.complaints, args.concurrency)
        result["memory_mb"] = {
            engine: round(sum(tree_memory(pid) for pid in pids) / 2**20) for engine, pids in engine_pids(stack).items()
        }
        return result


def print_table(results: list[dict[str, Any]]) -> None:
    for result in results:
        print(f"\n{result['profile']}")
        for figure in result["end_to_end"]:
            print(f"  {figure['name']:<32}{figure['anxin']:>10}{figure['raw']:>10}{figure['ratio']:>8}")
        for phase in ("one_replica", "two_replicas"):
            if phase not in result:
                continue
            run = result[phase]
            print(
                f"  {phase}: {run['first_steps_per_second']} complaints/s to first steps "
                f"({run['complaints']} in {run['seconds']} s), {run['cpu_ms_per_complaint_total']} CPU ms each"
            )
            print(
                "    "
                + ", ".join(
                    f"{c} {run['cpu_ms_per_complaint'][c]} ms ({run['share_of_a_core'][c]:.2f} core)"
                    for c in COMPONENTS
                )
            )
        print("  memory MB: " + ", ".join(f"{k} {v}" for k, v in result["memory_mb"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench-topology", description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", nargs="+", default=["embedded", "cluster"], choices=["embedded", "cluster"])
    parser.add_argument("--complaints", type=int, default=1000, help="complaints of each first-steps run")
    parser.add_argument("--e2e", type=int, default=200, help="complaints of the end-to-end measure")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    results = [asyncio.run(measure_profile(profile, args)) for profile in args.profiles]
    print_table(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()}
    (RESULTS / "topology.json").write_text(
        json.dumps(
            {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine, "args": vars(args), "profiles": results},
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"\nwritten to {RESULTS / 'topology.json'}")
    exit_program(0)


if __name__ == "__main__":
    main()
