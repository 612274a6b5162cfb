"""Per-service schema migrations, applied at start-up with yoyo.

Each service's schema gets the shared plumbing migrations (`services/common/migrations`: outbox, inbox)
followed by its own (`services/<name>/migrations`). yoyo keeps its bookkeeping tables in the same schema,
so each service's history is its own, and takes a lock so several processes starting at once apply
each migration exactly once.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from yoyo import get_backend, read_migrations

log = logging.getLogger(__name__)

COMMON_MIGRATIONS = Path(__file__).parent / "migrations"


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


def apply_migrations(database_url: str, schema: str, service_migrations: Path | None) -> list[str]:
    """Apply what is missing; returns the ids applied now (empty when already up to date)."""
    ensure_schema(database_url, schema)
    backend = get_backend(_yoyo_url(database_url, schema))
    sources = [str(COMMON_MIGRATIONS)] + ([str(service_migrations)] if service_migrations else [])
    migrations = read_migrations(*sources)
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    applied = [m.id for m in pending]
    if applied:
        log.info("applied migrations", extra={"schema": schema, "migrations": applied})
    return applied
