"""The monitoring worker's gauges: the early warnings still open, per county and level; the payouts whose
deposit top-up or fund advance is still outstanding, per county and source, and the yuan outstanding."""

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


# A payout approved (or paid) and not settled owes its deposit's top-up (source `deposit`) or its advance's
# recovery (`emergency_fund`): what the money moved says how much.
_OUTSTANDING = (
    "SELECT p.county, p.source, count(*) AS payouts, sum(p.amount - coalesce(s.settled, 0)) AS outstanding "
    "FROM payouts p LEFT JOIN (SELECT payout_id, sum(amount) AS settled FROM fund_movements "
    "WHERE kind IN ('deposit_topped_up', 'fund_recovered') GROUP BY payout_id) s USING (payout_id) "
    "WHERE p.stage IN ('approved', 'paid') GROUP BY p.county, p.source ORDER BY p.county, p.source"
)


def measure_payouts(conn: Any) -> list[GaugeMetricFamily]:
    payouts = GaugeMetricFamily(
        "anxin_payouts_outstanding",
        "Payouts whose deposit top-up (source deposit) or fund advance (emergency_fund) is still outstanding",
        labels=["county", "source"],
    )
    amounts = GaugeMetricFamily(
        "anxin_payouts_outstanding_yuan",
        "Yuan of deposit top-ups (source deposit) or fund advances (emergency_fund) still outstanding",
        labels=["county", "source"],
    )
    for row in conn.execute(_OUTSTANDING).fetchall():
        payouts.add_metric([row["county"], row["source"]], float(row["payouts"]))
        amounts.add_metric([row["county"], row["source"]], float(row["outstanding"]))
    return [payouts, amounts]


def measure(conn: Any) -> list[GaugeMetricFamily]:
    """Every gauge of the monitoring worker, in one scrape."""
    return [*measure_warnings(conn), *measure_payouts(conn)]
