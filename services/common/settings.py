"""Typed settings shared by every process. Read once at start-up, passed in explicitly, fail fast.

Each service extends `CommonSettings` with its own fields. Nothing reads the environment at import time:
call `SomeSettings()` in `main()` / `create_app()` and pass the object down.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.auth import ClientRegistry
from services.common.crypto import FieldCipher, KeyConfigError
from services.common.data_keys import SHARED_RING_PURPOSES, KeyPurpose, purpose_cipher
from services.common.token_endpoint import TokenEndpointLimits
from services.common.token_keys import TokenIssuer, TokenKeyError, TokenVerifier, load_json_setting
from services.common.transport import TransportSettings

REPO_ROOT = Path(__file__).resolve().parents[2]


class CommonSettings(TransportSettings):
    """Connection settings for the three engines (TLS and SASL in `TransportSettings`), and where a process
    writes its files."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True, populate_by_name=True)

    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:54320/anxin",
        description="PostgreSQL URL of this service's role; its schema is set through `db_schema`.",
    )
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="Comma-separated host:port list.")
    # How the project's topics are created (never changed on a topic that exists). The defaults fit the
    # single development broker; a cluster runs 3 copies of each partition, and a write then needs
    # `min.insync.replicas` copies (default: one fewer than the factor) before the producer hears "done",
    # so one broker may die without losing or refusing an acknowledged event.
    kafka_replication_factor: int = Field(1, alias="ANXIN_KAFKA_REPLICATION_FACTOR", ge=1)
    kafka_partitions: int = Field(6, alias="ANXIN_KAFKA_PARTITIONS", ge=1)
    kafka_min_insync_replicas: int | None = Field(None, alias="ANXIN_KAFKA_MIN_INSYNC_REPLICAS", ge=1)
    # How long a relay waits for more commits while events stream in (woken within this time of its last
    # batch), so that one claim, produce request and flush carry several (services/common/relay.py); 0 sends
    # each as soon as it is announced.
    relay_gather_ms: int = Field(20, alias="ANXIN_RELAY_GATHER_MS", ge=0, le=1000)
    temporal_address: str = Field("127.0.0.1:7233")
    temporal_namespace: str = Field("default")
    data_dir: Path = Field(REPO_ROOT / ".data", alias="ANXIN_DATA_DIR")
    # One working day of the legal calendar lasts this many seconds of wall time on a compressed clock
    # (demos and end-to-end runs). 0 means the real calendar.
    working_day_seconds: float = Field(0.0, alias="ANXIN_WORKING_DAY_SECONDS", ge=0)
    # The lifecycle configuration file (deadlines, ladder, thresholds per province, calendar overrides).
    lifecycle_config: Path | None = Field(None, alias="ANXIN_LIFECYCLE_CONFIG")
    log_level: str = Field("INFO", alias="ANXIN_LOG_LEVEL")
    # Data at rest: one key ring per purpose (services/common/data_keys.py), each a JSON {key id: base64
    # AES-256 key} and the id new values are sealed with; a process is given the rings it uses. The shared
    # ring of before (ANXIN_DATA_KEYS) still opens what it sealed. And the key of keyed references
    # (pseudonyms). `make run` generates development keys in the data dir.
    intake_keys: str | None = Field(None, alias="ANXIN_INTAKE_KEYS", repr=False)
    intake_key_id: str | None = Field(None, alias="ANXIN_INTAKE_KEY_ID")
    payload_keys: str | None = Field(None, alias="ANXIN_PAYLOAD_KEYS", repr=False)
    payload_key_id: str | None = Field(None, alias="ANXIN_PAYLOAD_KEY_ID")
    sanctions_keys: str | None = Field(None, alias="ANXIN_SANCTIONS_KEYS", repr=False)
    sanctions_key_id: str | None = Field(None, alias="ANXIN_SANCTIONS_KEY_ID")
    issuer_keys: str | None = Field(None, alias="ANXIN_ISSUER_KEYS", repr=False)
    issuer_key_id: str | None = Field(None, alias="ANXIN_ISSUER_KEY_ID")
    console_keys: str | None = Field(None, alias="ANXIN_CONSOLE_KEYS", repr=False)
    console_key_id: str | None = Field(None, alias="ANXIN_CONSOLE_KEY_ID")
    data_keys: str | None = Field(None, alias="ANXIN_DATA_KEYS", repr=False)
    data_key_id: str | None = Field(None, alias="ANXIN_DATA_KEY_ID")
    reference_key: str | None = Field(None, alias="ANXIN_REFERENCE_KEY", repr=False)
    # Agency access (services/common/token_keys.py). Every process that verifies tokens gets the public key set
    # (JWKS JSON, inline or a file's path); only the issuer gets the private key it signs with (a JWK, inline or
    # a file's path), the registered clients (secrets stored hashed) and the token lifetime.
    token_jwks: str | None = Field(None, alias="ANXIN_TOKEN_JWKS")
    token_signing_jwk: str | None = Field(None, alias="ANXIN_TOKEN_SIGNING_JWK", repr=False)
    # Where the issuer answers, named by the other services' `/oauth/token` (and used by the lifecycle worker).
    token_issuer_url: str | None = Field(None, alias="ANXIN_TOKEN_ISSUER_URL")
    # The HS256 key of before: read only to refuse a configuration that still relies on it (tokens signed with
    # it are never accepted); remove it from the environment once ANXIN_TOKEN_JWKS is set.
    token_signing_key: str | None = Field(None, alias="ANXIN_TOKEN_SIGNING_KEY", repr=False)
    clients_file: Path | None = Field(None, alias="ANXIN_CLIENTS_FILE")
    token_ttl_seconds: int = Field(900, alias="ANXIN_TOKEN_TTL_SECONDS", ge=60, le=86400)
    # The token endpoint's guards against floods and guessing (services/common/token_endpoint.py).
    token_failures_per_address: int = Field(10, alias="ANXIN_TOKEN_FAILURES_PER_ADDRESS", ge=1)
    token_failures_per_client: int = Field(20, alias="ANXIN_TOKEN_FAILURES_PER_CLIENT", ge=1)
    token_failure_window_seconds: int = Field(60, alias="ANXIN_TOKEN_FAILURE_WINDOW_SECONDS", ge=1)
    token_check_workers: int = Field(1, alias="ANXIN_TOKEN_CHECK_WORKERS", ge=1, le=16)
    token_check_queue: int = Field(4, alias="ANXIN_TOKEN_CHECK_QUEUE", ge=0, le=256)

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _servers_have_ports(cls, value: str) -> str:
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"expected host:port entries, got {server!r}")
        return value

    @model_validator(mode="after")
    def _insync_within_factor(self) -> CommonSettings:
        insync = self.kafka_min_insync_replicas
        if insync is not None and insync > self.kafka_replication_factor:
            # Such a topic could never accept an acks=all write.
            raise ValueError(
                f"ANXIN_KAFKA_MIN_INSYNC_REPLICAS ({insync}) exceeds "
                f"ANXIN_KAFKA_REPLICATION_FACTOR ({self.kafka_replication_factor})"
            )
        return self

    @property
    def kafka_topic_configs(self) -> dict[str, str]:
        """Per-topic configuration the project's topics are created with."""
        if self.kafka_replication_factor == 1:
            return {}  # as before: the broker's defaults, nothing to require of a single copy
        insync = self.kafka_min_insync_replicas or self.kafka_replication_factor - 1
        return {"min.insync.replicas": str(insync)}

    def cipher(self, purpose: KeyPurpose) -> FieldCipher:
        """The key ring of `purpose` (`KeyConfigError` when this process has none)."""
        own_keys, own_key_id = getattr(self, f"{purpose.value}_keys"), getattr(self, f"{purpose.value}_key_id")
        return purpose_cipher(purpose, own_keys, own_key_id, self.data_keys, self.data_key_id)

    def has_keys(self, purpose: KeyPurpose) -> bool:
        """Whether this process is given a key ring for `purpose` (its own, or the shared one of before)."""
        own = getattr(self, f"{purpose.value}_keys") and getattr(self, f"{purpose.value}_key_id")
        return bool(own or (purpose in SHARED_RING_PURPOSES and self.data_keys and self.data_key_id))

    def reference_key_bytes(self) -> bytes:
        if not self.reference_key:
            raise KeyConfigError("ANXIN_REFERENCE_KEY must be set to make keyed references")
        return base64.b64decode(self.reference_key)

    def token_verifier(self, audiences: Sequence[str]) -> TokenVerifier:
        """The verifier of a process answering for `audiences` (a service: its own name)."""
        if not self.token_jwks:
            if self.token_signing_key:
                raise KeyConfigError(
                    "ANXIN_TOKEN_SIGNING_KEY (an HS256 key) is no longer used: agency tokens are signed with Ed25519 "
                    "now. Set ANXIN_TOKEN_JWKS (every process) and ANXIN_TOKEN_SIGNING_JWK (the issuer only); see "
                    "docs/operations.md"
                )
            raise KeyConfigError("ANXIN_TOKEN_JWKS must be set to verify agency tokens")
        try:
            return TokenVerifier(load_json_setting(self.token_jwks), audiences)
        except TokenKeyError as error:
            raise KeyConfigError(f"ANXIN_TOKEN_JWKS: {error}") from None

    def token_issuer(self, verifier: TokenVerifier) -> TokenIssuer | None:
        """The issuer, in the process given the signing key; None in every other."""
        if not self.token_signing_jwk:
            return None
        try:
            return TokenIssuer(
                load_json_setting(self.token_signing_jwk), self.token_ttl_seconds, published_kids=verifier.kids
            )
        except TokenKeyError as error:
            raise KeyConfigError(f"ANXIN_TOKEN_SIGNING_JWK: {error}") from None

    def token_endpoint_limits(self) -> TokenEndpointLimits:
        return TokenEndpointLimits(
            failures_per_address=self.token_failures_per_address,
            failures_per_client=self.token_failures_per_client,
            window_seconds=self.token_failure_window_seconds,
            check_workers=self.token_check_workers,
            check_queue=self.token_check_queue,
        )

    def client_registry(self) -> ClientRegistry:
        if not self.clients_file or not self.clients_file.exists():
            raise KeyConfigError("ANXIN_CLIENTS_FILE must name the registered agency clients file")
        return ClientRegistry.from_file(self.clients_file)

    @property
    def kafka_servers(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap_servers.split(",") if s.strip()]


