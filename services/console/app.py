"""The console's app: settings, what the pages share (`Console`), the pages mounted, and `main` (see the
package's docstring for what it is; the pages are in `pages/`, what they share in `web.py`)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from pydantic import Field

from services.common.crypto import FieldCipher, KeyConfigError
from services.common.data_keys import KeyPurpose
from services.common.db import open_async_pool
from services.common.health import health_router
from services.common.logs import configure_logging
from services.common.middleware import install_edge
from services.common.runner import serve
from services.common.service import prepare_named_schema
from services.common.settings import CommonSettings
from services.console.clients import Refused, TokenExpired
from services.console.pages import (
    agencies,
    approvals,
    case_actions,
    case_decisions,
    case_payouts,
    cases,
    city_office,
    funds,
    handoffs,
    listing_decisions,
    payouts,
    projects,
    public,
    queue,
    referrals,
    registers,
    sign_in,
)
from services.console.session_store import MIGRATIONS, SCHEMA, PostgresSessionStore
from services.console.sessions import MemorySessionStore, SessionStore
from services.console.web import HERE, SignInNeeded, page, to_sign_in
from services.contracts.lifecycle.configuration import CalendarConfig
from services.contracts.working_days import WorkingCalendar

PROCESS_NAME = "console"
DEFAULT_PORT = 8006
PAGES = (
    sign_in,
    queue,
    cases,
    case_actions,
    case_decisions,
    case_payouts,
    registers,
    agencies,
    handoffs,
    referrals,
    city_office,
    approvals,
    listing_decisions,
    projects,
    payouts,
    funds,
    public,
)

log = logging.getLogger(__name__)


class ConsoleSettings(CommonSettings):
    http_host: str = Field("127.0.0.1", alias="ANXIN_HTTP_HOST")
    http_port: int = Field(DEFAULT_PORT, alias="ANXIN_HTTP_PORT")
    # Forms carry files (a photographed receipt for the order's service, a department's answer): room for one
    # file of intake's evidence limit (10 MiB) and the form around it.
    max_request_bytes: int = Field(11 * 1024 * 1024, alias="ANXIN_MAX_REQUEST_BYTES", ge=1024)
    intake_url: str = Field("http://127.0.0.1:8001", alias="ANXIN_INTAKE_URL")
    cases_url: str = Field("http://127.0.0.1:8002", alias="ANXIN_CASES_URL")
    referrals_url: str = Field("http://127.0.0.1:8003", alias="ANXIN_REFERRALS_URL")
    sanctions_url: str = Field("http://127.0.0.1:8004", alias="ANXIN_SANCTIONS_URL")
    monitoring_url: str = Field("http://127.0.0.1:8007", alias="ANXIN_MONITORING_URL")
    # The console's own registered client (role `console`): it may only ask for a signed-in person's token.
    client_id: str = Field("console", alias="ANXIN_CONSOLE_CLIENT_ID")
    client_secret: str = Field("", alias="ANXIN_CONSOLE_CLIENT_SECRET", repr=False)
    # A session ends after this long without a request (or when the person's token expires, if sooner).
    idle_seconds: int = Field(30 * 60, alias="ANXIN_CONSOLE_IDLE_SECONDS", ge=1)
    # The sessions are in DATABASE_URL's `console` schema: migrated at start, or (a runtime role that may not,
    # after `anxin migrate`) only checked to be current.
    migrate_on_start: bool = Field(True, alias="ANXIN_MIGRATE_ON_START")


def _first(urls: str) -> str:
    # The cluster profile lists replicas (`a,b`); the console asks the first.
    return urls.split(",")[0].strip().rstrip("/")


class Console:
    """What the pages share: settings, sessions, the HTTP client, the services' addresses, the calendar of the
    countdowns."""

    def __init__(self, settings: ConsoleSettings, sessions: SessionStore | None = None) -> None:
        if not settings.token_issuer_url or not settings.client_secret:
            raise SystemExit(
                "ANXIN_TOKEN_ISSUER_URL and ANXIN_CONSOLE_CLIENT_SECRET must be set: the console "
                "signs people in through the token issuer, as its own client"
            )
        self.settings = settings
        self.issuer_url = _first(settings.token_issuer_url)
        self.intake_url = _first(settings.intake_url)
        self.cases_url = _first(settings.cases_url)
        self.referrals_url = _first(settings.referrals_url)
        self.sanctions_url = _first(settings.sanctions_url)
        self.monitoring_url = _first(settings.monitoring_url)
        self.sessions: SessionStore = (
            sessions if sessions is not None else PostgresSessionStore(settings.idle_seconds, _token_cipher(settings))
        )
        self.calendar = WorkingCalendar(CalendarConfig())
        self.http: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        assert self.http is not None
        return self.http


def _token_cipher(settings: ConsoleSettings) -> FieldCipher:
    try:
        return settings.cipher(KeyPurpose.CONSOLE)
    except KeyConfigError as error:
        raise SystemExit(f"{error}: the console seals the signed-in people's tokens in its sessions with it") from None


def create_app(settings: ConsoleSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """The console; `transport` stands in for the network in the unit tests, whose sessions are then kept in
    memory (no database)."""
    console = Console(settings, MemorySessionStore(settings.idle_seconds) if transport is not None else None)
    stored = console.sessions if isinstance(console.sessions, PostgresSessionStore) else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if stored is not None:
            prepare_named_schema(SCHEMA, MIGRATIONS, settings.database_url, migrate_on_start=settings.migrate_on_start)
            stored.pool = await open_async_pool(settings.database_url, SCHEMA, min_size=1, max_size=4)
        try:
            async with httpx.AsyncClient(timeout=15, transport=transport) as http:
                console.http = http
                yield
        finally:
            if stored is not None and stored.pool is not None:
                await stored.pool.close()

    app = FastAPI(
        title="安薪 · 工作台", version="1", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    install_edge(app, PROCESS_NAME, settings.data_dir, max_request_bytes=settings.max_request_bytes)
    app.state.settings = settings
    app.state.console = console
    app.state.nav = [item for module in PAGES for item in module.NAV]
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # Ready when PostgreSQL answers: every page but the sign-in form reads a session.
    app.include_router(health_router(PROCESS_NAME, {"postgresql": stored.ready} if stored is not None else {}))
    for module in PAGES:
        app.include_router(module.router)

    @app.exception_handler(SignInNeeded)
    async def sign_in_needed(_: Request, needed: SignInNeeded) -> Response:
        return to_sign_in(expired=needed.expired)

    @app.exception_handler(Refused)
    async def refused(request: Request, refusal: Refused) -> Response:
        # A page whose service refused the person (a role it does not serve): say so, never a server error.
        session = getattr(request.state, "session", None)
        forbidden = refusal.status == 403
        return page(
            request,
            "refused.html",
            {"session": session, "message": refusal.message, "forbidden": forbidden},
            status_code=refusal.status,
        )

    @app.exception_handler(TokenExpired)
    async def token_expired(request: Request, _: TokenExpired) -> Response:
        # A service refused the person's token (expired, or its key rotated away): sign in again.
        session = getattr(request.state, "session", None)
        if session is not None:
            await console.sessions.close(session.session_id)
        return to_sign_in(expired=True)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.console")
    parser.add_argument("process", choices=["api"], help="the console's one process")
    parser.parse_args()
    settings = ConsoleSettings()
    configure_logging(PROCESS_NAME, settings.log_level)
    serve(create_app(settings), host=settings.http_host, port=settings.http_port)
