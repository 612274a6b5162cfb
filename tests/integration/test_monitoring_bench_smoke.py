"""The quick version of `make bench`'s monitoring measures: three projects' month of payroll and attendance files
imported through the monitoring API beside the same rows written with COPY (bench/monitoring_feeds.py), then
their monitoring workflows checking the month beside three minimal workflows (bench/monitoring_checks.py).

Each measure ran its real path: every file was stored as the month's feed with all its workers, every project's
workflow checked the month (its deposit warning is raised), and the figures are the ones `make bench` prints."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import psycopg
import pytest

from bench.monitoring_checks import bench_monthly_checks
from bench.monitoring_feeds import bench_feed_import
from bench.monitoring_projects import register_projects
from deploy.stack import Stack
from services.common.settings import CommonSettings
from services.common.temporal import connect

PROJECTS, WORKERS = 3, 31  # 31: one project has a worker more than the others


async def test_the_monitoring_benches_measure_their_real_paths(
    stack: Stack, agency_token: Callable[[str], str]
) -> None:
    await asyncio.to_thread(stack.start_processes, ["issuer-api", "monitoring-api"], timeout=240)
    token = agency_token("city-office")
    projects = await register_projects(stack, token, PROJECTS)
    assert len(set(projects.project_ids)) == PROJECTS

    feeds = await bench_feed_import(stack, token, projects, WORKERS, concurrency=2)
    assert [(f.name, f.unit) for f in feeds] == [
        ("feeds import", "workers/s"),
        ("feeds import files", "files/s"),
        ("monitoring API peak memory", "MiB"),
    ]
    assert all(f.anxin > 0 and f.raw > 0 for f in feeds), feeds
    assert feeds[0].anxin / feeds[1].anxin == pytest.approx(WORKERS / (2 * PROJECTS))  # files/s × workers a file
    with psycopg.connect(stack.postgres.database_url("anxin")) as conn:
        stored = conn.execute(
            "SELECT f.kind, count(DISTINCT f.project_id), count(w.person_ref) FROM monitoring.feeds f "
            "JOIN monitoring.feed_workers w USING (project_id, kind, month) "
            "WHERE f.project_id = ANY(%s) AND f.month = %s GROUP BY f.kind",
            (projects.project_ids, projects.month),
        ).fetchall()
    assert sorted(stored) == [("attendance", PROJECTS, WORKERS), ("payroll", PROJECTS, WORKERS)]

    env = stack.engine_env()
    client = await connect(
        CommonSettings(
            temporal_address=stack.temporal.address,
            payload_keys=env.get("ANXIN_PAYLOAD_KEYS"),
            payload_key_id=env.get("ANXIN_PAYLOAD_KEY_ID"),
        )
    )
    checks = await bench_monthly_checks(stack, client, projects, concurrency=2, patience=300)
    assert [(f.name, f.unit) for f in checks] == [
        (f"monthly checks ({PROJECTS} projects)", "s"),
        ("monthly checks", "checks/s"),
        ("monthly check p50 after the instant", "ms"),
        ("monthly check p95 after the instant", "ms"),
    ]
    assert all(f.anxin > 0 and f.raw > 0 for f in checks), checks
    assert checks[2].anxin <= checks[0].anxin * 1000 and checks[2].raw <= checks[0].raw * 1000
    with psycopg.connect(stack.postgres.database_url("anxin")) as conn:
        raised = conn.execute(
            'SELECT project_id, "check" FROM monitoring.warnings WHERE project_id = ANY(%s) AND month = %s',
            (projects.project_ids, projects.month),
        ).fetchall()
    # The month's feeds are in and paid in line with their days: only the deposit, still required, fails.
    assert sorted(raised) == sorted((project_id, "deposit") for project_id in projects.project_ids)
