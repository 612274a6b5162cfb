"""Gauges read from a service's own tables when Prometheus scrapes, cached for a moment.

One grouped query per scrape at most every `cache_seconds`, so that several scrapers (or a dashboard
refreshing fast) cost the database one query, not one each. When the query fails the scrape leaves those
gauges out rather than reporting stale or zero values, and the reason is logged at debug level.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector
from psycopg_pool import ConnectionPool

log = logging.getLogger(__name__)

Measure = Callable[[Any], list[GaugeMetricFamily]]


class QueryGauges(Collector):
    """Runs `measure(connection)` from `pool` on scrape, at most every `cache_seconds`."""

    def __init__(self, pool: ConnectionPool, measure: Measure, *, cache_seconds: float = 10.0) -> None:
        self._pool = pool
        self._measure = measure
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._families: list[GaugeMetricFamily] = []
        self._measured_at: float | None = None

    def describe(self) -> list[GaugeMetricFamily]:
        # Nothing up front: registering must not query the database (the default registry would call
        # collect() to learn the names otherwise).
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            if self._measured_at is None or time.monotonic() - self._measured_at >= self._cache_seconds:
                try:
                    with self._pool.connection(timeout=5) as conn:
                        self._families = self._measure(conn)
                except Exception:
                    log.debug("gauges unavailable", exc_info=True)
                    self._families = []
                self._measured_at = time.monotonic()
            families = list(self._families)
        yield from families


def dead_letters_measure(schema: str, consumers: list[str]) -> Measure:
    """`anxin_dead_letters{schema,consumer}`: events set aside in `schema`'s `dead_letters` table and not
    redelivered yet. Unlike the consumers' `anxin_consumer_dead_letters_total` (this process's count since it
    started), it survives restarts and falls back to 0 once `anxin redeliver` has taken the events, so an alert
    on it stays firing exactly while something waits for an operator. `consumers` are reported at 0 when they
    have nothing set aside, so a dashboard shows a line rather than no data."""

    def measure(conn: Any) -> list[GaugeMetricFamily]:
        waiting = GaugeMetricFamily(
            "anxin_dead_letters",
            "Events set aside as dead letters and not redelivered, per consumer",
            labels=["schema", "consumer"],
        )
        counts = dict.fromkeys(consumers, 0)
        for row in conn.execute("SELECT consumer, count(*) AS letters FROM dead_letters GROUP BY consumer"):
            counts[row["consumer"]] = int(row["letters"])
        for consumer, letters in sorted(counts.items()):
            waiting.add_metric([schema, consumer], float(letters))
        return [waiting]

    return measure


def register_query_gauges(pool: ConnectionPool, measure: Measure, *, cache_seconds: float = 10.0) -> QueryGauges:
    collector = QueryGauges(pool, measure, cache_seconds=cache_seconds)
    REGISTRY.register(collector)
    return collector
