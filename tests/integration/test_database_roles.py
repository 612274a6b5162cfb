"""PostgreSQL as production runs it: SCRAM passwords, a migration role that owns the schemas and migrates them as
a step of its own, and runtime roles with only the rights their processes use — on a real server of its own
(the embedded one, password mode, a private data dir and port), with real service processes connected as a
runtime role (Temporal and Kafka from the test stack)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

from deploy.engines import DATABASE_SCHEMAS, port_open
from deploy.postgres import MIGRATION_ROLE, PostgresEngine
from deploy.secrets import development_environment, development_token_issuer
from deploy.stack import Stack
from operations.cli import app as anxin
from services.common.auth import Principal, Role
from services.common.database_roles import MigrationReport, migrate_all
from services.common.kafka import ensure_topics
from services.common.outbox import add_event
from services.common.service import ServiceSettings, prepare_schema
from services.common.settings import CommonSettings
from services.contracts.events import EventEnvelope
from services.intake.spec import SPEC as INTAKE
from tests.support.events import Marked

REPO_ROOT = Path(__file__).resolve().parents[2]


def _free_port(start: int) -> int:
    """A free port from `start` on (below the ephemeral range, clear of the test stacks' blocks)."""
    for port in range(start, start + 100):
        if port_open("127.0.0.1", port, timeout=0.1):
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port in {start}–{start + 99}")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresEngine]:
    data_dir = tmp_path_factory.mktemp("pg-roles")
    postgres = PostgresEngine(data_dir, data_dir / "logs", _free_port(22400), password_auth=True)
    postgres.start()
    try:
        postgres.wait_ready(timeout=60)
        yield postgres
    finally:
        postgres.stop()  # the postmaster, by its process id


@pytest.fixture(scope="module")
def first_run(engine: PostgresEngine) -> MigrationReport:
    return migrate_all(engine.migration_url, {service: service for service in DATABASE_SCHEMAS})


def _attempt(url: str, statement: str, schema: str = "intake") -> str:
    """ "ok", or the SQLSTATE class name of the refusal."""
    try:
        with psycopg.connect(url, options=f"-c search_path={schema}") as conn:
            conn.execute(statement)
        return "ok"
    except psycopg.Error as exc:
        return type(exc).__name__


def test_connections_need_their_password(engine: PostgresEngine) -> None:
    host = f"127.0.0.1:{engine.port}"
    for role in ("postgres", MIGRATION_ROLE, "intake"):
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(f"postgresql://{role}@{host}/anxin", connect_timeout=5)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(f"postgresql://{role}:wrong@{host}/anxin", connect_timeout=5)
    assert (engine.data_dir / "database-passwords.json").stat().st_mode & 0o777 == 0o600
    with psycopg.connect(engine.admin_url) as conn:
        roles = dict(
            conn.execute(
                "SELECT rolname, rolsuper OR rolcreatedb OR rolcreaterole OR rolbypassrls FROM pg_roles "
                "WHERE rolname = ANY(%s)",
                ([MIGRATION_ROLE, *DATABASE_SCHEMAS],),
            ).fetchall()
        )
        assert roles == dict.fromkeys([MIGRATION_ROLE, *DATABASE_SCHEMAS], False)
        stored = conn.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = ANY(%s)",
            (["postgres", MIGRATION_ROLE, *DATABASE_SCHEMAS],),
        ).fetchall()
        assert len(stored) == 2 + len(DATABASE_SCHEMAS) and all(row[0].startswith("SCRAM-SHA-256$") for row in stored)
    with psycopg.connect(engine.admin_url.rsplit("/", 1)[0] + "/anxin") as conn:
        owners = conn.execute(
            "SELECT DISTINCT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = ANY(%s)",
            (list(DATABASE_SCHEMAS),),
        ).fetchall()
        assert owners == [(MIGRATION_ROLE,)]


def test_migrate_all_applies_everything_once(engine: PostgresEngine, first_run: MigrationReport) -> None:
    assert [s.service for s in first_run.services] == list(DATABASE_SCHEMAS)
    assert all(s.applied and s.rights_changed for s in first_run.services)
    again = migrate_all(engine.migration_url, {service: service for service in DATABASE_SCHEMAS})
    assert not again.changed
    assert again.lines()[-1].startswith("nothing changed")
    # The command says the same, and exits non-zero naming the service when a runtime role is missing.
    runner = CliRunner()
    done = runner.invoke(anxin, ["migrate"], env={"ANXIN_MIGRATION_DATABASE_URL": engine.migration_url})
    assert done.exit_code == 0 and "nothing changed" in done.output, done.output
    refused = runner.invoke(
        anxin,
        ["migrate", "--service", "cases"],
        env={"ANXIN_MIGRATION_DATABASE_URL": engine.migration_url, "ANXIN_RUNTIME_ROLE_CASES": "nobody"},
    )
    assert refused.exit_code == 1 and "cases: runtime role 'nobody' does not exist" in refused.output