class MigrationSettings(BaseSettings):
    """What `anxin migrate` connects with: the migration role's URL (owner of the schemas), else DATABASE_URL.
    Each schema's runtime role is named by ANXIN_RUNTIME_ROLE_<SCHEMA> (`runtime_roles`)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True, populate_by_name=True)

    migration_database_url: str | None = Field(None, alias="ANXIN_MIGRATION_DATABASE_URL", repr=False)
    database_url: str | None = Field(None, alias="DATABASE_URL", repr=False)
    # Each schema's runtime role, the role its processes connect as (ANXIN_RUNTIME_ROLE_<SCHEMA>); unset, the
    # schema's own name, as the development engine names its roles.
    runtime_role_intake: str | None = Field(None, alias="ANXIN_RUNTIME_ROLE_INTAKE")
    runtime_role_cases: str | None = Field(None, alias="ANXIN_RUNTIME_ROLE_CASES")
    runtime_role_referrals: str | None = Field(None, alias="ANXIN_RUNTIME_ROLE_REFERRALS")
    runtime_role_sanctions: str | None = Field(None, alias="ANXIN_RUNTIME_ROLE_SANCTIONS")
    runtime_role_monitoring: str | None = Field(None, alias="ANXIN_RUNTIME_ROLE_MONITORING")
    runtime_role_webhooks: str | None = Field(None, alias="ANXIN_RUNTIME_ROLE_WEBHOOKS")
    runtime_role_issuer: str | None = Field(None, alias="ANXIN_RUNTIME_ROLE_ISSUER")
    runtime_role_console: str | None = Field(None, alias="ANXIN_RUNTIME_ROLE_CONSOLE")

    def runtime_roles(self, schemas: Iterable[str]) -> dict[str, str]:
        """schema → the runtime role its rights are granted to."""
        return {schema: getattr(self, f"runtime_role_{schema}", None) or schema for schema in schemas}

    def url(self) -> tuple[str | None, bool]:
        """The URL to migrate with, and whether it is DATABASE_URL standing in for the migration role's."""
        if self.migration_database_url:
            return self.migration_database_url, False
        return self.database_url, self.database_url is not None
