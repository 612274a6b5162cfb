"""The shape every service shares: one spec, one settings class, three kinds of process.

- `api`: the FastAPI app (thin routes over domain + store), with health, problem details, OpenAPI.
- `relay`: the service's outbox relay to Kafka.
- `worker`: the service's Kafka consumers (inbox) and Temporal activities, when it has any.

`python -m services.<name> api|relay|worker` runs one of them; the launcher starts each as its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from psycopg_pool import AsyncConnectionPool, ConnectionPool
from pydantic import Field
from temporalio.client import Client
from yoyo.exceptions import LockTimeout

from services.common import temporal
from services.common.audit import audit_router
from services.common.db import open_async_pool, open_pool
from services.common.health import (
    Check,
    database_check,
    health_router,
    kafka_check,
    status_check,
    temporal_check,
)
from services.common.kafka import KafkaProbe, new_producer
from services.common.logs import configure_logging
from services.common.middleware import install_edge
from services.common.migrations import apply_migrations, pending_migrations
from services.common.openapi import install_shared_problem_schema
from services.common.problems import PROBLEM_RESPONSES, install_problem_handlers
from services.common.relay import OutboxRelay, register_outbox_metrics
from services.common.runner import Component, run_components, serve
from services.common.settings import CommonSettings
from services.common.telemetry import configure_tracing, temporal_interceptors
from services.common.token_endpoint import TokenEndpoint, token_router

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    title: str
    description: str
    migrations: Path
    api_port: int
    relay_port: int
    worker_port: int
    # What the API process itself needs to serve requests; readiness checks exactly these.
    api_needs_kafka: bool = False
    api_needs_temporal: bool = False
    has_worker: bool = False
    # A service that publishes no events runs no relay; its worker process may go by another name
    # (`python -m services.<name> <worker_process>`).
    has_relay: bool = True
    worker_process: str = "worker"
    openapi_tags: list[dict[str, str]] = field(default_factory=list)

    @property
    def schema(self) -> str:
        return self.name


class ServiceSettings(CommonSettings):
    http_host: str = Field("127.0.0.1", alias="ANXIN_HTTP_HOST")
    # Set by the launcher per process; otherwise the spec's default port for that process kind.
    http_port: int | None = Field(None, alias="ANXIN_HTTP_PORT")
    max_request_bytes: int = Field(1024 * 1024, alias="ANXIN_MAX_REQUEST_BYTES", ge=1024)
    # Apply the schema's migrations at start (development, the tests). Production migrates as a step of its
    # own (`anxin migrate`, with a role that owns the schema) and sets this to false: the process, connected
    # as a runtime role that may not change the schema, then only checks that nothing is pending.
    migrate_on_start: bool = Field(True, alias="ANXIN_MIGRATE_ON_START")


class MigrationsPending(SystemExit):
    """The schema lacks migrations and this process may not apply them: it exits with this message."""

    def __init__(self, schema: str, pending: list[str]) -> None:
        super().__init__(
            f"schema {schema} has {len(pending)} migrations pending: run `anxin migrate` ({', '.join(pending)})"
        )


def prepare_schema(spec: ServiceSpec, settings: ServiceSettings) -> None:
    """Bring the schema up to date (ANXIN_MIGRATE_ON_START), or refuse to start while migrations are pending."""
    prepare_named_schema(
        spec.schema, spec.migrations, settings.database_url, migrate_on_start=settings.migrate_on_start
    )


def prepare_named_schema(schema: str, migrations: Path, database_url: str, *, migrate_on_start: bool) -> None:
    """`prepare_schema` for a process that is not a `ServiceSpec`'s (the token issuer's people)."""
    if migrate_on_start:
        try:
            apply_migrations(database_url, schema, migrations)
            return
        except LockTimeout:
            # yoyo reports a lock row it may not write as a lock held by someone else.
            refusal = SystemExit(
                f"schema {schema}: migration lock not taken within yoyo's wait: another process is migrating, or this "
                "process's role may not migrate (a runtime role: run `anxin migrate`, set ANXIN_MIGRATE_ON_START=false)"
            )
            log.error(str(refusal.code))
            raise refusal from None
    try:
        pending = pending_migrations(database_url, schema, migrations)
    except psycopg.errors.InsufficientPrivilege as exc:
        # The schema (or yoyo's record in it) is not open to this role: its grants come with the migrations.
        refusal = SystemExit(f"schema {schema} is not open to this process's role: run `anxin migrate` ({exc})")
    else:
        if not pending:
            return
        refusal = MigrationsPending(schema, pending)
    log.error(str(refusal.code))
    raise refusal


class TemporalHandle:
    """A Temporal client made lazily: an API starts and serves even while Temporal is still down."""

    def __init__(self, settings: CommonSettings) -> None:
        self._settings = settings
        self.client: Client | None = None

    async def connect(self) -> None:
        self.client = await Client.connect(
            self._settings.temporal_address,
            namespace=self._settings.temporal_namespace,
            data_converter=temporal.settings_converter(self._settings),
            interceptors=temporal_interceptors(),
            tls=temporal.tls_config(self._settings),
            lazy=True,
        )

    def get(self) -> Client | None:
        return self.client

    def require(self) -> Client:
        if self.client is None:
            raise RuntimeError("temporal client not connected")
        return self.client


def operation_id(route: APIRoute) -> str:
    """A route's OpenAPI operationId: its function's name (`file_complaint`), unique within a service, which
    generated clients name their functions after (FastAPI's default appends the path and the method)."""
    return route.name


def create_service_app(
    spec: ServiceSpec,
    settings: ServiceSettings,
    routers: Sequence[APIRouter],
    *,
    on_startup: Callable[[FastAPI], Any] | None = None,
) -> FastAPI:
    """The FastAPI app of a service: schema prepared (`prepare_schema`), pool open, health and problem handlers
    in place."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(prepare_schema, spec, settings)
        app.state.pool = await open_async_pool(settings.database_url, spec.schema)
        if spec.api_needs_temporal:
            await app.state.temporal.connect()
        if on_startup is not None:
            result = on_startup(app)
            if asyncio.iscoroutine(result):
                await result
        yield
        app.state.token_endpoint.close()
        if app.state.kafka_probe is not None:
            app.state.kafka_probe.close()
        await app.state.pool.close()

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version="1",
        lifespan=lifespan,
        openapi_tags=spec.openapi_tags or None,
        generate_unique_id_function=operation_id,
    )
    process_name = f"{spec.name}-api"
    install_edge(app, process_name, settings.data_dir, max_request_bytes=settings.max_request_bytes)
    app.state.settings = settings
    app.state.spec = spec
    app.state.temporal = TemporalHandle(settings)
    app.state.kafka_probe = KafkaProbe(settings) if spec.api_needs_kafka else None

    async def pool_check() -> str | None:
        pool: AsyncConnectionPool | None = getattr(app.state, "pool", None)
        if pool is None:
            return "postgresql pool not open yet"
        return await database_check(pool)()

    checks: dict[str, Check] = {"postgresql": pool_check}
    if spec.api_needs_kafka:
        checks["kafka"] = kafka_check(app.state.kafka_probe)
    if spec.api_needs_temporal:
        checks["temporal"] = temporal_check(app.state.temporal.get)
    app.include_router(health_router(f"{spec.name}-api", checks))
    install_problem_handlers(app)
    # Each service verifies with the published keys, for its own audience, and issues nothing: its /oauth/token
    # names the token issuer (services/issuer), the one process given the signing key.
    verifier = settings.token_verifier([spec.name])
    app.state.token_verifier = verifier
    if settings.token_signing_jwk:
        log.warning(
            "ANXIN_TOKEN_SIGNING_JWK is set for %s-api, which does not issue tokens: give it to the token "
            "issuer alone (python -m services.issuer api)",
            spec.name,
        )
    endpoint = TokenEndpoint(verifier, issuer_url=settings.token_issuer_url)
    app.state.token_endpoint = endpoint
    # Every router, the token endpoint and the audit trail included: each 4xx is a problem document.
    for router in [token_router(endpoint), audit_router(), *routers]:
        app.include_router(router, responses=PROBLEM_RESPONSES)
    install_shared_problem_schema(app)
    return app


def run_relay(spec: ServiceSpec, settings: ServiceSettings) -> None:
    prepare_schema(spec, settings)
    relay = OutboxRelay(
        database_url=settings.database_url,
        schema=spec.schema,
        producer_factory=lambda: new_producer(settings, client_id=f"{spec.name}-relay"),
        gather_seconds=settings.relay_gather_ms / 1000,
    )
    probe = KafkaProbe(settings)
    pool: ConnectionPool = open_pool(settings.database_url, spec.schema, max_size=2)

    def relay_state() -> str | None:
        if relay.status.last_error:
            return f"relay failing: {relay.status.last_error}"
        return None

    checks: dict[str, Check] = {
        "postgresql": database_check(pool),
        "kafka": kafka_check(probe),
        "relay": status_check(relay_state),
    }
    register_outbox_metrics(relay)
    run_components(
        process_name=f"{spec.name}-relay",
        components=[relay],
        checks=checks,
        host=settings.http_host,
        port=settings.http_port or spec.relay_port,
    )


WorkerFactory = Callable[[ServiceSettings], tuple[list[Component], dict[str, Check]]]


def run_worker(spec: ServiceSpec, settings: ServiceSettings, build: WorkerFactory) -> None:
    prepare_schema(spec, settings)
    components, checks = build(settings)
    run_components(
        process_name=f"{spec.name}-{spec.worker_process}",
        components=components,
        checks=checks,
        host=settings.http_host,
        port=settings.http_port or spec.worker_port,
    )


def main(
    spec: ServiceSpec,
    create_app: Callable[[Any], FastAPI],
    settings_type: type[ServiceSettings] = ServiceSettings,
    build_worker: WorkerFactory | None = None,
) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m services.{spec.name}")
    kinds = ["api"] + (["relay"] if spec.has_relay else []) + ([spec.worker_process] if build_worker else [])
    parser.add_argument("process", choices=kinds, help="which of the service's processes to run")
    args = parser.parse_args()
    settings = settings_type()
    configure_logging(f"{spec.name}-{args.process}", settings.log_level)
    configure_tracing(f"{spec.name}-{args.process}", settings.data_dir)
    if args.process == "api":
        serve(create_app(settings), host=settings.http_host, port=settings.http_port or spec.api_port)
    elif args.process == "relay":
        run_relay(spec, settings)
    else:
        assert build_worker is not None
        run_worker(spec, settings, build_worker)
