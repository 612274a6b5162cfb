"""One data key ring per purpose (docs/security.md): the attack is a process that never needed them — a
relay, the cases API, the lifecycle worker — compromised, with a copy of the databases: with the one key ring
every process held, it opened the workers' identities sealed by intake and the documents sealed by
sanctions. Each running process's environment is read from /proc, as that attacker would."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from deploy.secrets import purposes_of
from deploy.stack import Stack
from services.common.crypto import KeyConfigError
from services.common.data_keys import KeyPurpose, key_env_names
from services.common.settings import CommonSettings
from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.factories import seed

SANCTIONS = ["sanctions-api", "sanctions-relay", "sanctions-worker", "codec-server"]


def process_environment(stack: Stack, name: str) -> dict[str, str]:
    spec = stack.processes[name]
    assert spec.process is not None and spec.process.poll() is None, f"{name} is not running"
    raw = Path(f"/proc/{spec.process.pid}/environ").read_bytes()
    return dict(item.decode().split("=", 1) for item in raw.split(b"\0") if b"=" in item)


def keys_of(env: dict[str, str]) -> CommonSettings:
    """The settings an attacker builds from what the process holds (and nothing of the test's own)."""
    values: dict[str, str | None] = {name: None for name in key_env_names()}
    values |= {name: env[name] for name in key_env_names() if name in env}
    return CommonSettings(**values)  # type: ignore[arg-type]


def test_each_process_holds_only_its_purposes_keys_and_cannot_open_another_purposes_data(agencies: Agencies) -> None:
    a = agencies
    a.stack.start_processes(SANCTIONS, timeout=150)
    complaint_id = a.file(complaint_body(seed()))
    with psycopg.connect(a.stack.postgres.service_url("intake")) as conn:
        row = conn.execute(
            "SELECT id_number_sealed FROM intake.complaints WHERE complaint_id = %s", (complaint_id,)
        ).fetchone()
    assert row is not None
    sealed = bytes(row[0])

    running = [name for name in a.stack.processes if a.stack.is_running(name)]
    assert {"intake-api", "intake-relay", "cases-api", "lifecycle-worker", "sanctions-worker", "codec-server"} <= set(
        running
    )
    for name in running:
        env = process_environment(a.stack, name)
        held = {purpose for purpose in KeyPurpose if env.get(purpose.keys_env)}
        assert held == purposes_of(name), name
        assert not {n for p in set(KeyPurpose) - held for n in key_env_names(p)} & env.keys(), name
        if not held:
            assert "ANXIN_DATA_KEYS" not in env, name  # a relay holds no data key at all
            continue
        settings = keys_of(env)
        if KeyPurpose.INTAKE in held:
            assert settings.cipher(KeyPurpose.INTAKE).open(sealed, context="intake.complaints.id_number")
        else:
            # The attack: every data key this process holds, against the worker's sealed ID number.
            for purpose in held:
                with pytest.raises(KeyConfigError, match="not configured"):
                    settings.cipher(purpose).open(sealed, context="intake.complaints.id_number")
