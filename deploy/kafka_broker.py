"""The Kafka engine of the embedded stack: one KRaft node (broker and controller in one process) run with
`java` from the jars Maven fetched into `deploy/kafka/libs`, its log dir in the data dir, the project's topics
created once it answers.

The cluster profile's three nodes (`deploy/kafka_cluster.py`) are this engine with their own identity, quorum
and replication.
"""

from __future__ import annotations

import base64
import logging
import shutil
import subprocess
import uuid
from pathlib import Path

from deploy.engines import REPO_ROOT, Engine, EngineError, PidFile, port_open, stop_pid, wait_until

log = logging.getLogger("anxin.stack")

KAFKA_LIBS = REPO_ROOT / "deploy" / "kafka" / "libs"
KAFKA_LOG4J = REPO_ROOT / "deploy" / "local" / "kafka-log4j2.yaml"


def new_cluster_id() -> str:
    """A Kafka cluster id (base64 of a UUID, as `kafka-storage random-uuid` prints)."""
    cluster_id = "-"
    while cluster_id.startswith("-"):  # the storage tool reads a leading "-" as an option
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    return cluster_id


class KafkaEngine(Engine):
    def __init__(
        self, data_dir: Path, log_dir: Path, port: int, controller_port: int, external_servers: str | None = None
    ) -> None:
        super().__init__("kafka", data_dir, log_dir, external=external_servers is not None)
        self.port = port
        self.controller_port = controller_port
        self.external_servers = external_servers
        self.kafka_dir = data_dir / "kafka"
        self.pidfile = PidFile(data_dir / "kafka.pid", "kafka.Kafka")

    @property
    def bootstrap_servers(self) -> str:
        return self.external_servers or f"127.0.0.1:{self.port}"

    def describe(self) -> str:
        return self.bootstrap_servers

    def _server_settings(self) -> dict[str, str]:
        """The broker's server properties (a cluster node overrides its identity, quorum and replication)."""
        return {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.kafka_dir / "logs"),
            "num.partitions": "6",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "6",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            "log.retention.hours": "168",
        }

    def _properties(self) -> Path:
        path = self.kafka_dir / "server.properties"
        lines = ["# Written by the Anxin launcher on each start; edit deploy/kafka_broker.py instead."]
        lines += [f"{key}={value}" for key, value in self._server_settings().items()]
        path.write_text("\n".join(lines) + "\n")
        return path

    def _format_options(self) -> list[str]:
        """How the storage tool formats a new log dir: a single-node quorum with a fresh cluster id."""
        return ["--standalone", "--cluster-id", new_cluster_id()]

    def _java(self, main_class: str, *args: str, heap: str = "-Xmx512m") -> list[str]:
        if not KAFKA_LIBS.exists() or not any(KAFKA_LIBS.glob("kafka_2.13-*.jar")):
            raise EngineError(f"Kafka jars missing in {KAFKA_LIBS}: run `make install`")
        java = shutil.which("java") or "java"
        return [
            java,
            heap,
            "-Xms128m",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={KAFKA_LOG4J}",
            "-cp",
            f"{KAFKA_LIBS}/*",
            main_class,
            *args,
        ]

    def start(self) -> None:
        if self.external:
            return
        leftover = self.pidfile.running()
        if leftover:
            log.info("stopping a Kafka broker left running from before", extra={"pid": leftover.pid})
            stop_pid(leftover.pid, timeout=30)
        self.kafka_dir.mkdir(parents=True, exist_ok=True)
        props = self._properties()
        if not (self.kafka_dir / "logs" / "meta.properties").exists():
            subprocess.run(
                self._java(
                    "kafka.tools.StorageTool", "format", *self._format_options(), "-c", str(props), heap="-Xmx256m"
                ),
                check=True,
                capture_output=True,
            )
        with self._open_log() as out:
            self.process = subprocess.Popen(
                self._java("kafka.Kafka", str(props)),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pidfile.write(self.process.pid)

    def wait_ready(self, timeout: float = 90) -> None:
        from services.common.kafka import ensure_topics
        from services.common.settings import CommonSettings

        settings = CommonSettings(kafka_bootstrap_servers=self.bootstrap_servers)

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise EngineError(f"Kafka exited; see {self.log_file}")
            host, _, port = self.bootstrap_servers.split(",")[0].rpartition(":")
            if not port_open(host, int(port)):
                return False
            ensure_topics(settings)
            return True

        wait_until(ready, timeout, "Kafka", interval=0.5)

    def stop(self) -> None:
        if self.external:
            return
        proc = self.pidfile.running()
        if proc:
            stop_pid(proc.pid, timeout=30)
        self.pidfile.clear()
        self.process = None
