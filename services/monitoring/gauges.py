"""The monitoring worker's gauges: the early warnings still open, per county and level."""

from __future__ import annotations

from typing import Any

from prometheus_client.core import GaugeMetricFamily

_OPEN = (
    "SELECT county, level, count(*) AS warnings FROM warnings WHERE resolution IS NULL "
    "GROUP BY county, level ORDER BY county, level"
)


def measure_warnings(conn: Any) -> list[GaugeMetricFamily]:
    open_warnings = GaugeMetricFamily(
        "anxin_warnings_open",
        "Early warnings of the monthly checks still open, per county and level",
        labels=["county", "level"],
    )
    for row in conn.execute(_OPEN).fetchall():
        open_warnings.add_metric([row["county"], row["level"]], float(row["warnings"]))
    return [open_warnings]
