"""The cluster profile (`make run-cluster`): Anxin on its engines as production runs them, on this machine.

The same services, ports, URLs, logs and supervision as the embedded stack (`deploy/stack.py`), with:

- Temporal Server on PostgreSQL (`deploy/temporal_server.py`) instead of the CLI's dev server on SQLite,
  started once the PostgreSQL it stores into is ready;
- three KRaft Kafka nodes (`deploy/kafka_cluster.py`), the project's topics with three copies and two in
  sync (ANXIN_KAFKA_REPLICATION_FACTOR=3 in every process);
- PostgreSQL as production runs it: SCRAM passwords on every connection, no superuser at run time, the
  schemas migrated as a step of their own before any process starts (`migrate_all`, what `anxin migrate`
  does in a Kubernetes Job) under the migration role that owns them, and each service's processes on a
  runtime role with only the rights they use (ANXIN_MIGRATE_ON_START=false);
- two replicas of every API, relay and worker, of the token issuer, of the console and of the lifecycle worker:
  replica 2 of a process listens 10 above replica 1 (intake API 8001 and 8011, the token issuer 8005 and 8015,
  the console 8006 and 8016, the lifecycle workers 8200 and 8210). The consoles share their sessions in
  PostgreSQL (services/console/session_store.py). The relays of one
  service share the work through their advisory lock (one active, one standby), the workers through their
  consumer group, the lifecycle workers through their task queue.

Its files are in `.data/cluster/` (never shared with `make run`'s `.data/`), and only one of the two
profiles runs at a time, as they use the same ports.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from deploy.certificates import ClusterTransport, development_transport
from deploy.engines import DATABASE_SCHEMAS, Engine, Ports
from deploy.kafka_cluster import KafkaCluster
from deploy.postgres import PostgresEngine
from deploy.secrets import codec_path_token
from deploy.stack import Stack, search_attributes
from deploy.stack_processes import ProcessSpec
from deploy.temporal_dev_server import TemporalEngine
from deploy.temporal_server import TemporalServerEngine
from deploy.temporal_ui import TemporalUIEngine

# How far above replica 1 replica 2 of a process listens (the service ports are 100 apart per kind).
REPLICA_PORT_STEP = 10
REPLICAS = 2
# The codec server only serves the Temporal UI's decryption; one is enough and has no state to share. (The
# console's sessions are in PostgreSQL, shared by its two replicas.)
SINGLE_INSTANCE = frozenset({"codec-server"})


def replica_spec(spec: ProcessSpec, replica: int) -> ProcessSpec:
    """Replica `replica` (2, 3…) of the process `spec`: the same command and environment, its ports (its own and
    its SDK metrics') a step above the replica before it."""
    step = REPLICA_PORT_STEP * (replica - 1)
    env = dict(spec.env)
    if "ANXIN_TEMPORAL_SDK_METRICS_PORT" in env:
        env["ANXIN_TEMPORAL_SDK_METRICS_PORT"] = str(int(env["ANXIN_TEMPORAL_SDK_METRICS_PORT"]) + step)
    return ProcessSpec(f"{spec.name}-{replica}", spec.argv, spec.port + step, env, ready_path=spec.ready_path)


class ClusterStack(Stack):
    profile = "cluster"

    def __init__(self, data_dir: Path, ports: Ports | None = None, **options: object) -> None:
        super().__init__(data_dir, ports, **options)  # type: ignore[arg-type]
        # Temporal Server serves no Web UI (the dev server does): the UI server of its own, on the same port
        # as make run's, decrypting through the codec server as there.
        self.temporal_ui = (
            TemporalUIEngine(
                self.data_dir,
                self.log_dir,
                self.ports.temporal_ui,
                self.temporal.address,
                f"http://127.0.0.1:{self.ports.codec_server}/{codec_path_token(self.data_dir)}",
                transport=self.transport,
            )
            if self.with_ui
            else None
        )

    @cached_property
    def transport(self) -> ClusterTransport:
        """The development CA, certificates and SCRAM credentials of this data dir (`deploy/certificates.py`)."""
        return development_transport(self.data_dir)

    def make_postgres(self, env: dict[str, str]) -> PostgresEngine:
        return PostgresEngine(self.data_dir, self.log_dir, self.ports.postgres, password_auth=True, tls=self.transport)

    def prepare_databases(self) -> None:
        """Every service's schema (and the token issuer's) migrated and its runtime role granted its rights, once, before the processes
        start (they only check that nothing is pending)."""
        from services.common.database_roles import migrate_all

        migrate_all(self.postgres.migration_url, {schema: schema for schema in DATABASE_SCHEMAS})

    def engine_env(self) -> dict[str, str]:
        return {**super().engine_env(), "ANXIN_MIGRATE_ON_START": "false"}

    def make_temporal(self, env: dict[str, str]) -> TemporalEngine:
        return TemporalServerEngine(
            self.data_dir,
            self.log_dir,
            self.ports.temporal,
            self.postgres,
            search_attributes(),
            transport=self.transport,
        )

    def make_kafka(self, env: dict[str, str]) -> KafkaCluster:
        return KafkaCluster(self.data_dir, self.log_dir, self.ports.kafka, transport=self.transport)

    def engine_waves(self) -> list[list[Engine]]:
        # Temporal Server creates its databases in PostgreSQL before it starts: PostgreSQL (and Kafka,
        # which needs nothing) first.
        later: list[Engine] = [self.temporal] + ([self.temporal_ui] if self.temporal_ui else [])
        return [[self.postgres, self.kafka], later]

    def kafka_topic_env(self) -> dict[str, str]:
        assert isinstance(self.kafka, KafkaCluster)
        return {"ANXIN_KAFKA_REPLICATION_FACTOR": str(self.kafka.settings().kafka_replication_factor)}

    def transport_env(self) -> dict[str, str]:
        """Kafka over SASL_SSL with the processes' SCRAM credentials, Temporal over mTLS with their client
        certificate, each engine's certificate checked against the development CA (`deploy/certificates.py`)."""
        return self.transport.process_env()

    def process_specs(self) -> list[ProcessSpec]:
        specs: list[ProcessSpec] = []
        for spec in super().process_specs():
            specs.append(spec)
            if spec.name in SINGLE_INSTANCE:
                continue
            if spec.name == "lifecycle-worker":
                # Its commands go to any replica of each service (the next when one is down), as a Service
                # in front of the pods would spread them on a cluster.
                spec.env.update(self.replica_urls(spec.env))
            specs += [replica_spec(spec, replica) for replica in range(2, REPLICAS + 1)]
        return specs

    @staticmethod
    def replica_urls(env: dict[str, str]) -> dict[str, str]:
        lists = {}
        # The token issuer too: replica n of a service is paired with the issuer's replica n (workflows/worker.py).
        for name in ("ANXIN_CASES_URL", "ANXIN_REFERRALS_URL", "ANXIN_SANCTIONS_URL", "ANXIN_TOKEN_ISSUER_URL"):
            first = env[name]
            host, _, port = first.rpartition(":")
            lists[name] = ",".join(f"{host}:{int(port) + REPLICA_PORT_STEP * n}" for n in range(REPLICAS))
        return lists

    def urls(self) -> list[tuple[str, str]]:
        rows = []
        for name, url in super().urls():
            if name == "Temporal" and self.temporal_ui:
                rows.append(("Temporal Web UI", self.temporal_ui.describe()))
            replica = self.processes.get(f"{name}-api-2")
            rows.append((name, f"{url}  (replica 2: {replica.url})" if replica else url))
        return rows
