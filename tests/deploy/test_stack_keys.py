"""Each process of `make run` and of the cluster profile is given only the data key rings of its purposes
(deploy/secrets.py `process_keys`), and a data dir made when one shared ring sealed everything keeps it, so
what it sealed still opens (services/common/data_keys.py). No engine is started: the processes' environments
are read from their specs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy.cluster import ClusterStack
from deploy.secrets import development_environment, purposes_of
from deploy.stack import Stack
from services.common.crypto import FieldCipher, KeyConfigError, new_key
from services.common.data_keys import SHARED_RING_PURPOSES, KeyPurpose, key_env_names
from services.common.settings import CommonSettings

EXPECTED = {
    "intake-api": {KeyPurpose.PAYLOAD, KeyPurpose.INTAKE},
    "intake-relay": set(),
    "intake-worker": {KeyPurpose.PAYLOAD},
    "cases-api": {KeyPurpose.PAYLOAD},
    "cases-relay": set(),
    "cases-worker": {KeyPurpose.PAYLOAD},
    "referrals-api": {KeyPurpose.PAYLOAD},
    "sanctions-api": {KeyPurpose.PAYLOAD, KeyPurpose.SANCTIONS},
    "sanctions-worker": {KeyPurpose.PAYLOAD, KeyPurpose.SANCTIONS},
    "sanctions-relay": set(),
    "monitoring-api": {KeyPurpose.PAYLOAD},
    "monitoring-relay": set(),
    "monitoring-worker": {KeyPurpose.PAYLOAD},
    "lifecycle-worker": {KeyPurpose.PAYLOAD},
    "codec-server": {KeyPurpose.PAYLOAD},
    "issuer-api": {KeyPurpose.ISSUER},
    "console": {KeyPurpose.CONSOLE},
}


def held(env: dict[str, str]) -> set[KeyPurpose]:
    return {purpose for purpose in KeyPurpose if key_env_names(purpose) & env.keys()}


def settings_of(env: dict[str, str]) -> CommonSettings:
    values: dict[str, str | None] = {name: None for name in key_env_names()}
    return CommonSettings(**(values | {n: env[n] for n in key_env_names() if n in env}))  # type: ignore[arg-type]


def test_each_process_of_a_new_stack_holds_only_its_purposes_rings(tmp_path: Path) -> None:
    for stack in (
        Stack(tmp_path / "embedded", environ={}, with_ui=False),
        ClusterStack(tmp_path / "cluster", environ={}, with_ui=False),
    ):
        specs = {spec.name: spec for spec in stack.process_specs()}
        assert set(EXPECTED) <= set(specs)
        for name, spec in specs.items():
            assert held(spec.env) == purposes_of(name), name
            assert "ANXIN_DATA_KEYS" not in spec.env, name  # a new data dir has no shared ring
        for name, purposes in EXPECTED.items():
            assert held(specs[name].env) == purposes, name
        if isinstance(stack, ClusterStack):
            assert held(specs["intake-api-2"].env) == EXPECTED["intake-api"]  # its replicas too


def test_a_data_dir_of_the_shared_ring_gets_the_purpose_rings_and_still_opens_what_it_sealed(tmp_path: Path) -> None:
    data_dir = tmp_path / "old"
    data_dir.mkdir()
    shared = {"ANXIN_DATA_KEYS": json.dumps({"dev-20261101": new_key()}), "ANXIN_DATA_KEY_ID": "dev-20261101"}
    (data_dir / "clients.json").write_text("[]")
    (data_dir / "development-clients.json").write_text("[]")
    (data_dir / "development-secrets.json").write_text(
        json.dumps({**shared, "ANXIN_REFERENCE_KEY": new_key(), "ANXIN_CLIENTS_FILE": str(data_dir / "clients.json")})
    )
    old_cipher = FieldCipher.from_config(shared["ANXIN_DATA_KEYS"], shared["ANXIN_DATA_KEY_ID"])
    sealed_before = {purpose: old_cipher.seal(f"sealed for {purpose.value}", context="c") for purpose in KeyPurpose}

    secrets = development_environment(data_dir)
    assert {k: secrets[k] for k in shared} == shared
    assert all(purpose.keys_env in secrets for purpose in KeyPurpose)

    specs = {spec.name: spec for spec in Stack(data_dir, environ={}, with_ui=False).process_specs()}
    for name, spec in specs.items():
        assert held(spec.env) == purposes_of(name), name
        # The shared ring stays with every process that opens data it sealed, and goes nowhere else (the issuer's
        # and the console's rings came after it).
        assert ("ANXIN_DATA_KEYS" in spec.env) == bool(purposes_of(name) & SHARED_RING_PURPOSES), name
        settings = settings_of(spec.env)
        for purpose in purposes_of(name) & SHARED_RING_PURPOSES:
            ring = settings.cipher(purpose)
            assert ring.open(sealed_before[purpose], context="c") == f"sealed for {purpose.value}"
            assert ring.key_id_of(ring.seal("new", context="c")) != "dev-20261101", (name, purpose)
        for purpose in purposes_of(name) - SHARED_RING_PURPOSES:
            # Nothing of theirs was sealed with the shared ring: they do not take it.
            with pytest.raises(KeyConfigError, match="not configured"):
                settings.cipher(purpose).open(sealed_before[purpose], context="c")
