"""Attacks on the token endpoint's secret checks, each refused (docs/security.md): an unknown client id that
would cost less than a known one (telling which exist), checks that would run on the event loop, a pool that
would queue without bound, guessing from one address or at one client id; the live flood against the running
issuer is tests/security/test_token_endpoint.py."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.common import client_secrets
from services.common.auth import (
    ClientRegistry,
    RegisteredClient,
    Role,
    hash_secret,
    verify_secret,
)
from services.common.token_endpoint import FailureCounter, SecretChecks, TokenEndpointLimits, address_key
from services.common.token_keys import TokenIssuer
from tests.support.token_apps import (
    asgi_client,
    new_issuer,
    service_app,
    token_form,
)


@pytest.fixture
def issuer() -> TokenIssuer:
    return new_issuer()


def test_an_unknown_client_id_costs_one_scrypt_like_a_known_one(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = ClientRegistry([RegisteredClient("police", hash_secret("pw"), Role.police)])
    calls: list[int] = []
    real = hashlib.scrypt
    monkeypatch.setattr(client_secrets.hashlib, "scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert registry.authenticate("nobody", "pw") is None
    assert registry.authenticate("police", "wrong") is None
    assert len(calls) == 2


async def test_secret_checks_run_in_their_own_threads() -> None:
    registry = ClientRegistry([RegisteredClient("police", hash_secret("pw"), Role.police)])
    threads: list[str] = []

    def verify(secret: str, stored: str) -> bool:
        threads.append(threading.current_thread().name)
        return verify_secret(secret, stored)

    checks = SecretChecks(registry, workers=1, queue=0, verify=verify)
    try:
        assert await checks.check("police", "pw") == registry.authenticate("police", "pw")
        assert await checks.check("police", "wrong") is None and await checks.check("nobody", "pw") is None
    finally:
        checks.close()
    assert len(threads) == 3 and all(name.startswith("client-secret-check") for name in threads)


async def test_a_full_pool_refuses_at_once_and_the_event_loop_stays_free(issuer: TokenIssuer) -> None:
    registry = ClientRegistry([RegisteredClient("police", hash_secret("pw"), Role.police)])
    app = service_app(issuer, registry)
    release = threading.Event()

    def slow_verify(secret: str, stored: str) -> bool:
        release.wait(10)
        return verify_secret(secret, stored)

    # A thread pool stands in for the processes here, so the test can hold the checks until it releases them.
    app.state.token_endpoint.checks = SecretChecks(
        registry, 1, 1, executor=lambda: ThreadPoolExecutor(1), verify=slow_verify
    )

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    async with asgi_client(app) as http:
        pending = [asyncio.create_task(http.post("/oauth/token", data=token_form("police", "pw"))) for _ in range(2)]
        await asyncio.sleep(0.2)
        # Both admitted requests are checked (one running, one waiting): the loop still answers at once …
        started = time.monotonic()
        assert (await http.get("/ping")).text == '"pong"'
        # … and a third request is refused without waiting.
        busy = await http.post("/oauth/token", data=token_form("police", "pw"))
        assert time.monotonic() - started < 0.5
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert busy.headers["content-type"] == "application/problem+json"
        release.set()
        assert [r.status_code for r in await asyncio.gather(*pending)] == [200, 200]


async def test_failures_from_one_address_or_for_one_client_are_limited(issuer: TokenIssuer) -> None:
    registry = ClientRegistry([RegisteredClient("police", hash_secret("pw"), Role.police)])
    app = service_app(issuer, registry, limits=TokenEndpointLimits(failures_per_address=3, failures_per_client=5))
    async with asgi_client(app, "198.51.100.1") as attacker:
        codes = [
            (await attacker.post("/oauth/token", data=token_form(f"guess-{i}", "x"))).status_code for i in range(4)
        ]
        assert codes == [401, 401, 401, 429]
        # Limited before any check: even the right secret, from this address, waits for the window.
        limited = await attacker.post("/oauth/token", data=token_form("police", "pw"))
        assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json()["type"].endswith("rate-limited")
    # Guesses at one client's secret spread over addresses: limited per client id.
    for i in range(5):
        async with asgi_client(app, f"192.0.2.{i}") as http:
            assert (await http.post("/oauth/token", data=token_form("police", "wrong"))).status_code == 401
    async with asgi_client(app, "192.0.2.200") as http:
        assert (await http.post("/oauth/token", data=token_form("police", "pw"))).status_code == 429
        # Another client from a clean address is not affected.
        assert (await http.post("/oauth/token", data=token_form("guest", "x"))).status_code == 401


def test_the_failure_counter_forgets_after_its_window_and_stays_bounded() -> None:
    now = [1000.0]
    counter = FailureCounter(2, 60, max_keys=3, clock=lambda: now[0])
    counter.fail("a")
    counter.fail("a")
    assert counter.retry_after("a") == 60
    now[0] += 45
    assert counter.retry_after("a") == 15
    now[0] += 16
    assert counter.retry_after("a") is None
    for key in ("b", "c", "d", "e"):
        counter.fail(key)
        counter.fail(key)
    assert counter.retry_after("b") is None and counter.retry_after("e") == 60


def test_an_ipv6_host_is_counted_by_its_64() -> None:
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("203.0.113.7") == "203.0.113.7" and address_key(None) == "unknown"
