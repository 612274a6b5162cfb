"""Who may do what in a service's schema when PostgreSQL runs as production runs it.

A migration role owns each service's schema and everything in it, and applies the migrations as a step of
its own (`anxin migrate`, a Kubernetes Job). Each service's processes connect as a runtime role that owns
nothing: it reads and writes its own schema's rows and uses its sequences, and nothing else —

- the audit trail (`audit_log`) takes INSERT and SELECT only, so no process can change or remove a row,
  even past the append-only trigger (which it cannot disable either: only an owner may ALTER a table);
- yoyo's bookkeeping tables are read-only to it (a process started with ANXIN_MIGRATE_ON_START=false checks
  that nothing is pending, and refuses to start otherwise);
- no CREATE anywhere, no other service's schema.

What the processes do besides reads and writes needs no grant: LISTEN/NOTIFY (the relay's wake-up, raised by
the outbox trigger), advisory locks (the relay's election, the referrals' per-key locks) and trigger
functions (fired as the table's trigger, whatever the caller may EXECUTE) are open to every role.

The grants are applied here only, after each service's migrations, and are idempotent: a run that finds
every right as it should be changes nothing and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from services.common.migrations import BOOKKEEPING_TABLES, apply_migrations

log = logging.getLogger(__name__)

# Each service's own migrations sit at services/<name>/migrations (as every ServiceSpec names them): found by
# that convention, so the common layer runs them without importing the services.
SERVICES_ROOT = Path(__file__).resolve().parents[1]
APPEND_ONLY_TABLES = ("audit_log",)
TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_RIGHTS = "USAGE, SELECT, UPDATE"


class MigrationError(RuntimeError):
    """A service's migrations or grants could not be applied; the message says which and why."""


@dataclass(frozen=True)
class ServiceMigration:
    service: str
    runtime_role: str | None
    applied: list[str] = field(default_factory=list)
    rights_changed: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.applied) or self.rights_changed

    def describe(self) -> str:
        done = f"{len(self.applied)} migrations applied ({', '.join(self.applied)})" if self.applied else "up to date"
        if self.runtime_role is None:
            return f"{self.service}: {done}; no runtime role to grant"
        rights = "granted" if self.rights_changed else "unchanged"
        return f"{self.service}: {done}; rights of runtime role {self.runtime_role} {rights}"


@dataclass(frozen=True)
class MigrationReport:
    services: list[ServiceMigration]

    @property
    def changed(self) -> bool:
        return any(s.changed for s in self.services)

    def lines(self) -> list[str]:
        lines = [s.describe() for s in self.services]
        if not self.changed:
            lines.append("nothing changed: every schema up to date, every runtime role's rights as they were")
        return lines


def service_migrations_dir(service: str) -> Path:
    path = SERVICES_ROOT / service / "migrations"
    if not path.is_dir():
        raise MigrationError(f"unknown service {service!r}: no {path}")
    return path


def _rights_snapshot(conn: psycopg.Connection[Any], schema: str) -> list[tuple[Any, ...]]:
    """Every ACL in the schema (itself, its tables and sequences, its default privileges): equal before and
    after the grants when nothing changed."""
    return conn.execute(
        """
        SELECT 'schema', nspname::text, nspacl::text FROM pg_namespace WHERE nspname = %(s)s
        UNION ALL
        SELECT 'relation', c.relname::text, c.relacl::text FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(s)s
        UNION ALL
        SELECT 'default', d.defaclobjtype::text, d.defaclacl::text FROM pg_default_acl d
          JOIN pg_namespace n ON n.oid = d.defaclnamespace WHERE n.nspname = %(s)s
        ORDER BY 1, 2
        """,
        {"s": schema},
    ).fetchall()


def _existing_tables(conn: psycopg.Connection[Any], schema: str, names: Iterable[str]) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND c.relname = ANY(%s) ORDER BY 1",
        (schema, list(names)),
    ).fetchall()
    return [row[0] for row in rows]


def grant_runtime_rights(conn: psycopg.Connection[Any], schema: str, runtime_role: str) -> bool:
    """Give `runtime_role` exactly the rights its processes use in `schema`, as the schema's owner (the
    connection's role), in one transaction; returns whether any right changed."""
    schema_id, role = sql.Identifier(schema), sql.Identifier(runtime_role)
    with conn.transaction():
        before = _rights_snapshot(conn, schema)
        owner = conn.execute("SELECT current_user").fetchone()
        assert owner is not None
        statements = [
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema_id, role),
            sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(schema_id, role),
            sql.SQL(f"GRANT {TABLE_RIGHTS} ON ALL TABLES IN SCHEMA {{}} TO {{}}").format(schema_id, role),
            sql.SQL(f"GRANT {SEQUENCE_RIGHTS} ON ALL SEQUENCES IN SCHEMA {{}} TO {{}}").format(schema_id, role),
            # Tables and sequences the owner makes later (outside `anxin migrate`) come with the same rights.
            sql.SQL(
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {{}} IN SCHEMA {{}} GRANT {TABLE_RIGHTS} ON TABLES TO {{}}"
            ).format(sql.Identifier(owner[0]), schema_id, role),
            sql.SQL(
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {{}} IN SCHEMA {{}} GRANT {SEQUENCE_RIGHTS} ON SEQUENCES TO {{}}"
            ).format(sql.Identifier(owner[0]), schema_id, role),
        ]
        for table in _existing_tables(conn, schema, BOOKKEEPING_TABLES):
            # Read-only: enough to see what is pending, never to record or lock a migration.
            table_id = sql.Identifier(schema, table)
            statements += [
                sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(table_id, role),
                sql.SQL("GRANT SELECT ON TABLE {} TO {}").format(table_id, role),
            ]
        for table in _existing_tables(conn, schema, APPEND_ONLY_TABLES):
            statements.append(
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON TABLE {} FROM {}").format(
                    sql.Identifier(schema, table), role
                )
            )
        for statement in statements:
            conn.execute(statement)
        after = _rights_snapshot(conn, schema)
    return before != after


def _current_user(url: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT current_user").fetchone()
        assert row is not None
        return str(row[0])


def migrate_service(migration_url: str, service: str, runtime_role: str | None) -> ServiceMigration:
    """Apply `service`'s migrations to its schema as the migration role, then grant its runtime role."""
    try:
        applied = apply_migrations(migration_url, service, service_migrations_dir(service))
        # A runtime role that is the migration role itself (one role doing both) already owns everything.
        if runtime_role is None or runtime_role == _current_user(migration_url):
            return ServiceMigration(service, None, applied)
        with psycopg.connect(migration_url) as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (runtime_role,)).fetchone()
            if not exists:
                raise MigrationError(f"{service}: runtime role {runtime_role!r} does not exist")
            changed = grant_runtime_rights(conn, service, runtime_role)
    except MigrationError:
        raise
    except Exception as exc:  # psycopg's and yoyo's errors alike: name the service, keep the cause
        raise MigrationError(f"{service}: {type(exc).__name__}: {exc}".strip()) from exc
    result = ServiceMigration(service, runtime_role, applied, changed)
    log.info("schema migrated", extra={"service": service, "migrations": applied, "rights_changed": changed})
    return result


def migrate_all(migration_url: str, runtime_roles: Mapping[str, str | None]) -> MigrationReport:
    """Migrate every service named in `runtime_roles` (service → its runtime role, None for none), in that
    order, and grant each runtime role its rights; stops at the first failure (`MigrationError`)."""
    return MigrationReport([migrate_service(migration_url, service, role) for service, role in runtime_roles.items()])
