"""What each process of the local stack is given beyond its own settings: the engines' addresses and how to
reach them (plain on the embedded stack, TLS on the cluster profile), the development keys and agency clients of
the data dir (unless the operator set them), the token issuer's and the services' addresses; and the settings of a
client of the engines from outside the processes (tests, benchmarks, tools).

A part of `Stack` (`deploy/stack.py`), which sets the attributes declared here; the cluster profile
(`deploy/cluster.py`) overrides the engines' and transport's parts.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from deploy.engines import SERVICES, Ports

if TYPE_CHECKING:
    from deploy.kafka_broker import KafkaEngine
    from deploy.kafka_cluster import KafkaCluster
    from deploy.postgres import PostgresEngine
    from deploy.temporal_dev_server import TemporalEngine
    from services.common.service import ServiceSpec
    from services.common.settings import CommonSettings


def service_spec(service: str) -> ServiceSpec:
    """A service's shape (`services/<name>/spec.py`): its ports, whether it has a relay and which worker."""
    spec: ServiceSpec = importlib.import_module(f"services.{service}.spec").SPEC
    return spec


def service_port_step(service: str) -> int:
    """How far above the stack's `service_base` a service's API listens: its spec's API port less 8000 (the base of
    `make run`), so a private stack shifts every service's ports alike."""
    return service_spec(service).api_port - Ports().service_base


class ProcessEnvironment:
    """The environment of the stack's processes, from the stack's data dir, ports and engines."""

    # Set by `Stack.__init__`.
    environ: dict[str, str]
    data_dir: Path
    ports: Ports
    postgres: PostgresEngine
    temporal: TemporalEngine
    kafka: KafkaEngine | KafkaCluster

    def engine_env(self) -> dict[str, str]:
        return {
            "TEMPORAL_ADDRESS": self.temporal.address,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers,
            **self.kafka_topic_env(),
            **self.transport_env(),
            "ANXIN_DATA_DIR": str(self.data_dir),
            **self.development_secrets(),
            # The one process that issues tokens: the services' /oauth/token name it, the lifecycle worker uses it.
            "ANXIN_TOKEN_ISSUER_URL": self.token_issuer_url,
        }

    @property
    def token_issuer_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.token_issuer}"

    def kafka_topic_env(self) -> dict[str, str]:
        """How the processes create topics (the broker's defaults on the single development broker)."""
        return {}

    def transport_env(self) -> dict[str, str]:
        """How the processes reach Kafka and Temporal (`TransportSettings`): plain on the embedded stack."""
        return {}

    def client_settings(self, **values: object) -> CommonSettings:
        """Settings for a client of this stack's engines from outside its processes (tests, benchmarks, tools):
        the engines' addresses and how to reach them, the `anxin` database as its superuser; no data keys."""
        from services.common.settings import CommonSettings

        return CommonSettings(
            **{  # type: ignore[arg-type]
                "database_url": self.postgres.database_url("anxin"),
                "kafka_bootstrap_servers": self.kafka.bootstrap_servers,
                "temporal_address": self.temporal.address,
                **self.kafka_topic_env(),
                **self.transport_env(),
                **values,
            }
        )

    def development_secrets(self) -> dict[str, str]:
        """Keys and agency clients for a local stack, made once per data dir (unless set in the environment)."""
        if self.environ.get("ANXIN_DATA_KEYS") or self.environ.get("ANXIN_PAYLOAD_KEYS"):
            return {}
        from deploy.secrets import development_environment

        return development_environment(self.data_dir)

    def issuer_secrets(self) -> dict[str, str]:
        """The token issuer's own: its signing key and the registered clients (unless set in the environment)."""
        if self.environ.get("ANXIN_DATA_KEYS"):
            return {}
        from deploy.secrets import development_issuer_environment

        return development_issuer_environment(self.data_dir)

    def lifecycle_credentials(self) -> dict[str, str]:
        """The lifecycle worker's client secret, from the development clients (unless set in the environment)."""
        if (
            self.environ.get("ANXIN_LIFECYCLE_CLIENT_SECRET")
            or self.environ.get("ANXIN_DATA_KEYS")
            or self.environ.get("ANXIN_PAYLOAD_KEYS")
        ):
            return {}
        from deploy.secrets import development_clients

        self.development_secrets()
        client = development_clients(self.data_dir)["lifecycle-worker"]
        return {
            "ANXIN_LIFECYCLE_CLIENT_ID": client["client_id"],
            "ANXIN_LIFECYCLE_CLIENT_SECRET": client["client_secret"],
        }

    def console_credentials(self) -> dict[str, str]:
        """The console's own client secret, from the development clients (unless set in the environment)."""
        if (
            self.environ.get("ANXIN_CONSOLE_CLIENT_SECRET")
            or self.environ.get("ANXIN_DATA_KEYS")
            or self.environ.get("ANXIN_PAYLOAD_KEYS")
        ):
            return {}
        from deploy.secrets import development_clients

        self.development_secrets()
        client = development_clients(self.data_dir)["console"]
        return {"ANXIN_CONSOLE_CLIENT_ID": client["client_id"], "ANXIN_CONSOLE_CLIENT_SECRET": client["client_secret"]}

    def service_env(self, service: str) -> dict[str, str]:
        """What one service's processes are given beyond the engines: the webhooks service of a development stack
        takes and sends to receivers on loopback over http (the tests' receivers, a developer's own)."""
        return {"ANXIN_WEBHOOKS_ALLOW_HTTP_LOOPBACK": "true"} if service == "webhooks" else {}

    def service_urls(self) -> dict[str, str]:
        """The services' API addresses, as the processes that call them take them."""
        return {
            f"ANXIN_{service.upper()}_URL": f"http://127.0.0.1:{self.ports.service_base + service_port_step(service)}"
            for service in SERVICES
        }
