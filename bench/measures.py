"""What the benchmarks share: a figure measured beside its raw baseline (the ratio is what counts), a load run at
a fixed concurrency, latency samples (in seconds) as their p50, p95 and p99 in milliseconds, and where results
are written."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from deploy.engines import REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "results"


@dataclass
class Figure:
    name: str
    unit: str
    anxin: float
    raw: float
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.anxin / self.raw if self.raw else float("nan")


async def load(call: Callable[[int], Awaitable[None]], total: int, concurrency: int) -> tuple[float, list[float]]:
    """Run `call(i)` `total` times with `concurrency` in flight; returns (per second, latencies in s)."""
    latencies: list[float] = []
    counter = iter(range(total))

    async def lane() -> None:
        for i in counter:
            started = time.perf_counter()
            await call(i)
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return total / (time.perf_counter() - began), latencies


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": q[49] * 1000, "p95": q[94] * 1000, "p99": q[98] * 1000}
