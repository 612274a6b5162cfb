"""What the benchmarks share: latency samples (in seconds) as their p50, p95 and p99 in milliseconds."""

from __future__ import annotations

import statistics


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": q[49] * 1000, "p95": q[94] * 1000, "p99": q[98] * 1000}
