"""CPU time and memory of a bench stack's processes and engines, read from the operating system: what each part
of the stack spent on a measure, so a figure says where its time went and not only how long it took."""

from __future__ import annotations

import os

import psutil

from bench.measures import Figure
from deploy.stack import Stack

BENCH_PROCESS = "bench"  # the measuring process itself: its clients and, for raw baselines, their servers
ENGINES = ("temporal", "kafka", "postgresql")


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process, its live children and the children it has already reaped (PostgreSQL's
    backends come and go: an exited backend's time is in the postmaster's `children_*`)."""
    try:
        root = psutil.Process(pid)
        times = root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in root.children(recursive=True):
            with_child = child.cpu_times()
            total += with_child.user + with_child.system
        return total
    except psutil.NoSuchProcess:
        return 0.0


def tree_memory(pid: int) -> int:
    """Proportional set size of a process and its children, in bytes (shared pages divided among sharers)."""
    try:
        root = psutil.Process(pid)
        return sum(int(p.memory_full_info().pss) for p in [root, *root.children(recursive=True)])
    except psutil.NoSuchProcess:
        return 0


def engine_pids(stack: Stack) -> dict[str, list[int]]:
    kafka = getattr(stack.kafka, "nodes", [stack.kafka])
    return {
        "temporal": [stack.temporal.process.pid] if stack.temporal.process else [],
        "kafka": [node.process.pid for node in kafka if node.process],
        "postgresql": [pid] if (pid := stack.postgres.pid()) else [],
    }


def cpu_by_process(stack: Stack) -> dict[str, float]:
    """CPU seconds so far of each running project process (by name), each engine and the measuring process."""
    spent = {
        name: tree_cpu(spec.process.pid)
        for name, spec in stack.processes.items()
        if spec.process and spec.process.poll() is None
    }
    for engine, pids in engine_pids(stack).items():
        spent[engine] = sum(tree_cpu(pid) for pid in pids)
    own = psutil.Process(os.getpid()).cpu_times()
    spent[BENCH_PROCESS] = own.user + own.system
    return spent


def cpu_with(stack: Stack, name: str, pids: list[int]) -> dict[str, float]:
    """`cpu_by_process`, and the processes `pids` the measure started beside the stack, together under `name`."""
    return {**cpu_by_process(stack), name: sum(tree_cpu(pid) for pid in pids)}


def cpu_spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds spent between two `cpu_by_process` readings, by process (those running at both)."""
    return {name: after[name] - before[name] for name in after if name in before}


def cpu_figure(name: str, spent: dict[str, float], raw_spent: dict[str, float], count: int) -> Figure:
    """CPU milliseconds per item over every process, beside the raw baseline's, noting the five busiest."""
    busiest = sorted(spent.items(), key=lambda item: -item[1])[:5]
    return Figure(
        name,
        "ms",
        1000 * sum(spent.values()) / count,
        1000 * sum(raw_spent.values()) / count,
        "all processes; " + ", ".join(f"{process} {1000 * seconds / count:.1f}" for process, seconds in busiest),
    )
