"""Attacks on tracking codes, performed on the real stack and refused (docs/security.md lists them):

- guessing a complaint's tracking code through the public status look-ups (about 40 bits), from one address;
- reading the codes back from a copy of the complaints table by hashing every possible code.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest

from deploy.stack import Stack
from tests.support.factories import ComplaintTemplate, seed

CODES = ComplaintTemplate(
    employer_name="邯郸市查询码测试劳务有限公司",
    project_name="查询码测试安置房项目",
    period=("2026-05-01", "2026-08-31"),
    description="五月到八月在该项目干活，工资一直没有结清。",
    phone_prefix="135",
    credit_series="ME",
)
PER_IP, PER_COMPLAINT = 30, 10  # the settings' defaults (services/intake/settings.py)


def _sql(stack: Stack, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(stack.postgres.service_url("intake"), options="-c search_path=intake") as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def _forget_lookups(stack: Stack) -> None:
    _sql(stack, "DELETE FROM rate_windows WHERE bucket LIKE 'lookup-%%'")


@pytest.fixture
def lookups(stack: Stack, client: Callable[[str, str | None], httpx.Client]) -> Iterator[httpx.Client]:
    """The public client; the look-up limits of this address are cleared before and after (the whole suite
    looks complaints up from 127.0.0.1)."""
    _forget_lookups(stack)
    yield client("intake-api", None)
    _forget_lookups(stack)


def _wrong_code() -> str:
    return "ZZZZ-" + uuid.uuid4().hex[:4].upper().replace("0", "2").replace("1", "3")


def test_tracking_codes_are_keyed_and_guessing_them_is_rate_limited(
    stack: Stack, lookups: httpx.Client, client: Callable[[str, str | None], httpx.Client]
) -> None:
    clerk = client("intake-api", "clerk-130402")
    filed = [clerk.post("/v1/complaints", json=CODES.body(seed())).json() for _ in range(2)]
    (target, code), (legacy, legacy_code) = ((f["complaint_id"], f["tracking_code"]) for f in filed)

    # At rest: an HMAC under the deployment's key, not a hash anyone can compute from a guess.
    [(mac, plain)] = _sql(
        stack, "SELECT tracking_code_mac, tracking_code_hash FROM complaints WHERE complaint_id = %s", target
    )
    assert plain is None and mac
    assert mac not in {hashlib.sha256(c.encode()).hexdigest() for c in (code, "anxin-tracking:" + code)}
    assert lookups.get(f"/v1/complaints/{target}", headers={"X-Tracking-Code": code}).status_code == 200
    # A complaint filed before the HMAC (its plain hash only) is still found with its code.
    _sql(
        stack,
        "UPDATE complaints SET tracking_code_mac = NULL, tracking_code_hash = %s WHERE complaint_id = %s",
        hashlib.sha256(("anxin-tracking:" + legacy_code).encode()).hexdigest(),
        legacy,
    )
    assert lookups.get(f"/v1/complaints/{legacy}", headers={"X-Tracking-Code": legacy_code}).status_code == 200
    assert lookups.get(f"/v1/complaints/{legacy}", headers={"X-Tracking-Code": _wrong_code()}).status_code == 404
    _forget_lookups(stack)

    # The attack, on one complaint: its wrong codes are limited, then even the right code is refused.
    guesses = [
        lookups.get(f"/v1/complaints/{target}", headers={"X-Tracking-Code": _wrong_code()}).status_code
        for _ in range(PER_COMPLAINT)
    ]
    assert guesses == [404] * PER_COMPLAINT
    refused = lookups.get(f"/v1/complaints/{target}", headers={"X-Tracking-Code": code})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    page = lookups.post("/status", data={"complaint_id": target, "tracking_code": code})
    assert page.status_code == 429 and "查询码错误次数过多" in page.text

    # The attack, across complaints from one address: the address is limited too.
    spread = []
    for _ in range(PER_IP - PER_COMPLAINT + 1):
        spread.append(
            lookups.post(
                "/status",
                data={"complaint_id": f"TS-20261101-{uuid.uuid4().hex[:6].upper()}", "tracking_code": _wrong_code()},
            ).status_code
        )
    assert spread == [404] * (PER_IP - PER_COMPLAINT) + [429], spread
    other = lookups.get(f"/v1/complaints/{legacy}", headers={"X-Tracking-Code": legacy_code})
    assert other.status_code == 429
