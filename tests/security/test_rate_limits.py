"""Attacks on the abuse limits, performed on the real stack and refused (docs/security.md lists them):

concurrent requests past a limit — each used to count the hits, see the count below the limit and then add
its own, so a burst sent at once got through whole — and a counter table that only ever grows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg
import pytest

from deploy.stack import Stack
from tests.support.factories import ComplaintTemplate, seed

BURSTS = ComplaintTemplate(
    employer_name="邯郸市限流测试劳务有限公司",
    project_name="限流测试安置房项目",
    period=("2026-05-01", "2026-08-31"),
    description="五月到八月在该项目干活，工资一直没有结清。",
    phone_prefix="134",
    credit_series="MF",
)
LIMIT = 10


def _sql(stack: Stack, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(stack.postgres.service_url("intake"), options="-c search_path=intake") as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def limited_intake(stack: Stack, client: Callable[[str, str | None], httpx.Client]) -> Iterator[Stack]:
    """intake-api with a per-phone limit of LIMIT complaints a day, restored afterwards."""

    def restart(**env: str) -> None:
        stack.stop_process("intake-api")
        spec = stack.spec("intake-api")
        spec.env.update(env)
        stack.start_process(spec)
        stack.wait_process_ready(spec, 60)

    restart(INTAKE_COMPLAINTS_PER_PHONE_PER_DAY=str(LIMIT))
    try:
        yield stack
    finally:
        restart()


def test_a_burst_of_concurrent_complaints_gets_exactly_the_limit_through(
    limited_intake: Stack, client: Callable[[str, str | None], httpx.Client]
) -> None:
    clerk = client("intake-api", "clerk-130402")
    phone = BURSTS.body(seed())["phone"]
    bodies = [BURSTS.body(seed(), phone=phone) for _ in range(3 * LIMIT)]

    def file(body: dict[str, Any]) -> int:
        with httpx.Client(base_url=str(clerk.base_url), headers=dict(clerk.headers), timeout=60) as own:
            return own.post("/v1/complaints", json=body).status_code

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        statuses = Counter(pool.map(file, bodies))
    assert statuses == {201: LIMIT, 429: 2 * LIMIT}, statuses

    # A window that has expired is deleted by the next request that counts a hit.
    _sql(
        limited_intake,
        "INSERT INTO rate_windows (bucket, window_start, expires_at, hits) "
        "VALUES ('test:expired', now() - interval '2 hours', now() - interval '1 hour', 3)",
    )
    assert clerk.post("/v1/complaints", json=BURSTS.body(seed())).status_code == 201
    assert _sql(limited_intake, "SELECT 1 FROM rate_windows WHERE bucket = 'test:expired'") == []
    assert _sql(limited_intake, "SELECT count(*) FROM rate_windows WHERE expires_at < now()") == [(0,)]
