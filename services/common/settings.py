"""Typed settings shared by every process. Read once at start-up, passed in explicitly, fail fast.

Each service extends `CommonSettings` with its own fields. Nothing reads the environment at import time:
call `SomeSettings()` in `main()` / `create_app()` and pass the object down.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


class CommonSettings(BaseSettings):
    """Connection settings for the three engines, and where a process writes its files."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:54320/anxin",
        description="PostgreSQL URL of this service's role; its schema is set through `db_schema`.",
    )
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="Comma-separated host:port list.")
    temporal_address: str = Field("127.0.0.1:7233")
    temporal_namespace: str = Field("default")
    data_dir: Path = Field(REPO_ROOT / ".data", alias="ANXIN_DATA_DIR")
    # One working day of the legal calendar lasts this many seconds of wall time on a compressed clock
    # (demos and end-to-end runs). 0 means the real calendar.
    working_day_seconds: float = Field(0.0, alias="ANXIN_WORKING_DAY_SECONDS", ge=0)
    log_level: str = Field("INFO", alias="ANXIN_LOG_LEVEL")

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _servers_have_ports(cls, value: str) -> str:
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"expected host:port entries, got {server!r}")
        return value

    @property
    def kafka_servers(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap_servers.split(",") if s.strip()]
