"""How the processes reach Kafka and Temporal across a network they do not trust: TLS, client certificates,
SASL/SCRAM. Part of every process's settings (`CommonSettings`); the clients are built from them in one place
each (`services.common.kafka.client_options`, `services.common.temporal.tls_config`).

Everything defaults to what the local stack runs (plain connections on loopback). A configuration that would
be ignored in part — a certificate without its key, TLS files with a plaintext protocol, SASL without its
mechanism or credentials — is refused at start rather than run with less protection than it names.
PostgreSQL needs nothing here: its URL carries `sslmode=verify-full&sslrootcert=…` (docs/security.md).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, FilePath, model_validator
from pydantic_settings import BaseSettings

KafkaProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-256", "SCRAM-SHA-512"]


class TransportSettings(BaseSettings):
    kafka_security_protocol: KafkaProtocol = Field("PLAINTEXT", alias="ANXIN_KAFKA_SECURITY_PROTOCOL")
    kafka_sasl_mechanism: SaslMechanism | None = Field(None, alias="ANXIN_KAFKA_SASL_MECHANISM")
    kafka_sasl_username: str | None = Field(None, alias="ANXIN_KAFKA_SASL_USERNAME")
    kafka_sasl_password: str | None = Field(None, alias="ANXIN_KAFKA_SASL_PASSWORD", repr=False)
    # The CA that signed the brokers' certificates (else the system's), and this client's certificate and key
    # when the brokers ask for one (mTLS). Files must exist at start.
    kafka_ssl_ca: FilePath | None = Field(None, alias="ANXIN_KAFKA_SSL_CA")
    kafka_ssl_cert: FilePath | None = Field(None, alias="ANXIN_KAFKA_SSL_CERT")
    kafka_ssl_key: FilePath | None = Field(None, alias="ANXIN_KAFKA_SSL_KEY")
    kafka_ssl_key_password: str | None = Field(None, alias="ANXIN_KAFKA_SSL_KEY_PASSWORD", repr=False)

    # TLS to Temporal's frontend: on when asked (`ANXIN_TEMPORAL_TLS`, the system's CAs) or when any of the
    # files or the server name is given. Client certificate and key together (mTLS) or neither.
    temporal_tls: bool = Field(False, alias="ANXIN_TEMPORAL_TLS")
    temporal_tls_ca: FilePath | None = Field(None, alias="ANXIN_TEMPORAL_TLS_CA")
    temporal_tls_cert: FilePath | None = Field(None, alias="ANXIN_TEMPORAL_TLS_CERT")
    temporal_tls_key: FilePath | None = Field(None, alias="ANXIN_TEMPORAL_TLS_KEY")
    # The name the frontend's certificate is checked against, when it is not the host of TEMPORAL_ADDRESS.
    temporal_tls_server_name: str | None = Field(None, alias="ANXIN_TEMPORAL_TLS_SERVER_NAME")

    @model_validator(mode="after")
    def _complete_transport(self) -> TransportSettings:
        protocol = self.kafka_security_protocol
        sasl = protocol.startswith("SASL_")
        tls = protocol.endswith("SSL")
        if bool(self.kafka_ssl_cert) != bool(self.kafka_ssl_key):
            raise ValueError(
                "ANXIN_KAFKA_SSL_CERT and ANXIN_KAFKA_SSL_KEY go together: a client certificate needs its key"
            )
        if not tls and (self.kafka_ssl_ca or self.kafka_ssl_cert or self.kafka_ssl_key_password):
            raise ValueError(
                f"ANXIN_KAFKA_SSL_* is set but ANXIN_KAFKA_SECURITY_PROTOCOL is {protocol}, which "
                "does not use TLS: use SSL or SASL_SSL"
            )
        if sasl and not (self.kafka_sasl_mechanism and self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError(
                f"ANXIN_KAFKA_SECURITY_PROTOCOL {protocol} needs ANXIN_KAFKA_SASL_MECHANISM, "
                "ANXIN_KAFKA_SASL_USERNAME and ANXIN_KAFKA_SASL_PASSWORD"
            )
        if not sasl and (self.kafka_sasl_mechanism or self.kafka_sasl_username or self.kafka_sasl_password):
            raise ValueError(
                f"ANXIN_KAFKA_SASL_* is set but ANXIN_KAFKA_SECURITY_PROTOCOL is {protocol}: "
                "use SASL_SSL (or SASL_PLAINTEXT)"
            )
        if bool(self.temporal_tls_cert) != bool(self.temporal_tls_key):
            raise ValueError(
                "ANXIN_TEMPORAL_TLS_CERT and ANXIN_TEMPORAL_TLS_KEY go together: a client certificate needs its key"
            )
        return self

    @property
    def temporal_tls_enabled(self) -> bool:
        return bool(
            self.temporal_tls or self.temporal_tls_ca or self.temporal_tls_cert or self.temporal_tls_server_name
        )
