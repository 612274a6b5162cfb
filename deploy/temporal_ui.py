"""The Temporal Web UI for the cluster profile, in front of a Temporal Server (`deploy/temporal_server.py`).

The dev server serves its UI itself (`--ui-port`, `--ui-codec-endpoint`); Temporal Server does not, so the
cluster profile runs the UI server of its own: built by `make temporal-ui` from the Go module
`github.com/temporalio/ui-server/v2` at the version pinned in `deploy/temporal/UI_VERSION`, into
`.tools/temporal-ui/<version>/temporal-ui-server`. The module embeds the UI's built pages, so this one
binary serves the pages and the `/api/v1/...` routes they call, which it forwards to the frontend's gRPC
port.

The UI server reads `<config dir>/base.yaml` and then `<config dir>/<env>.yaml` (its `--config` and `--env`
flags). This engine writes only the second, `<data dir>/temporal-ui/config/anxin.yaml`, with everything
it needs, so nothing of the module's sample config (OIDC placeholders, an allow-all CORS) applies:

- `temporalGrpcAddress`: the frontend; `host`/`port`: loopback and the given port; `enableUi: true`;
- `codec`: the project's codec server, which decrypts payloads for the pages (`passAccessToken: false`: no
  sign-in here, so the endpoint carries the codec server's path secret, `ANXIN_CODEC_PATH_TOKEN`, as
  `http://127.0.0.1:8299/<secret>`, and its `ANXIN_TEMPORAL_UI_ORIGIN` must be this UI's origin,
  `TemporalUIEngine.origin`);
- no auth; CORS allows only the UI's own origin; no news fetch, no check for new versions.
"""

from __future__ import annotations

import json
import logging
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

from deploy.certificates import SERVER_NAME, ClusterTransport
from deploy.engines import REPO_ROOT, Engine, EngineError, PidFile, port_open, stop_pid, wait_until

log = logging.getLogger("anxin.stack")

VERSION_FILE = REPO_ROOT / "deploy" / "temporal" / "UI_VERSION"
BINARY = "temporal-ui-server"
# The name of the config file the UI server reads after base.yaml (`--env`).
CONFIG_ENV = "anxin"


def pinned_version() -> str:
    return VERSION_FILE.read_text().strip()


def install_dir(version: str | None = None) -> Path:
    return REPO_ROOT / ".tools" / "temporal-ui" / (version or pinned_version())


def ensure_built() -> Path:
    """The folder of the pinned build, running `make temporal-ui` first when it is missing (under a minute and
    a half once; the Makefile's stamp makes it a no-op afterwards)."""
    folder = install_dir()
    if not (folder / ".built").exists():
        log.info("building the Temporal UI server %s (make temporal-ui)", pinned_version())
        subprocess.run(["make", "-s", "temporal-ui"], cwd=REPO_ROOT, check=True)
    if not (folder / BINARY).exists():
        raise EngineError(f"Temporal UI server missing in {folder}: run `make temporal-ui`")
    return folder


def _get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read()


class TemporalUIEngine(Engine):
    """The Temporal Web UI server on loopback, talking to `temporal_address` and decoding payloads through
    the codec server at `codec_endpoint`."""

    def __init__(
        self,
        data_dir: Path,
        log_dir: Path,
        port: int,
        temporal_address: str,
        codec_endpoint: str,
        *,
        namespace: str = "default",
        transport: ClusterTransport | None = None,
    ) -> None:
        super().__init__("temporal-ui", data_dir, log_dir)
        self.transport = transport
        self.port = port
        self.temporal_address = temporal_address
        self.codec_endpoint = codec_endpoint
        self.namespace = namespace
        self.ui_dir = data_dir / "temporal-ui"
        self.config_dir = self.ui_dir / "config"
        # The config folder's path is in the command line and names this data dir: a UI server of another
        # stack (another data dir) is never taken for ours.
        self.pidfile = PidFile(data_dir / "temporal-ui.pid", str(self.config_dir))

    @property
    def origin(self) -> str:
        """The UI's origin: what the codec server's CORS must allow (ANXIN_TEMPORAL_UI_ORIGIN)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.origin}/"

    def describe(self) -> str:
        return self.url

    # -- config ---------------------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return {
            "temporalGrpcAddress": self.temporal_address,
            "host": "127.0.0.1",
            "port": self.port,
            "publicPath": "",
            "enableUi": True,
            "defaultNamespace": self.namespace,
            "showTemporalSystemNamespace": False,
            "auth": {"enabled": False},
            # The UI's own pages are its only caller. cookieInsecure: the UI is served over plain HTTP on
            # loopback, where a Secure CSRF cookie would be dropped and every write action refused.
            "cors": {"allowOrigins": [self.origin], "unsafeAllowAllOrigins": False, "cookieInsecure": True},
            "codec": {"endpoint": self.codec_endpoint, "passAccessToken": False, "includeCredentials": False},
            # Nothing fetched from outside: no news feed, no check for a newer release. (The feedback button
            # cannot be hidden; with no feedbackUrl it links to Temporal's issue tracker, fetching nothing.)
            "disableNewsFetch": True,
            "notifyOnNewVersion": False,
            "feedbackUrl": "",
            "forwardHeaders": [],
            **self._frontend_tls(),
        }

    def _frontend_tls(self) -> dict[str, Any]:
        """To a frontend that requires client certificates (the cluster profile's): the processes' certificate,
        the server's checked against the CA and its name."""
        if self.transport is None:
            return {}
        t = self.transport
        return {
            "tls": {
                "caFile": str(t.ca),
                "certFile": str(t.client_cert),
                "keyFile": str(t.client_key),
                "serverName": SERVER_NAME,
                "enableHostVerification": True,
            }
        }

    def _write_config(self) -> Path:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        path = self.config_dir / f"{CONFIG_ENV}.yaml"
        # JSON is YAML: the UI server reads it as is (and never renders it as a template: that takes an
        # `enable-template` comment, which JSON cannot carry).
        path.write_text(json.dumps(self.config(), indent=2) + "\n")
        return path

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        leftover = self.pidfile.running()
        if leftover:
            log.info("stopping a Temporal UI server left running from before", extra={"pid": leftover.pid})
            stop_pid(leftover.pid)
        folder = ensure_built()
        if self.transport:
            self.transport.ensure()
        self._write_config()
        with self._open_log() as out:
            # --root / with an absolute --config: the server joins the two into the config folder's path.
            self.process = subprocess.Popen(
                [str(folder / BINARY), "--root", "/", "--config", str(self.config_dir), "--env", CONFIG_ENV, "start"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.ui_dir,
            )
        self.pidfile.write(self.process.pid)

    def settings(self) -> dict[str, Any]:
        """The UI's settings as its pages read them (`/api/v1/settings`)."""
        status, body = _get(f"{self.origin}/api/v1/settings")
        if status != 200:  # not an EngineError: wait_ready keeps asking
            raise RuntimeError(f"{self.origin}/api/v1/settings answered {status}")
        settings: dict[str, Any] = json.loads(body)
        return settings

    def wait_ready(self, timeout: float = 30) -> None:
        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise EngineError(f"Temporal UI server exited; see {self.log_file}")
            if not port_open("127.0.0.1", self.port):
                return False
            status, _ = _get(self.url)
            return status == 200 and (self.settings().get("Codec") or {}).get("Endpoint") == self.codec_endpoint

        wait_until(ready, timeout, "Temporal UI server", interval=0.25)

    def stop(self) -> None:
        proc = self.pidfile.running()
        if proc:
            stop_pid(proc.pid)
        self.pidfile.clear()
        self.process = None
