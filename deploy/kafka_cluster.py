"""A three-node KRaft Kafka cluster on loopback, for the cluster profile and its tests.

Each node runs as the single development broker does (`KafkaEngine` in `deploy/kafka_broker.py`: the jars in
`deploy/kafka/libs`, combined broker + controller) with its own ports and log dir, and all three vote in one
static controller quorum, formatted with one cluster id. Node i (0, 1, 2) listens on `first_port + 2i` for
clients and on `first_port + 2i + 1` for the quorum; its files are under `<data dir>/kafka-cluster/node-<i+1>/`.

Kafka's internal topics (consumer offsets, transaction state) get three copies and need two in sync, as
the project's topics do when created with ANXIN_KAFKA_REPLICATION_FACTOR=3: one broker can die, even
with SIGKILL, without losing an acknowledged event or stopping consumers.

    python -m deploy.kafka_cluster run [--data-dir .data] [--first-port 9092]
"""

from __future__ import annotations

import argparse
import logging
import signal
import time
from pathlib import Path

from deploy.certificates import KAFKA_BROKER_USER, KAFKA_CLIENT_USER, KAFKA_SASL_MECHANISM, ClusterTransport
from deploy.engines import REPO_ROOT, Engine, EngineError, port_open, stop_pid, wait_until
from deploy.kafka_broker import KafkaEngine, new_cluster_id
from services.common.settings import CommonSettings

log = logging.getLogger("anxin.stack")

NODES = 3


class KafkaNode(KafkaEngine):
    """One combined broker + controller of the cluster."""

    def __init__(
        self,
        cluster_dir: Path,
        log_dir: Path,
        node_id: int,
        port: int,
        controller_port: int,
        *,
        voters: str,
        cluster_id: str,
        replicas: int,
        transport: ClusterTransport | None = None,
    ) -> None:
        super().__init__(cluster_dir / f"node-{node_id}", log_dir, port, controller_port)
        self.name = f"kafka-{node_id}"  # its own log file beside the others'
        self.node_id = node_id
        self.voters = voters
        self.cluster_id = cluster_id
        self.replicas = replicas
        self.transport = transport

    def _server_settings(self) -> dict[str, str]:
        settings = super()._server_settings()
        # A static quorum: every node knows all voters from its configuration, so the three can be
        # formatted and started independently, in any order.
        del settings["controller.quorum.bootstrap.servers"]
        in_sync = str(max(1, self.replicas - 1))
        settings.update(
            {
                "node.id": str(self.node_id),
                "controller.quorum.voters": self.voters,
                "default.replication.factor": str(self.replicas),
                "min.insync.replicas": in_sync,
                "offsets.topic.replication.factor": str(self.replicas),
                "transaction.state.log.replication.factor": str(self.replicas),
                "transaction.state.log.min.isr": in_sync,
                "share.coordinator.state.topic.replication.factor": str(self.replicas),
                "share.coordinator.state.topic.min.isr": in_sync,
            }
        )
        if self.transport:
            settings.update(self._sasl_ssl_settings(self.transport))
        return settings

    def _sasl_ssl_settings(self, transport: ClusterTransport) -> dict[str, str]:
        """Clients and the other brokers on SASL_SSL (SCRAM-SHA-512; the server certificate from a PEM key store,
        no client certificate asked); the controller quorum stays plain on loopback."""
        listener = f"SASL_SSL://127.0.0.1:{self.port}"
        jaas = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{KAFKA_BROKER_USER}" password="{transport.kafka_password(KAFKA_BROKER_USER)}";'
        )
        return {
            "listeners": f"{listener},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": listener,
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL",
            "inter.broker.listener.name": "SASL_SSL",
            "sasl.enabled.mechanisms": KAFKA_SASL_MECHANISM,
            "sasl.mechanism.inter.broker.protocol": KAFKA_SASL_MECHANISM,
            f"listener.name.sasl_ssl.{KAFKA_SASL_MECHANISM.lower()}.sasl.jaas.config": jaas,
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(transport.server_keystore),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(transport.ca),
            "ssl.client.auth": "none",
            "ssl.endpoint.identification.algorithm": "https",
        }

    def _properties(self) -> Path:
        # The broker's own SCRAM password is in it: readable by its owner only.
        path = self.kafka_dir / "server.properties"
        self.kafka_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.chmod(0o600)
        return super()._properties()

    def _format_options(self) -> list[str]:
        # With static voters the storage tool takes only the shared cluster id (no --standalone). The SCRAM
        # credentials go in at format time, so the brokers authenticate each other and the clients from their
        # first start (KRaft keeps them in the cluster's metadata).
        options = ["--cluster-id", self.cluster_id]
        if self.transport:
            for user in (KAFKA_BROKER_USER, KAFKA_CLIENT_USER):
                options += [
                    "--add-scram",
                    f"{KAFKA_SASL_MECHANISM}=[name={user},password={self.transport.kafka_password(user)}]",
                ]
        return options

    def kill(self) -> None:
        """SIGKILL, as a crashed machine would: no controlled shutdown, no leadership handed over."""
        proc = self.pidfile.running()
        if proc:
            stop_pid(proc.pid, sig=signal.SIGKILL, timeout=10)
        self.pidfile.clear()
        self.process = None


