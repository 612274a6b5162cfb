"""The local stack: engines, then every service process, supervised until Ctrl-C.

`python -m deploy.launcher run` (what `make run` calls; `deploy/launcher.py`) starts PostgreSQL, Temporal and Kafka (or uses the
external ones named by DATABASE_URL, TEMPORAL_ADDRESS, KAFKA_BOOTSTRAP_SERVERS), then the token issuer, each
service's API, outbox relay and worker and the lifecycle worker, each its own process with its log file under
`.data/logs/`. It waits until all are ready, prints the URLs, restarts any process that dies, and stops
everything on Ctrl-C or SIGTERM. The integration tests start the same stack with this same code.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import importlib.util
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from deploy.engines import REPO_ROOT, SERVICES, Engine, EngineError, Ports, stop_pid, wait_until
from deploy.kafka_broker import KafkaEngine
from deploy.kafka_cluster import KafkaCluster
from deploy.postgres import PostgresEngine
from deploy.secrets import codec_path_token, process_keys
from deploy.temporal_dev_server import TemporalEngine

if TYPE_CHECKING:
    from services.common.service import ServiceSpec
    from services.common.settings import CommonSettings

log = logging.getLogger("anxin.stack")


def search_attributes() -> list[tuple[str, str]]:
    """The custom search attributes the lifecycle workflows use (registered on the dev server at start)."""
    from services.contracts.lifecycle import SEARCH_ATTRIBUTES

    return list(SEARCH_ATTRIBUTES)


def service_spec(service: str) -> ServiceSpec:
    spec: ServiceSpec = importlib.import_module(f"services.{service}.spec").SPEC
    return spec


def service_port_step(service: str) -> int:
    """How far above the stack's `service_base` a service's API listens: its spec's API port less 8000 (the base of
    `make run`), so a private stack shifts every service's ports alike."""
    return service_spec(service).api_port - Ports().service_base


@dataclass
class ProcessSpec:
    """One project process: how to run it and where it answers /healthz and /readyz."""

    name: str
    argv: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    # Where readiness is asked; None for a process that serves no health endpoint (ready once it stays up).
    ready_path: str | None = "/readyz"
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class AlreadyRunning(RuntimeError):
    pass


