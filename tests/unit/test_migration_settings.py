"""Where migrations run and with which roles: the settings a process and `anxin migrate` read, and what the
development engine's URLs stay (password mode is tested on a real server in test_database_roles.py)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from deploy.engines import SERVICES, EngineError
from deploy.postgres import PostgresEngine
from services.common.database_roles import (
    MigrationReport,
    ServiceMigration,
    service_migrations_dir,
)
from services.common.service import MigrationsPending, ServiceSettings
from services.common.settings import MigrationSettings


def test_processes_migrate_on_start_unless_told_not_to(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANXIN_MIGRATE_ON_START", raising=False)
    assert ServiceSettings().migrate_on_start is True
    monkeypatch.setenv("ANXIN_MIGRATE_ON_START", "false")
    assert ServiceSettings().migrate_on_start is False
    monkeypatch.setenv("ANXIN_MIGRATE_ON_START", "maybe")
    with pytest.raises(ValueError, match="ANXIN_MIGRATE_ON_START"):
        ServiceSettings()


def test_a_pending_migration_is_named_with_the_command_to_run() -> None:
    refusal = MigrationsPending("intake", ["0003_more", "0004_again"])
    assert refusal.code == "schema intake has 2 migrations pending: run `anxin migrate` (0003_more, 0004_again)"


def test_migrate_uses_the_migration_url_else_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANXIN_MIGRATION_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert MigrationSettings().url() == (None, False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://intake@db/anxin")
    assert MigrationSettings().url() == ("postgresql://intake@db/anxin", True)
    monkeypatch.setenv("ANXIN_MIGRATION_DATABASE_URL", "postgresql://anxin_migrator@db/anxin")
    assert MigrationSettings().url() == ("postgresql://anxin_migrator@db/anxin", False)


def test_runtime_roles_default_to_the_schema_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANXIN_RUNTIME_ROLE_CASES", "cases_rt")
    monkeypatch.setenv("ANXIN_RUNTIME_ROLE_CONSOLE", "anxin_console")
    roles = MigrationSettings().runtime_roles(["intake", "cases", "console"])
    assert roles == {"intake": "intake", "cases": "cases_rt", "console": "anxin_console"}


def test_each_services_migrations_are_where_its_spec_says() -> None:
    for service in SERVICES:
        spec = importlib.import_module(f"services.{service}.spec").SPEC
        assert service_migrations_dir(service) == spec.migrations.resolve()


def test_a_second_run_says_nothing_changed() -> None:
    first = MigrationReport([ServiceMigration("intake", "intake", ["0001_complaints"], True)])
    again = MigrationReport([ServiceMigration("intake", "intake", [], False)])
    assert first.changed and not again.changed
    assert first.lines() == ["intake: 1 migrations applied (0001_complaints); rights of runtime role intake granted"]
    assert again.lines()[-1].startswith("nothing changed")


def test_development_engine_urls_are_as_before(tmp_path: Path) -> None:
    engine = PostgresEngine(tmp_path, tmp_path / "logs", 54320)
    assert engine.admin_url == "postgresql://postgres@127.0.0.1:54320/postgres"
    assert engine.service_url("cases") == "postgresql://cases:cases-dev@127.0.0.1:54320/anxin"
    with pytest.raises(EngineError, match="password_auth"):
        _ = engine.migration_url
    assert not (tmp_path / "database-passwords.json").exists()
    production = PostgresEngine(tmp_path, tmp_path / "logs", 54320, password_auth=True)
    assert production.migration_url.startswith("postgresql://anxin_migrator:")
    assert production.service_url("cases") != engine.service_url("cases")
    assert (tmp_path / "database-passwords.json").stat().st_mode & 0o777 == 0o600


def test_migrate_command_says_what_is_missing_or_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from operations.cli import app

    for name in ("ANXIN_MIGRATION_DATABASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    unset = runner.invoke(app, ["migrate"])
    assert unset.exit_code == 2 and "ANXIN_MIGRATION_DATABASE_URL" in unset.output
    unknown = runner.invoke(app, ["migrate", "--service", "payroll"])
    assert unknown.exit_code == 2 and "payroll" in unknown.output
    # Nothing listens on port 1: the fallback is announced, then the failure names the first service.
    down = runner.invoke(app, ["migrate"], env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/anxin"})
    assert down.exit_code == 1, down.output
    assert "warning: ANXIN_MIGRATION_DATABASE_URL not set" in down.output
    assert "migration failed: intake: OperationalError" in down.output