def test_runtime_role_keeps_to_its_rows(engine: PostgresEngine, first_run: MigrationReport) -> None:
    url = engine.service_url("intake")
    assert (
        _attempt(
            url,
            "INSERT INTO audit_log (actor, role, scope, action, subject) "
            "VALUES ('test', 'operator', '*', 'test.insert', 'x')",
        )
        == "ok"
    )
    assert _attempt(url, "SELECT count(*) FROM audit_log") == "ok"
    for statement in (
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "CREATE TABLE intake.extra (n integer)",
        "CREATE TABLE public.extra (n integer)",
        "CREATE TEMP TABLE extra (n integer)",
        "DROP TABLE outbox",
        "SELECT count(*) FROM cases.ledger",
        "DELETE FROM _yoyo_migration",
        "INSERT INTO yoyo_lock (locked, ctime, pid) VALUES (1, now(), 1)",
    ):
        assert _attempt(url, statement) == "InsufficientPrivilege", statement
    assert _attempt(url, "SELECT count(*) FROM _yoyo_migration") == "ok"
    assert (
        _attempt(engine.service_url("cases"), "SELECT count(*) FROM intake.complaints", "cases")
        == "InsufficientPrivilege"
    )
    # The outbox trigger's function runs as the inserting runtime role: its NOTIFY reaches a LISTENing one.
    with (
        psycopg.connect(url, autocommit=True) as listener,
        psycopg.connect(url, options="-c search_path=intake") as writer,
    ):
        listener.execute("LISTEN intake_outbox")
        add_event(
            writer, "test.roles.notify", EventEnvelope.wrap(Marked(marker="notify"), subject="roles", producer="test")
        )
        writer.commit()
        assert [n.channel for n in listener.notifies(timeout=5, stop_after=1)] == ["intake_outbox"]
        writer.execute("DELETE FROM outbox WHERE topic = 'test.roles.notify'")  # no topic: the relay must not try
    # A process whose role was never granted the schema says what to run, as one with migrations pending does.
    stranger = ServiceSettings(database_url=engine.service_url("cases"), migrate_on_start=False)
    with pytest.raises(SystemExit, match="schema intake is not open to this process's role: run `anxin migrate`"):
        prepare_schema(INTAKE, stranger)


def _process(engine: PostgresEngine, stack: Stack, service: str, kind: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **development_environment(engine.data_dir),
        "ANXIN_DATA_DIR": str(engine.data_dir),
        "DATABASE_URL": engine.service_url(service),
        "ANXIN_MIGRATE_ON_START": "false",
        "TEMPORAL_ADDRESS": stack.temporal.address,
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka.bootstrap_servers,
        "ANXIN_HTTP_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", f"services.{service}", kind],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_service_processes_run_as_the_runtime_role(
    engine: PostgresEngine, first_run: MigrationReport, stack: Stack, settings: CommonSettings
) -> None:
    """The API reads and writes the audit trail; the relay takes its advisory lock, LISTENs, is woken by the
    outbox trigger's NOTIFY and marks rows sent: all as the runtime role, with the schema migrated elsewhere."""
    api_port = _free_port(22500)
    relay_port = _free_port(api_port + 1)
    api = _process(engine, stack, "intake", "api", api_port)
    relay = _process(engine, stack, "intake", "relay", relay_port)
    try:
        _wait(lambda: _ready(api_port) and _ready(relay_port), 90, "the intake API and relay to be ready")
        # The API issues no tokens (the issuer does, and needs no database): one signed with the stack's key.
        token = development_token_issuer(engine.data_dir).issue(Principal("city-office", Role.city_office))
        for _ in range(2):  # the second read finds the first read's own audit row
            trail = httpx.get(
                f"http://127.0.0.1:{api_port}/v1/audit",
                params={"action": "audit.read"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert trail.status_code == 200, trail.text
        assert trail.json()["items"][0]["actor"] == "city-office"

        topic = f"test.roles.{uuid.uuid4().hex[:8]}"
        ensure_topics(settings, [topic], partitions=1)
        url = engine.service_url("intake")
        with psycopg.connect(url, options="-c search_path=intake") as conn:
            add_event(conn, topic, EventEnvelope.wrap(Marked(marker=topic), subject="roles", producer="test"))

        def sent() -> bool:
            with psycopg.connect(url, options="-c search_path=intake") as conn:
                row = conn.execute("SELECT sent_at FROM outbox WHERE topic = %s", (topic,)).fetchone()
                return row is not None and row[0] is not None

        _wait(sent, 30, "the relay to send the event")
    finally:
        for process in (api, relay):
            process.terminate()
            process.wait(15)


def test_a_pending_migration_stops_the_process(
    engine: PostgresEngine, first_run: MigrationReport, stack: Stack
) -> None:
    # As if the code had a migration `anxin migrate` has not applied yet: its record taken out, then put back.
    with psycopg.connect(engine.migration_url) as conn:
        taken = conn.execute(
            "DELETE FROM sanctions._yoyo_migration WHERE migration_id = '0003_action_fingerprints' "
            "RETURNING migration_hash, migration_id, applied_at_utc"
        ).fetchall()
    assert len(taken) == 1
    try:
        relay = _process(engine, stack, "sanctions", "relay", _free_port(22600))
        output, _ = relay.communicate(timeout=30)
        assert relay.returncode != 0
        assert (
            "schema sanctions has 1 migrations pending: run `anxin migrate` (0003_action_fingerprints)"
            in output.decode()
        ), output.decode()[-2000:]
    finally:
        with psycopg.connect(engine.migration_url) as conn:
            conn.execute(
                "INSERT INTO sanctions._yoyo_migration (migration_hash, migration_id, applied_at_utc) "
                "VALUES (%s, %s, %s)",
                taken[0],
            )
