"""The token issuer's app and settings (see the package's docstring for why it is a process of its own)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from pydantic import Field

from services.common.crypto import FieldCipher, KeyConfigError
from services.common.data_keys import KeyPurpose
from services.common.db import open_async_pool
from services.common.health import health_router
from services.common.logs import configure_logging
from services.common.middleware import install_edge
from services.common.problems import PROBLEM_RESPONSES, install_problem_handlers
from services.common.runner import serve
from services.common.service import prepare_named_schema
from services.common.settings import CommonSettings
from services.common.token_endpoint import TokenEndpoint, token_router
from services.common.token_keys import AUDIENCES
from services.issuer.accounts import SCHEMA, PeopleDirectory

PROCESS_NAME = "issuer-api"
DEFAULT_PORT = 8005
MIGRATIONS = Path(__file__).parent / "migrations"

log = logging.getLogger(__name__)


class IssuerSettings(CommonSettings):
    http_host: str = Field("127.0.0.1", alias="ANXIN_HTTP_HOST")
    http_port: int = Field(DEFAULT_PORT, alias="ANXIN_HTTP_PORT")
    # A token request is a short form; anything much larger is not one.
    max_request_bytes: int = Field(16 * 1024, alias="ANXIN_MAX_REQUEST_BYTES", ge=1024)
    # How much lower than the services this process runs (nice): where it shares a machine with them, a flood
    # of token requests then takes only the CPU they leave. 0 on a machine (a pod) of its own is as good.
    niceness: int = Field(10, alias="ANXIN_TOKEN_ISSUER_NICENESS", ge=0, le=19)
    # People's accounts (services/issuer/accounts.py) in DATABASE_URL's `issuer` schema, for the console's
    # sign-in. False: client credentials only, and no engine needed (a test of the issuer alone).
    people: bool = Field(True, alias="ANXIN_ISSUER_PEOPLE")
    # As the services' (ServiceSettings): migrate the people's schema at start, or only check it is current.
    migrate_on_start: bool = Field(True, alias="ANXIN_MIGRATE_ON_START")


def create_app(settings: IssuerSettings) -> FastAPI:
    """The issuer: refuses to start without the signing key, the public key set it belongs to, or the clients."""
    verifier = settings.token_verifier(list(AUDIENCES))
    issuer = settings.token_issuer(verifier)
    if issuer is None:
        raise SystemExit("ANXIN_TOKEN_SIGNING_JWK must be set: the token issuer signs every agency token")
    people = PeopleDirectory(_totp_cipher(settings)) if settings.people else None
    endpoint = TokenEndpoint(
        verifier, issuer, settings.client_registry(), settings.token_endpoint_limits(), accounts=people
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if people is not None:
            prepare_named_schema(SCHEMA, MIGRATIONS, settings.database_url, migrate_on_start=settings.migrate_on_start)
            people.pool = await open_async_pool(settings.database_url, SCHEMA, min_size=1, max_size=4)
        try:
            yield
        finally:
            endpoint.close()
            if people is not None and people.pool is not None:
                await people.pool.close()

    app = FastAPI(
        title="Token issuer (令牌签发)",
        version="1",
        lifespan=lifespan,
        description="OAuth2 client credentials for the agencies and the lifecycle worker; the public "
        "keys every service verifies their tokens with.",
    )
    install_edge(app, PROCESS_NAME, settings.data_dir, max_request_bytes=settings.max_request_bytes)
    app.state.settings = settings
    app.state.token_endpoint = endpoint
    # Ready when PostgreSQL answers (people's accounts); the key and the clients are read at start.
    app.include_router(health_router(PROCESS_NAME, {"postgresql": people.ready} if people is not None else {}))
    install_problem_handlers(app)
    app.include_router(token_router(endpoint), responses=PROBLEM_RESPONSES)
    return app


def _totp_cipher(settings: IssuerSettings) -> FieldCipher:
    """The ring people's TOTP secrets are sealed with (services/issuer/accounts.py)."""
    try:
        return settings.cipher(KeyPurpose.ISSUER)
    except KeyConfigError as error:
        raise SystemExit(f"{error}: the issuer opens people's sealed TOTP secrets with it") from None


def lower_priority(niceness: int) -> None:
    """Run this whole process `niceness` steps below the services (threads it starts inherit it)."""
    if niceness:
        with contextlib.suppress(OSError):
            os.nice(niceness)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.issuer")
    parser.add_argument("process", choices=["api"], help="the issuer's one process")
    parser.parse_args()
    settings = IssuerSettings()
    configure_logging(PROCESS_NAME, settings.log_level)
    lower_priority(settings.niceness)
    serve(create_app(settings), host=settings.http_host, port=settings.http_port)
