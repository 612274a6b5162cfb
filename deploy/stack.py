"""The local stack: engines, then every service process, supervised until Ctrl-C.

`python -m deploy.launcher run` (what `make run` calls; `deploy/launcher.py`) starts PostgreSQL, Temporal and Kafka (or uses the
external ones named by DATABASE_URL, TEMPORAL_ADDRESS, KAFKA_BOOTSTRAP_SERVERS), then the token issuer, each
service's API, outbox relay and worker and the lifecycle worker, each its own process with its log file under
`.data/logs/`. It waits until all are ready, prints the URLs, restarts any process that dies, and stops
everything on Ctrl-C or SIGTERM. The integration tests start the same stack with this same code.

`Stack` is composed of its parts: here its engines, its single-instance lock, stopping and supervision; the
project processes (what each is, the whole list, starting and stopping them) in `deploy/stack_processes.py`, and
what each process is given (engines' addresses, keys, clients, the services' addresses) in
`deploy/process_environment.py`.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from deploy.engines import Engine, EngineError, Ports
from deploy.kafka_broker import KafkaEngine
from deploy.kafka_cluster import KafkaCluster
from deploy.postgres import PostgresEngine
from deploy.secrets import codec_path_token
from deploy.stack_processes import ProcessSpec, StackProcesses
from deploy.temporal_dev_server import TemporalEngine

log = logging.getLogger("anxin.stack")


def search_attributes() -> list[tuple[str, str]]:
    """The custom search attributes the lifecycle workflows use (registered on the dev server at start)."""
    from services.contracts.lifecycle import SEARCH_ATTRIBUTES

    return list(SEARCH_ATTRIBUTES)


class AlreadyRunning(RuntimeError):
    pass


class Stack(StackProcesses):
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
