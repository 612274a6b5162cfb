"""Running a process: an API under uvicorn, or background components beside a small health endpoint.

Every process, API or not, answers `/healthz` and `/readyz` on its own port, so the launcher and
operators can see each one's state the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

import uvicorn
from fastapi import FastAPI

from services.common.health import Check, health_router
from services.common.telemetry import metrics_router

log = logging.getLogger(__name__)


class Component(Protocol):
    """A long-running loop in its own thread (relay, consumer): `run()` until `stop()`."""

    def run(self) -> None: ...

    def stop(self) -> None: ...


# uvicorn's pure-Python HTTP/1.1 parser, even where httptools is installed: with httptools uvicorn drops the
# body of a request offering an upgrade to HTTP/2 (`Connection: Upgrade`, `Upgrade: h2c`), which Java's
# HttpClient sends on every cleartext request by default, so the Java client's complaints arrived empty
# (Kludex/uvicorn#2722; tests/integration/test_java_client.py). The event loop is uvloop when installed.
HTTP_PARSER = "h11"


def serve(app: FastAPI, *, host: str, port: int) -> None:
    # Loopback only by default; log_config=None keeps our JSON logging in charge.
    uvicorn.run(app, host=host, port=port, http=HTTP_PARSER, log_config=None, access_log=False, lifespan="on")


def run_components(
    *,
    process_name: str,
    components: Sequence[Component],
    checks: dict[str, Check],
    host: str,
    port: int,
) -> None:
    """Run `components` in threads while serving health on `port`; stop them all on SIGTERM/SIGINT."""
    threads = [
        threading.Thread(target=c.run, name=f"{process_name}-{i}", daemon=True) for i, c in enumerate(components)
    ]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for thread in threads:
            thread.start()
        log.info("components started", extra={"count": len(threads)})
        yield
        for component in components:
            component.stop()
        for thread in threads:
            thread.join(timeout=10)
        log.info("components stopped")

    app = FastAPI(title=process_name, docs_url=None, redoc_url=None, lifespan=lifespan)
    app.include_router(health_router(process_name, checks))
    app.include_router(metrics_router())
    serve(app, host=host, port=port)


async def serve_health_while(
    *,
    process_name: str,
    checks: dict[str, Check],
    host: str,
    port: int,
    main: Callable[[asyncio.Event], Coroutine[Any, Any, None]],
) -> None:
    """Run an asyncio process (a Temporal worker) and its health endpoint in one event loop.

    `main(stop)` runs until `stop` is set; SIGTERM/SIGINT (handled by uvicorn) set it, and the health server
    keeps answering until `main` has finished its graceful shutdown.
    """
    app = FastAPI(title=process_name, docs_url=None, redoc_url=None)
    app.include_router(health_router(process_name, checks))
    app.include_router(metrics_router())
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, http=HTTP_PARSER, log_config=None, access_log=False)
    )
    stop = asyncio.Event()
    serving = asyncio.create_task(server.serve())
    try:
        main_task = asyncio.create_task(main(stop))
        await asyncio.wait({serving, main_task}, return_when=asyncio.FIRST_COMPLETED)
        stop.set()  # the server stopped (a signal) or main ended: either way, wind down
        await main_task
    finally:
        server.should_exit = True
        await serving


class TemporalWorkerComponent:
    """A Component hosting a service's own Temporal worker in a thread with its own event loop.

    It connects, lets the subclass build and run its worker (`serve`) until `stop` is set, and while
    Temporal is away keeps retrying with a growing pause; `last_error` says why it is not polling (for
    the process's readiness check). Subclasses call `mark_running()` once their worker polls.
    """

    description = "temporal worker"

    def __init__(self, settings: Any) -> None:
        self._settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stopped = threading.Event()
        self.last_error: str | None = "not started yet"

    def run(self) -> None:
        asyncio.run(self._main())

    def stop(self) -> None:
        self._stopped.set()
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    def mark_running(self) -> None:
        self.last_error = None

    async def serve(self, client: Any, stop: asyncio.Event) -> None:
        raise NotImplementedError

    async def _main(self) -> None:
        from services.common import temporal

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        backoff = 1.0
        while not self._stopped.is_set():
            try:
                client = await temporal.connect(self._settings)
                await self.serve(client, self._stop)
                return
            except Exception as exc:  # Temporal down at start: keep trying, visibly
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning(f"{self.description} not running, retrying", extra={"error": str(exc)[:300]})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=backoff)
                backoff = min(backoff * 2, 30.0)
