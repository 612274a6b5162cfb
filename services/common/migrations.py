"""Per-service schema migrations, applied with yoyo: at start-up by each process (ANXIN_MIGRATE_ON_START, the
default), or as a step of their own (`anxin migrate`, `services.common.database_roles`).

Each service's schema gets the shared plumbing migrations (`services/common/migrations`: outbox, inbox)
followed by its own (`services/<name>/migrations`). yoyo keeps its bookkeeping tables in the same schema,
so each service's history is its own, and takes a lock so several processes starting at once apply
each migration exactly once.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from yoyo import get_backend, read_migrations

log = logging.getLogger(__name__)

COMMON_MIGRATIONS = Path(__file__).parent / "migrations"
# yoyo's bookkeeping tables, kept in each service's schema (the first is its record of applied migrations).
MIGRATION_TABLE = "_yoyo_migration"
BOOKKEEPING_TABLES = (MIGRATION_TABLE, "_yoyo_log", "_yoyo_version", "yoyo_lock")


def _yoyo_url(database_url: str, schema: str) -> str:
    parts = urlsplit(database_url)
    scheme = "postgresql+psycopg"
    query = urlencode({"schema": schema})
    return urlunsplit((scheme, parts.netloc, parts.path, query, ""))


def ensure_schema(database_url: str, schema: str) -> None:
    """Create the service's schema if its role may; provisioning normally did it already."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        # Checked first: CREATE SCHEMA IF NOT EXISTS still needs CREATE on the database, which a
        # service role given its schema by the provisioner does not have.
        if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone():
            return
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


def _read(service_migrations: Path | None) -> Any:
    sources = [str(COMMON_MIGRATIONS)] + ([str(service_migrations)] if service_migrations else [])
    return read_migrations(*sources)


def apply_migrations(database_url: str, schema: str, service_migrations: Path | None) -> list[str]:
    """Apply what is missing; returns the ids applied now (empty when already up to date)."""
    ensure_schema(database_url, schema)
    if not pending_migrations(database_url, schema, service_migrations):
        # Up to date: no lock taken, nothing written (so a role that may only read its schema starts too).
        return []
    backend = get_backend(_yoyo_url(database_url, schema))
    migrations = _read(service_migrations)
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    applied = [m.id for m in pending]
    if applied:
        log.info("applied migrations", extra={"schema": schema, "migrations": applied})
    return applied


def pending_migrations(database_url: str, schema: str, service_migrations: Path | None) -> list[str]:
    """The ids not applied to `schema` yet, found with reads only: a runtime role may read yoyo's record of
    applied migrations but nothing more (yoyo's own backend would try to create its tables and a lock)."""
    migrations = _read(service_migrations)
    with psycopg.connect(database_url, autocommit=True) as conn:
        table = conn.execute(
            "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text))", (schema, MIGRATION_TABLE)
        ).fetchone()
        applied: set[str] = set()
        if table and table[0]:
            rows = conn.execute(
                sql.SQL("SELECT migration_hash FROM {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(MIGRATION_TABLE)
                )
            ).fetchall()
            applied = {row[0] for row in rows}
    return [m.id for m in migrations if m.hash not in applied]
