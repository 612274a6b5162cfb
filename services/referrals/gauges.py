"""The referrals worker's gauges: handoffs a department has not answered by their due time, per department."""

from __future__ import annotations

from typing import Any

from prometheus_client.core import GaugeMetricFamily

# 'sent' and 'acknowledged' handoffs still wait for the department's response (or return).
_OVERDUE = (
    "SELECT department, count(*) AS handoffs FROM handoffs "
    "WHERE status IN ('sent', 'acknowledged') AND due_at < now() GROUP BY department ORDER BY department"
)


def measure_handoffs(conn: Any) -> list[GaugeMetricFamily]:
    overdue = GaugeMetricFamily(
        "anxin_handoffs_overdue", "Handoffs not answered by their due time, per department", labels=["department"]
    )
    for row in conn.execute(_OVERDUE).fetchall():
        overdue.add_metric([row["department"]], float(row["handoffs"]))
    return [overdue]
