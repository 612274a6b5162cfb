"""The project processes of the local stack: what each is (`ProcessSpec`: how it runs, where it answers
/readyz), the whole list of them (the token issuer, each service's API, relay and worker, the console, the codec
server and the lifecycle worker, each with its environment and only its own data keys), and starting, waiting
for, stopping, killing and restarting them.

A part of `Stack` (`deploy/stack.py`), which sets the attributes declared here and supervises the processes;
the cluster profile (`deploy/cluster.py`) adds a second replica of each.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from deploy.engines import REPO_ROOT, SERVICES, EngineError, stop_pid, wait_until
from deploy.process_environment import ProcessEnvironment, service_port_step, service_spec
from deploy.secrets import codec_path_token, process_keys


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


class StackProcesses(ProcessEnvironment):
    """The stack's project processes, started with their environment (`ProcessEnvironment`)."""

    # Set by `Stack.__init__`.
    log_dir: Path
    extra_env: dict[str, str]
    processes: dict[str, ProcessSpec]

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
            status, body = http_answer(f"{spec.url}{spec.ready_path}")
            if status == 200:
                return True
            # Raised, not returned, so that a timeout says what the process last answered (which engine it
            # still waits for) and where its log is, not only that it was not ready.
            answer = f"{spec.ready_path} answered {status}: {body}" if status else "no answer"
            raise ProcessNotReady(f"{answer}; see {self.log_dir}/{spec.name}.log")

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

    def status(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        for spec in self.process_specs():
            code = http_status(f"{spec.url}/readyz")
            rows.append({"name": spec.name, "url": spec.url, "ready": code == 200, "http": code})
        return rows


class ProcessNotReady(Exception):
    """A process answered its readiness probe with something other than 200, or not at all."""


def http_status(url: str, timeout: float = 5.0) -> int | None:
    return http_answer(url, timeout)[0]


def http_answer(url: str, timeout: float = 5.0) -> tuple[int | None, str]:
    """The status of a GET (None: no answer) and the start of its body."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), response.read(500).decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read(500).decode(errors="replace")
    except OSError:
        return None, ""