class KafkaCluster(Engine):
    """Three KRaft nodes on 127.0.0.1: started, waited for until all brokers are registered (and the project's
    topics exist with a copy on each), stopped. An engine of the stack like the single broker, so the
    supervisor restarts a node that dies."""

    def __init__(
        self,
        data_dir: Path,
        log_dir: Path,
        first_port: int,
        nodes: int = NODES,
        *,
        transport: ClusterTransport | None = None,
    ) -> None:
        super().__init__("kafka", data_dir, log_dir)
        self.dir = data_dir / "kafka-cluster"
        self.first_port = first_port
        self.size = nodes
        self.transport = transport
        ids = range(1, nodes + 1)
        voters = ",".join(f"{i}@127.0.0.1:{self._controller_port(i)}" for i in ids)
        self.nodes = [
            KafkaNode(
                self.dir,
                log_dir,
                i,
                self._port(i),
                self._controller_port(i),
                voters=voters,
                cluster_id="",
                replicas=nodes,
                transport=transport,
            )
            for i in ids
        ]

    def _port(self, node_id: int) -> int:
        return self.first_port + 2 * (node_id - 1)

    def _controller_port(self, node_id: int) -> int:
        return self._port(node_id) + 1

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap_servers for node in self.nodes)

    def describe(self) -> str:
        return f"{self.bootstrap_servers} ({self.size} KRaft nodes)"

    def settings(self, **overrides: object) -> CommonSettings:
        """Settings that point at this cluster and create topics with a copy on every broker (at most 3)."""
        values: dict[str, object] = {
            "kafka_bootstrap_servers": self.bootstrap_servers,
            "kafka_replication_factor": min(self.size, 3),
            **(self.transport.kafka_env() if self.transport else {}),
        }
        values.update(overrides)
        return CommonSettings(**values)  # type: ignore[arg-type]

    def _cluster_id(self) -> str:
        """One id for every node, kept in a file so that a node whose log dir is new joins the same cluster."""
        path = self.dir / "cluster-id"
        if path.exists():
            return path.read_text().strip()
        self.dir.mkdir(parents=True, exist_ok=True)
        cluster_id = new_cluster_id()
        path.write_text(cluster_id)
        return cluster_id

    def start(self) -> None:
        if self.transport:
            self.transport.ensure()
        cluster_id = self._cluster_id()
        for node in self.nodes:
            node.cluster_id = cluster_id
            node.start()  # stops a node left running from before, formats a new log dir, starts

    def live_brokers(self) -> int:
        from kafka import KafkaAdminClient

        from services.common.kafka import client_options, live_brokers

        admin = KafkaAdminClient(
            **client_options(self.settings()),
            client_id="anxin-cluster-check",
            request_timeout_ms=3000,
            bootstrap_timeout_ms=3000,
        )
        try:
            return live_brokers(admin)
        finally:
            admin.close()

    def wait_ready(self, timeout: float = 90, brokers: int | None = None) -> None:
        """Until the cluster reports `brokers` (default: every node) registered and unfenced."""
        wanted = self.size if brokers is None else brokers

        def ready() -> bool:
            for node in self.nodes:
                if node.process is not None and node.process.poll() is not None:
                    raise EngineError(f"{node.name} exited; see {node.log_file}")
            # Ports first: the admin client logs every refused connection while the brokers start.
            listening = sum(port_open("127.0.0.1", node.port) for node in self.nodes)
            return listening >= wanted and self.live_brokers() >= wanted

        wait_until(ready, timeout, f"Kafka cluster ({wanted} brokers)", interval=0.5)
        from services.common.kafka import ensure_topics

        ensure_topics(self.settings())

    def exited(self) -> bool:
        return any(node.exited() for node in self.nodes)

    def recover(self, timeout: float = 120) -> None:
        """Start the nodes that died (the others keep serving meanwhile), then wait for every broker."""
        for node in self.nodes:
            if node.exited() or not node.pidfile.running():
                node.start()
        self.wait_ready(timeout)

    def restart_node(self, node_id: int, timeout: float = 120) -> None:
        """Start a killed node again and wait until the whole cluster has it back."""
        self.nodes[node_id - 1].start()
        self.wait_ready(timeout)

    def kill(self, node_id: int) -> None:
        self.nodes[node_id - 1].kill()

    def stop(self) -> None:
        # SIGTERM to every node first, then wait for each: stopped one after the other, the last node's
        # controlled shutdown waits for a quorum that is already gone, until it is killed 30 s later.
        for node in self.nodes:
            proc = node.pidfile.running()
            if proc:
                proc.send_signal(signal.SIGTERM)
        for node in self.nodes:
            node.stop()  # waits for the process by its id, SIGKILL after 30 s


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.kafka_cluster")
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / ".data")
    parser.add_argument("--first-port", type=int, default=9092)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    cluster = KafkaCluster(args.data_dir, args.data_dir / "logs", args.first_port)
    cluster.start()
    try:
        cluster.wait_ready()
        print(f"Kafka cluster ready: {cluster.describe()}  (Ctrl-C stops)", flush=True)
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
