"""Liveness (`/healthz`) and readiness (`/readyz`) for every process.

`/readyz` is 200 only when every engine this process needs answers right now; otherwise 503 naming the
engine that is not ready. Checks run on each call (with short timeouts and small caches), so readiness
follows an engine going away and coming back without restarting anything.

The probe is public (the launcher, Kubernetes and load balancers call it without a token), so its body
says only which engine is not ready, with a fixed reason: an engine's error text names hosts, ports,
users and versions. The detail goes to the process's log, once per change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool, ConnectionPool
from temporalio.client import Client

from services.common.kafka import KafkaProbe

# A check returns None when healthy, or the reason it is not.
Check = Callable[[], Awaitable[str | None]]

CHECK_TIMEOUT_SECONDS = 3.0

# What `/readyz` says of a check that fails; the check's own reason goes to the log only.
PUBLIC_REASONS = {
    "postgresql": "postgresql unreachable",
    "kafka": "kafka unreachable",
    "temporal": "temporal unreachable",
}

log = logging.getLogger(__name__)


def public_reason(name: str) -> str:
    return PUBLIC_REASONS.get(name, f"{name} not ready")


def database_check(pool: AsyncConnectionPool | ConnectionPool) -> Check:
    async def check() -> str | None:
        try:
            if isinstance(pool, AsyncConnectionPool):
                async with pool.connection(timeout=CHECK_TIMEOUT_SECONDS) as conn:
                    await conn.execute("SELECT 1")
            else:

                def _sync() -> None:
                    with pool.connection(timeout=CHECK_TIMEOUT_SECONDS) as conn:
                        conn.execute("SELECT 1")

                await asyncio.to_thread(_sync)
            return None
        except Exception as exc:
            return f"postgresql unreachable: {type(exc).__name__}: {exc}"

    return check


def kafka_check(probe: KafkaProbe) -> Check:
    async def check() -> str | None:
        return await asyncio.to_thread(probe.check)

    return check


def temporal_check(client: Callable[[], Client | None]) -> Check:
    async def check() -> str | None:
        current = client()
        if current is None:
            return "temporal client not connected yet"
        try:
            await asyncio.wait_for(current.service_client.check_health(), CHECK_TIMEOUT_SECONDS)
            return None
        except Exception as exc:
            return f"temporal unreachable: {type(exc).__name__}: {exc}"

    return check


def status_check(reason: Callable[[], str | None]) -> Check:
    """A check over a component's own status (e.g. the relay loop's last error)."""

    async def check() -> str | None:
        return reason()

    return check


def health_router(service: str, checks: dict[str, Check]) -> APIRouter:
    router = APIRouter(tags=["health"])
    last_logged: dict[str, str | None] = {}

    @router.get("/healthz", summary="Liveness: the process is up")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "service": service}

    @router.get(
        "/readyz",
        summary="Readiness: every engine this process needs is reachable",
        responses={503: {"description": "Not ready; `checks` names the engine (a fixed reason: the detail is logged)"}},
    )
    async def readyz() -> JSONResponse:
        names = list(checks)
        results = await asyncio.gather(*(checks[n]() for n in names))
        for name, reason in zip(names, results, strict=True):
            if reason != last_logged.get(name):
                last_logged[name] = reason
                if reason is None:
                    log.info("readiness: %s ok again", name)
                else:
                    log.warning("readiness: %s not ready: %s", name, reason)
        report = {n: ("ok" if r is None else public_reason(n)) for n, r in zip(names, results, strict=True)}
        ready = all(r is None for r in results)
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "service": service, "checks": report},
            status_code=200 if ready else 503,
        )

    return router
