"""The cluster profile's development CA, certificates and SCRAM credentials (deploy/certificates.py)."""

from __future__ import annotations

import ipaddress
import json
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from deploy.certificates import KAFKA_BROKER_USER, KAFKA_CLIENT_USER, SERVER_NAME, development_transport
from services.common.kafka import client_options
from services.common.settings import CommonSettings
from services.common.temporal import tls_config


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_the_files_are_made_once_private_and_signed_by_the_ca(tmp_path: Path) -> None:
    transport = development_transport(tmp_path).ensure()
    files = sorted(transport.folder.iterdir())
    assert len(files) == 7  # CA, server cert/key/key store, client cert/key, SCRAM passwords
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
    assert stat.S_IMODE(transport.folder.stat().st_mode) == 0o700

    ca, server, client = _cert(transport.ca), _cert(transport.server_cert), _cert(transport.client_cert)
    server.verify_directly_issued_by(ca)
    client.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [SERVER_NAME]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    usages = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    # Python's TLS stack takes the key store and the pairs as they are (the brokers, PostgreSQL, Go read PEM too).
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(transport.server_keystore)
    context.load_cert_chain(transport.client_cert, transport.client_key)

    before = {path.name: path.read_bytes() for path in files}
    assert transport.kafka_password(KAFKA_CLIENT_USER) != transport.kafka_password(KAFKA_BROKER_USER)
    development_transport(tmp_path).ensure()
    assert {path.name: path.read_bytes() for path in transport.folder.iterdir()} == before


def test_the_processes_settings_reach_every_engine_over_tls(tmp_path: Path) -> None:
    transport = development_transport(tmp_path)
    settings = CommonSettings(**transport.process_env())  # type: ignore[arg-type]
    kafka = client_options(settings)
    assert kafka["security_protocol"] == "SASL_SSL" and kafka["sasl_mechanism"] == "SCRAM-SHA-512"
    assert kafka["ssl_cafile"] == str(transport.ca) and kafka["ssl_check_hostname"] is True
    temporal = tls_config(settings)
    assert not isinstance(temporal, bool)
    assert temporal.domain == SERVER_NAME and temporal.client_cert == transport.client_cert.read_bytes()
    # The CA's path is percent-encoded: nothing after the database name of a URL contains a slash.
    assert "/" not in transport.postgres_query()
    assert transport.postgres_query().startswith("sslmode=verify-full&sslrootcert=%2F")


def _unset(monkeypatch: pytest.MonkeyPatch, names: list[str]) -> None:
    # Set first, so that undoing puts back the variables the commands set as well (delenv of an absent
    # variable records nothing to undo).
    for name in names:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_the_commands_take_the_cluster_profiles_transport_from_its_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from operations import cli_support

    transport = development_transport(tmp_path)
    (tmp_path / "development-secrets.json").write_text(json.dumps({"ANXIN_DATA_KEY_ID": "dev"}))
    _unset(
        monkeypatch,
        [
            "ANXIN_DATA_KEYS",
            "ANXIN_DATA_KEY_ID",
            "ANXIN_PAYLOAD_KEYS",
            "ANXIN_PAYLOAD_KEY_ID",
            *transport.process_env(),
        ],
    )
    monkeypatch.setattr(cli_support, "DATA_DIR", tmp_path)
    settings = cli_support.operator_settings()
    assert settings.kafka_security_protocol == "SASL_SSL" and settings.kafka_ssl_ca == transport.ca
    assert settings.temporal_tls_cert == transport.client_cert

    # A data dir without the TLS files (make run's) leaves the connections plain.
    plain_dir = tmp_path / "embedded"
    plain_dir.mkdir()
    (plain_dir / "development-secrets.json").write_text(json.dumps({"ANXIN_DATA_KEY_ID": "dev"}))
    _unset(
        monkeypatch,
        [
            "ANXIN_DATA_KEYS",
            "ANXIN_DATA_KEY_ID",
            "ANXIN_PAYLOAD_KEYS",
            "ANXIN_PAYLOAD_KEY_ID",
            *transport.process_env(),
        ],
    )
    monkeypatch.setattr(cli_support, "DATA_DIR", plain_dir)
    assert cli_support.operator_settings().kafka_security_protocol == "PLAINTEXT"