class Stack:
    """The embedded developer stack (`make run`); `deploy.cluster.ClusterStack` is the cluster profile."""

    profile = "embedded"

    def __init__(
        self,
        data_dir: Path,
        ports: Ports | None = None,
        *,
        environ: dict[str, str] | None = None,
        with_ui: bool = True,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        env = dict(os.environ if environ is None else environ)
        # The environment the stack was made with (`environ={}` for a private stack that ignores the caller's):
        # whether keys and clients come from the operator or are the data dir's development ones is decided
        # from it, not from whatever the process's environment holds later.
        self.environ = env
        self.data_dir = data_dir.resolve()
        self.ports = ports or Ports()
        self.log_dir = self.data_dir / "logs"
        self.extra_env = extra_env or {}
        self.with_ui = with_ui
        self.postgres = self.make_postgres(env)
        self.temporal: TemporalEngine = self.make_temporal(env)
        self.kafka: KafkaEngine | KafkaCluster = self.make_kafka(env)
        self.processes: dict[str, ProcessSpec] = {}
        self._lock_file: object | None = None
        self._stopping = threading.Event()

    def make_postgres(self, env: dict[str, str]) -> PostgresEngine:
        return PostgresEngine(self.data_dir, self.log_dir, self.ports.postgres, env.get("DATABASE_URL"))

    def make_temporal(self, env: dict[str, str]) -> TemporalEngine:
        return TemporalEngine(
            self.data_dir,
            self.log_dir,
            self.ports.temporal,
            self.ports.temporal_ui if self.with_ui else None,
            search_attributes(),
            env.get("TEMPORAL_ADDRESS"),
            codec_endpoint=f"http://127.0.0.1:{self.ports.codec_server}/{codec_path_token(self.data_dir)}",
        )

    def make_kafka(self, env: dict[str, str]) -> KafkaEngine | KafkaCluster:
        return KafkaEngine(
            self.data_dir,
            self.log_dir,
            self.ports.kafka,
            self.ports.kafka_controller,
            env.get("KAFKA_BOOTSTRAP_SERVERS"),
        )

    @property
    def engines(self) -> list[Engine]:
        return [engine for wave in self.engine_waves() for engine in wave]

    def engine_waves(self) -> list[list[Engine]]:
        """Engines started together and waited for before the next group starts: the three engines of the
        embedded stack are independent, so they start at once."""
        return [[self.postgres, self.temporal, self.kafka]]

    # -- the single-instance lock -------------------------------------------------------------------

    def acquire_lock(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lock_path = self.data_dir / "stack.lock"
        handle = open(lock_path, "a+")  # noqa: SIM115 - held for the stack's whole life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise AlreadyRunning(
                f"Anxin is already running from {self.data_dir} (launcher pid {owner}). "
                "Use that one (its URLs were printed when it started), or stop it with Ctrl-C first."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle

    # -- engines ------------------------------------------------------------------------------------

    def start_engines(self, report: Callable[[str], None] | None = None, *, timeout: float = 120) -> None:
        say = report or (lambda _message: None)
        for wave in self.engine_waves():
            for engine in wave:
                say(f"  {engine.name}: {'external ' + engine.describe() if engine.external else 'starting'}")
                engine.start()
            for engine in wave:
                engine.wait_ready(timeout=timeout)
                say(f"  {engine.name}: ready")
        self.prepare_databases()

    def prepare_databases(self) -> None:
        """What must be done to the databases before a process starts: nothing here, every process
        migrates its own schema at start; the cluster profile migrates as a step of its own."""

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

    # -- project processes --------------------------------------------------------------------------

    def process_specs(self) -> list[ProcessSpec]:
        python = sys.executable
        # The issuer first: the lifecycle worker's first command needs a token from it.
        specs: list[ProcessSpec] = [
            ProcessSpec(
                "issuer-api",
                [python, "-m", "services.issuer", "api"],
                self.ports.token_issuer,
                {
                    **self.engine_env(),
                    **self.issuer_secrets(),
                    # Its people's accounts (services/issuer/accounts.py), in a schema of its own.
                    "DATABASE_URL": self.postgres.service_url("issuer"),
                },
            ),
        ]
        for service in SERVICES:
            env = {**self.engine_env(), "DATABASE_URL": self.postgres.service_url(service), **self.service_env(service)}
            base = self.ports.service_base + service_port_step(service)
            specs.append(ProcessSpec(f"{service}-api", [python, "-m", f"services.{service}", "api"], base, env))
            shape = service_spec(service)
            if shape.has_relay:
                specs.append(
                    ProcessSpec(f"{service}-relay", [python, "-m", f"services.{service}", "relay"], base + 100, env)
                )
            if shape.has_worker:
                kind = shape.worker_process
                specs.append(
                    ProcessSpec(f"{service}-{kind}", [python, "-m", f"services.{service}", kind], base + 200, env)
                )
        specs.append(
            ProcessSpec(
                "console",
                [python, "-m", "services.console", "api"],
                self.ports.console,
                {
                    **self.engine_env(),
                    **self.service_urls(),
                    **self.console_credentials(),
                    # Its sessions (services/console/session_store.py), in a schema of its own.
                    "DATABASE_URL": self.postgres.service_url("console"),
                },
            )
        )
        specs.append(
            ProcessSpec(
                "codec-server",
                [python, "-m", "services.common.codec_server"],
                self.ports.codec_server,
                {
                    **self.engine_env(),
                    "ANXIN_CODEC_PATH_TOKEN": codec_path_token(self.data_dir),
                    "ANXIN_TEMPORAL_UI_ORIGIN": f"http://127.0.0.1:{self.ports.temporal_ui}",
                },
            )
        )
        specs.append(
            ProcessSpec(
                "lifecycle-worker",
                [python, "-m", "workflows.worker"],
                self.ports.lifecycle_worker,
                {
                    **self.engine_env(),
                    **{name: url for name, url in self.service_urls().items() if name != "ANXIN_INTAKE_URL"},
                    "ANXIN_TEMPORAL_SDK_METRICS_PORT": str(self.ports.lifecycle_worker + 1000),
                    **self.lifecycle_credentials(),
                },
            )
        )
        for spec in specs:  # each process holds only the data keys of its purposes
            spec.env = process_keys(spec.name, spec.env)
        return specs

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

    def start_process(self, spec: ProcessSpec) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = process_keys(
            spec.name,
            {**os.environ, **spec.env, **self.extra_env, "ANXIN_HTTP_PORT": str(spec.port), "PYTHONUNBUFFERED": "1"},
        )
        with open(self.log_dir / f"{spec.name}.log", "ab") as out:
            spec.process = subprocess.Popen(
                spec.argv, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        spec.started_at = time.monotonic()
        self.processes[spec.name] = spec

    def start_processes(self, names: list[str] | None = None, *, timeout: float = 90) -> None:
        if names is not None and any(name.startswith("lifecycle-worker") for name in names):
            # The lifecycle worker's commands carry tokens from the issuer.
            names = [*names, "issuer-api"]
        specs = [s for s in self.process_specs() if names is None or s.name in names]
        specs = [s for s in specs if not self.is_running(s.name)]
        for spec in specs:
            self.start_process(spec)
        for spec in specs:
            self.wait_process_ready(spec, timeout)

    def is_running(self, name: str) -> bool:
        spec = self.processes.get(name)
        return bool(spec and spec.process and spec.process.poll() is None)

    def spec(self, name: str) -> ProcessSpec:
        return next(s for s in self.process_specs() if s.name == name)

    def wait_process_ready(self, spec: ProcessSpec, timeout: float) -> None:
        def ready() -> bool:
            if spec.process is not None and spec.process.poll() is not None:
                raise EngineError(
                    f"{spec.name} exited with {spec.process.returncode}; see {self.log_dir}/{spec.name}.log"
                )
            if spec.ready_path is None:
                return time.monotonic() - spec.started_at > 3.0
            return http_status(f"{spec.url}{spec.ready_path}") == 200

        wait_until(ready, timeout, spec.name, interval=0.3)

    def stop_process(self, name: str, *, sig: int = signal.SIGTERM) -> None:
        spec = self.processes.get(name)
        if spec and spec.process and spec.process.poll() is None:
            stop_pid(spec.process.pid, sig=sig, timeout=15)

    def kill_process(self, name: str) -> None:
        """kill -9, as a crash would; used by fault tests."""
        self.stop_process(name, sig=signal.SIGKILL)

    def restart_process(self, name: str, *, timeout: float = 60) -> None:
        spec = self.processes.get(name) or self.spec(name)
        self.stop_process(name)
        self.start_process(spec)
        self.wait_process_ready(spec, timeout)

    def stop_processes(self) -> None:
        for spec in self.processes.values():
            if spec.process and spec.process.poll() is None:
                spec.process.send_signal(signal.SIGTERM)
        for spec in self.processes.values():
            if spec.process:
                stop_pid(spec.process.pid, timeout=15)

    def stop(self) -> None:
        self._stopping.set()
        self.stop_processes()
        for engine in reversed(self.engines):
            try:
                engine.stop()
            except Exception:
                log.exception("stopping %s failed", engine.name)

    # -- supervision --------------------------------------------------------------------------------

    def supervise(self) -> None:
        """Restart any engine or project process that dies (with a growing pause), until the stack stops."""
        while not self._stopping.wait(1.0):
            for engine in self.engines:
                if not engine.exited():
                    continue
                print(f"  {engine.name} exited; restarting", flush=True)
                try:
                    engine.recover(timeout=120)
                    print(f"  {engine.name}: ready again", flush=True)
                except EngineError as exc:
                    print(f"  {engine.name} could not restart: {exc}", flush=True)
            for spec in self.processes.values():
                if spec.process is None or spec.process.poll() is None:
                    continue
                pause = min(2 ** min(spec.restarts, 5), 30)
                if time.monotonic() - spec.started_at < pause:
                    continue
                spec.restarts += 1
                print(
                    f"  {spec.name} exited ({spec.process.returncode}); restarting (#{spec.restarts}), "
                    f"see {self.log_dir}/{spec.name}.log",
                    flush=True,
                )
                self.start_process(spec)

    def urls(self) -> list[tuple[str, str]]:
        rows = []
        for spec in self.processes.values():
            if spec.name.endswith("-api"):
                rows.append((spec.name.removesuffix("-api"), f"{spec.url}/docs"))
            elif spec.name == "console":
                rows.append(("console (工作台)", f"{spec.url}/"))
        if not self.temporal.external and self.temporal.ui_port:
            rows.append(("Temporal Web UI", f"http://127.0.0.1:{self.temporal.ui_port}"))
        rows.append(("Temporal", self.temporal.describe()))
        rows.append(("Kafka", self.kafka.describe()))
        rows.append(("PostgreSQL", self.postgres.describe()))
        rows.append(("logs", str(self.log_dir)))
        return rows

    def status(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        for spec in self.process_specs():
            code = http_status(f"{spec.url}/readyz")
            rows.append({"name": spec.name, "url": spec.url, "ready": code == 200, "http": code})
        return rows


def http_status(url: str, timeout: float = 5.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None


@contextlib.contextmanager
def running_stack(stack: Stack, *, processes: list[str] | None = None) -> Iterator[Stack]:
    """Engines and (some) processes up for the duration of the block; everything stopped after."""
    stack.acquire_lock()
    try:
        stack.start_engines()
        stack.start_processes(processes)
        yield stack
    finally:
        stack.stop()
