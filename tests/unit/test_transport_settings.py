"""Transport options (docs/security.md, "In transit"): the settings give every Kafka client and every Temporal
client the same TLS and SASL options, and a half-configured transport is refused at start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from pydantic import ValidationError
from temporalio.service import TLSConfig

from services.common import kafka, service, temporal
from services.common.settings import CommonSettings

SERVERS = "kafka-0.example.org:9093,kafka-1.example.org:9093"


@pytest.fixture
def pem(tmp_path: Path) -> dict[str, Path]:
    files = {}
    for name in ("ca", "cert", "key"):
        files[name] = tmp_path / f"{name}.pem"
        files[name].write_bytes(f"-----BEGIN {name.upper()}-----\n".encode())
    return files


def _settings(**values: Any) -> CommonSettings:
    return CommonSettings(kafka_bootstrap_servers=SERVERS, **values)


def test_the_defaults_are_plain_connections() -> None:
    settings = _settings()
    assert kafka.client_options(settings) == {"bootstrap_servers": SERVERS.split(","), "security_protocol": "PLAINTEXT"}
    assert temporal.tls_config(settings) is False


def test_sasl_over_tls_with_a_ca_and_a_client_certificate(pem: dict[str, Path]) -> None:
    settings = _settings(
        ANXIN_KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        ANXIN_KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
        ANXIN_KAFKA_SASL_USERNAME="intake",
        ANXIN_KAFKA_SASL_PASSWORD="s3cret",
        ANXIN_KAFKA_SSL_CA=str(pem["ca"]),
        ANXIN_KAFKA_SSL_CERT=str(pem["cert"]),
        ANXIN_KAFKA_SSL_KEY=str(pem["key"]),
    )
    options = kafka.client_options(settings)
    assert options == {
        "bootstrap_servers": SERVERS.split(","),
        "security_protocol": "SASL_SSL",
        "ssl_check_hostname": True,
        "ssl_cafile": str(pem["ca"]),
        "ssl_certfile": str(pem["cert"]),
        "ssl_keyfile": str(pem["key"]),
        "ssl_password": None,
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "intake",
        "sasl_plain_password": "s3cret",
    }
    # Every option is one kafka-python's three clients know (a misspelt one would fail at start, not here).
    for client in (KafkaProducer, KafkaConsumer, KafkaAdminClient):
        assert set(options) <= set(client.DEFAULT_CONFIG), client
    assert "s3cret" not in repr(settings)


def test_scram_over_plaintext_and_tls_without_sasl() -> None:
    scram = kafka.client_options(
        _settings(
            ANXIN_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
            ANXIN_KAFKA_SASL_MECHANISM="SCRAM-SHA-256",
            ANXIN_KAFKA_SASL_USERNAME="u",
            ANXIN_KAFKA_SASL_PASSWORD="p",
        )
    )
    assert scram["sasl_mechanism"] == "SCRAM-SHA-256" and "ssl_cafile" not in scram
    tls = kafka.client_options(_settings(ANXIN_KAFKA_SECURITY_PROTOCOL="SSL"))
    assert tls["security_protocol"] == "SSL" and tls["ssl_cafile"] is None and "sasl_mechanism" not in tls


def test_every_producer_consumer_and_admin_client_gets_them(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(
        ANXIN_KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        ANXIN_KAFKA_SASL_MECHANISM="SCRAM-SHA-256",
        ANXIN_KAFKA_SASL_USERNAME="cases",
        ANXIN_KAFKA_SASL_PASSWORD="p",
    )
    made: list[tuple[str, dict[str, Any]]] = []

    def recorder(kind: str) -> Any:
        def make(*args: Any, **kwargs: Any) -> Any:
            made.append((kind, kwargs))
            raise RuntimeError("recorded")  # no broker here

        return make

    for kind in ("KafkaProducer", "KafkaConsumer", "KafkaAdminClient"):
        monkeypatch.setattr(kafka, kind, recorder(kind))
    for make in (
        lambda: kafka.new_producer(settings, client_id="p"),
        lambda: kafka.new_consumer(settings, "topic", group_id="g", client_id="c"),
        lambda: kafka.ensure_topics(settings),
    ):
        with pytest.raises(RuntimeError, match="recorded"):
            make()
    assert kafka.KafkaProbe(settings).check() is not None
    assert [kind for kind, _ in made] == ["KafkaProducer", "KafkaConsumer", "KafkaAdminClient", "KafkaAdminClient"]
    for _, kwargs in made:
        assert kwargs["security_protocol"] == "SASL_SSL" and kwargs["sasl_plain_username"] == "cases", kwargs


async def test_temporal_mtls_reaches_every_client(pem: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(
        ANXIN_TEMPORAL_TLS_CA=str(pem["ca"]),
        ANXIN_TEMPORAL_TLS_CERT=str(pem["cert"]),
        ANXIN_TEMPORAL_TLS_KEY=str(pem["key"]),
        ANXIN_TEMPORAL_TLS_SERVER_NAME="frontend.temporal",
    )
    config = temporal.tls_config(settings)
    assert config == TLSConfig(
        server_root_ca_cert=pem["ca"].read_bytes(),
        domain="frontend.temporal",
        client_cert=pem["cert"].read_bytes(),
        client_private_key=pem["key"].read_bytes(),
    )
    seen: list[Any] = []

    async def fake_connect(address: str, **kwargs: Any) -> str:
        seen.append(kwargs["tls"])
        return "client"

    monkeypatch.setattr(temporal.Client, "connect", fake_connect)
    monkeypatch.setattr(service.Client, "connect", fake_connect)
    await temporal.connect(settings)
    await service.TemporalHandle(settings).connect()
    assert seen == [config, config]
    # TLS with the system's CAs only (e.g. a managed frontend), no client certificate.
    assert temporal.tls_config(_settings(ANXIN_TEMPORAL_TLS="true")) == TLSConfig()


@pytest.mark.parametrize(
    "values",
    [
        {"ANXIN_TEMPORAL_TLS_CERT": "cert"},
        {"ANXIN_TEMPORAL_TLS_KEY": "key"},
        {"ANXIN_KAFKA_SECURITY_PROTOCOL": "SSL", "ANXIN_KAFKA_SSL_CERT": "cert"},
        {"ANXIN_KAFKA_SECURITY_PROTOCOL": "SSL", "ANXIN_KAFKA_SSL_KEY": "key"},
        {"ANXIN_KAFKA_SSL_CA": "ca"},  # TLS files with PLAINTEXT: they would be ignored
        {"ANXIN_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "ANXIN_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256"},
        {"ANXIN_KAFKA_SASL_USERNAME": "u", "ANXIN_KAFKA_SASL_PASSWORD": "p"},  # SASL with PLAINTEXT
        {
            "ANXIN_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "ANXIN_KAFKA_SASL_MECHANISM": "PLAIN",
            "ANXIN_KAFKA_SASL_USERNAME": "u",
            "ANXIN_KAFKA_SASL_PASSWORD": "p",
        },
        {"ANXIN_KAFKA_SECURITY_PROTOCOL": "TLS"},
    ],
    ids=[
        "temporal-cert-without-key",
        "temporal-key-without-cert",
        "kafka-cert-without-key",
        "kafka-key-without-cert",
        "kafka-ca-with-plaintext",
        "sasl-without-credentials",
        "sasl-with-plaintext",
        "sasl-plain-mechanism",
        "unknown-protocol",
    ],
)
def test_a_half_configured_transport_is_refused_at_start(values: dict[str, str], pem: dict[str, Path]) -> None:
    resolved = {name: str(pem[value]) if value in pem else value for name, value in values.items()}
    with pytest.raises(ValidationError):
        _settings(**resolved)


def test_a_missing_file_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        _settings(ANXIN_TEMPORAL_TLS_CA=str(tmp_path / "absent.pem"))
