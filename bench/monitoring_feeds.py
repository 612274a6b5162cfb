"""`make bench`'s monthly feeds (bench/run.py): a month of payroll and attendance files for every project
(bench/monitoring_projects.py) imported through the monitoring service's real path — `POST
/v1/projects/{id}/payroll|attendance/{yyyy-mm}` on its API: each row read, its ID number checked and turned into
the keyed reference, the month's feed, its workers, its audit row and its event written in one transaction —
against the raw baseline of the same rows written with PostgreSQL `COPY` into a plain table, in the same run on
the same PostgreSQL, at the same concurrency, one file a transaction.

Throughput is in workers a second (the month's workers, each on both files) and files a second; beside it the
peak resident memory of the monitoring API's process while it imports, against the same process idle before.
"""

from __future__ import annotations

import threading
import uuid
from types import TracebackType

import httpx
import psutil
import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from bench.measures import Figure, load
from bench.monitoring_projects import FeedFile, MonitoredProjects, feed_files
from deploy.stack import Stack

MIB = 1024 * 1024
# The raw tables: the files' own columns, nothing checked, nothing derived.
RAW_TABLES = {
    "payroll": "(id_number text, name text, amount numeric)",
    "attendance": "(id_number text, name text, days numeric)",
}
RAW_COLUMNS = {"payroll": "(id_number, name, amount)", "attendance": "(id_number, name, days)"}


class PeakMemory:
    """A process's resident set size, sampled in a thread while the block runs: its peak, and its size before."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.before = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakMemory:
        self.before = self.peak = self.process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(
        self, _kind: type[BaseException] | None, _error: BaseException | None, _trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(5)
        self.peak = max(self.peak, self.process.memory_info().rss)


async def bench_feed_import(
    stack: Stack, token: str, projects: MonitoredProjects, workers: int, concurrency: int
) -> list[Figure]:
    """The month's feeds of `projects` for `workers` workers, imported, beside the same rows `COPY`ed."""
    files = list(feed_files(projects, workers))
    projects.workers_per_project = workers // len(projects.project_ids)
    month_workers = sum(f.workers for f in files) // 2  # each worker is on both of their project's files
    raw_rate = await copy_files(stack.postgres.database_url("anxin"), files, concurrency)

    api = stack.processes["monitoring-api"]
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=api.url, headers=headers, timeout=300, limits=httpx.Limits(max_connections=concurrency)
    ) as http:

        async def post(i: int) -> None:
            feed = files[i]
            answer = await http.post(
                f"/v1/projects/{feed.project_id}/{feed.kind}/{projects.month_text}",
                files={"file": (f"{feed.kind}.csv", feed.data, "text/csv")},
            )
            # Stored, not refused or found the same: the bench measures the path that writes.
            assert answer.status_code == 200 and answer.json()["outcome"] == "received", answer.text

        assert api.process is not None, "the monitoring API runs outside this stack: its memory cannot be read"
        with PeakMemory(api.process.pid) as memory:
            rate, _latencies = await load(post, len(files), concurrency)
    per_file = month_workers / len(files)
    size = f"{len(projects.project_ids):,} projects, {month_workers:,} workers"
    return [
        Figure(
            "feeds import",
            "workers/s",
            rate * per_file,
            raw_rate * per_file,
            f"{size}, payroll + roster, concurrency {concurrency}; vs COPY of the same rows",
        ),
        Figure("feeds import files", "files/s", rate, raw_rate, f"{len(files):,} files, one a transaction"),
        Figure(
            "monitoring API peak memory",
            "MiB",
            memory.peak / MIB,
            memory.before / MIB,
            "resident, peak while importing vs idle before",
        ),
    ]


async def copy_files(database_url: str, files: list[FeedFile], concurrency: int) -> float:
    """The raw baseline: each file's rows `COPY`ed as they are into a plain table of a schema of its own (dropped
    afterwards), one transaction a file, `concurrency` at once; files a second."""
    schema = sql.Identifier(f"bench_feeds_{uuid.uuid4().hex[:8]}")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
        for kind, columns in RAW_TABLES.items():
            conn.execute(sql.SQL("CREATE TABLE {}.{} " + columns).format(schema, sql.Identifier(kind)))
    statements = {
        kind: sql.SQL("COPY {}.{} " + RAW_COLUMNS[kind] + " FROM STDIN WITH (FORMAT csv, HEADER true)").format(
            schema, sql.Identifier(kind)
        )
        for kind in RAW_TABLES
    }
    pool = AsyncConnectionPool(database_url, min_size=concurrency, max_size=concurrency, open=False)
    await pool.open(wait=True)
    try:

        async def copy(i: int) -> None:
            feed = files[i]
            async with pool.connection() as conn, conn.cursor() as cur, cur.copy(statements[feed.kind]) as rows:
                await rows.write(feed.data)

        rate, _latencies = await load(copy, len(files), concurrency)
    finally:
        await pool.close()
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(schema))
    return rate
