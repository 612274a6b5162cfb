"""Temporal Server (not the dev server) on the project's PostgreSQL, for the cluster profile.

The server and its schema tool are built by `make temporal-server` from the Go module
`go.temporal.io/server` at the version pinned in `deploy/temporal/VERSION`, into
`.tools/temporal-server/<version>/` (with the module's SQL schemas and sample config copied beside them).
This engine then, on the stack's PostgreSQL:

1. creates a `temporal` role and the databases `temporal` and `temporal_visibility` with the module's own
   `temporal-sql-tool` (create, setup-schema at 0.0, update-schema from `schema/postgresql/v12/.../versioned`:
   the same steps an operator runs against a production database, and idempotent on a restart);
2. writes a server config derived from the module's `config/development-postgres12.yaml` (persistence and
   advanced visibility on PostgreSQL, every port on loopback, NUM_HISTORY_SHARDS shards);
3. starts all four services (frontend, history, matching, worker) in one process, waits until the frontend
   answers, registers the namespace and the project's search attributes.

Ports are derived from the frontend's gRPC port P (the stack's Temporal port): history, matching and worker
gRPC on P+1..P+3, the frontend's HTTP API on P+20, Prometheus metrics on P+30 (clear of every other port in
`Ports`: the services start 767 above P). The ring-membership ports go 3000 below, P-2990..P-2987: Temporal
stores them in a PostgreSQL smallint (cluster_membership.rpc_port), so they must stay under 32768, which
the test stacks' shifted ports (P up to 33000 and more) do not. No two stacks in use are 3000 apart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from deploy.certificates import SERVER_NAME, ClusterTransport
from deploy.engines import REPO_ROOT, EngineError, PidFile, port_open, stop_pid, wait_until
from deploy.postgres import PostgresEngine
from deploy.temporal_dev_server import TemporalEngine

log = logging.getLogger("anxin.stack")

VERSION_FILE = REPO_ROOT / "deploy" / "temporal" / "VERSION"

# History shards are fixed when the cluster's database is created and cannot be changed afterwards (a new
# count needs a new cluster). Each shard is an owner of a slice of workflows with its own queues, cache and
# database lease; on this 2-core machine 4 keep the idle cost low (the dev server runs 1) while still
# spreading work over several shards, so contention shows as it would on a cluster. A production cluster
# picks its count once for the size it will grow into (docs/deployment.md).
NUM_HISTORY_SHARDS = 4

# The development password of the server's database role (the embedded PostgreSQL trusts loopback anyway).
DB_USER = "temporal"
DB_PASSWORD = "temporal-dev"
DATABASES = {"temporal": "temporal", "temporal_visibility": "visibility"}  # database -> schema folder


def pinned_version() -> str:
    return VERSION_FILE.read_text().strip()


def install_dir(version: str | None = None) -> Path:
    return REPO_ROOT / ".tools" / "temporal-server" / (version or pinned_version())


def ensure_built() -> Path:
    """The folder of the pinned build, running `make temporal-server` first when it is missing (about five
    minutes once; the Makefile's stamp makes it a no-op afterwards)."""
    folder = install_dir()
    if not (folder / ".built").exists():
        log.info("building Temporal Server %s (make temporal-server)", pinned_version())
        subprocess.run(["make", "-s", "temporal-server"], cwd=REPO_ROOT, check=True)
    if not (folder / "temporal-server").exists():
        raise EngineError(f"Temporal Server missing in {folder}: run `make temporal-server`")
    return folder


class TemporalServerEngine(TemporalEngine):
    """Temporal Server on PostgreSQL; a drop-in for the dev-server engine (same address, readiness check and
    search-attribute registration), so the stack can choose either."""

    def __init__(
        self,
        data_dir: Path,
        log_dir: Path,
        port: int,
        postgres: PostgresEngine,
        search_attributes: list[tuple[str, str]],
        *,
        namespace: str = "default",
        shards: int = NUM_HISTORY_SHARDS,
        transport: ClusterTransport | None = None,
    ) -> None:
        super().__init__(data_dir, log_dir, port, None, search_attributes)
        self.name = "temporal-server"
        self.postgres = postgres
        self.transport = transport
        self.namespace = namespace
        self.shards = shards
        self.server_dir = data_dir / "temporal-server"
        # The config file's path is in the command line and names this data dir: a server of another stack
        # (another data dir) is never taken for ours.
        self.pidfile = PidFile(data_dir / "temporal-server.pid", str(self.server_dir / "config.yaml"))

    # -- database -------------------------------------------------------------------------------------

    def _db_endpoint(self) -> tuple[str, int]:
        url = urlsplit(self.postgres.admin_url)
        return url.hostname or "127.0.0.1", url.port or 5432

    def _sql_tool(self, folder: Path, database: str, *args: str) -> None:
        host, port = self._db_endpoint()
        command = [
            str(folder / "temporal-sql-tool"),
            "--plugin",
            "postgres12",
            "--ep",
            host,
            "--port",
            str(port),
            "--user",
            DB_USER,
            "--password",
            DB_PASSWORD,
            "--db",
            database,
            *self._sql_tool_tls(),
            *args,
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise EngineError(f"temporal-sql-tool {' '.join(args)} on {database} failed: {done.stderr[-2000:]}")

    def _sql_tool_tls(self) -> list[str]:
        tls = self.postgres.tls
        if tls is None:
            return []
        # Host verification stays on (the tool's default): the certificate must name the server.
        return ["--tls", "--tls-ca-file", str(tls.ca), "--tls-server-name", SERVER_NAME]

    def _store_tls(self) -> dict[str, object]:
        """The server's own connections to PostgreSQL: TLS, verify-full against the CA, when PostgreSQL has it."""
        tls = self.postgres.tls
        if tls is None:
            return {}
        return {
            "tls": {"enabled": True, "caFile": str(tls.ca), "serverName": SERVER_NAME, "enableHostVerification": True}
        }

    def prepare_databases(self, folder: Path) -> None:
        """The server's role and two databases, at the schema version of the pinned module (idempotent)."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.postgres.admin_url, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (DB_USER,)).fetchone():
                # CREATEDB: the schema tool creates the databases itself, as it would on a managed server.
                conn.execute(
                    sql.SQL("CREATE ROLE {} LOGIN CREATEDB PASSWORD {}").format(
                        sql.Identifier(DB_USER), sql.Literal(DB_PASSWORD)
                    )
                )
            existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database").fetchall()}
        for database, schema in DATABASES.items():
            if database not in existing:
                self._sql_tool(folder, database, "create")
            with psycopg.connect(self.postgres.database_url(database), autocommit=True) as conn:
                versioned = conn.execute("SELECT to_regclass('public.schema_version')").fetchone()
            if versioned is None or versioned[0] is None:
                self._sql_tool(folder, database, "setup-schema", "-v", "0.0")
            # Applies only the versions above the recorded one: a no-op on a restart, a migration after
            # the pin moves to a newer server.
            self._sql_tool(
                folder,
                database,
                "update-schema",
                "-d",
                str(folder / "schema" / "postgresql" / "v12" / schema / "versioned"),
            )

    # -- config ---------------------------------------------------------------------------------------

    def config(self) -> dict[str, object]:
        """The module's development-postgres12.yaml, with this stack's database, ports and shard count."""
        host, db_port = self._db_endpoint()
        p = self.port

        def store(database: str, conns: int) -> dict[str, object]:
            return {
                "sql": {
                    "pluginName": "postgres12",
                    "databaseName": database,
                    "connectAddr": f"{host}:{db_port}",
                    "connectProtocol": "tcp",
                    "user": DB_USER,
                    "password": DB_PASSWORD,
                    "maxConns": conns,
                    "maxIdleConns": conns,
                    "maxConnLifetime": "1h",
                    **self._store_tls(),
                }
            }

        def rpc(grpc: int, membership: int, http: int | None = None) -> dict[str, object]:
            ports: dict[str, object] = {"grpcPort": grpc, "membershipPort": membership, "bindOnLocalHost": True}
            if http:
                ports["httpPort"] = http
            return {"rpc": ports}

        return {
            "log": {"stdout": True, "level": "warn", "format": "json"},
            "persistence": {
                "defaultStore": "postgres-default",
                "visibilityStore": "postgres-visibility",
                "numHistoryShards": self.shards,
                # The sample's 20/2 connections; visibility gets more, as every list query and search
                # attribute update goes there.
                "datastores": {
                    "postgres-default": store("temporal", 20),
                    "postgres-visibility": store("temporal_visibility", 10),
                },
            },
            "global": {
                "membership": {"maxJoinDuration": "30s", "broadcastAddress": "127.0.0.1"},
                # The sample's fixed pprof (7936) and metrics (8000, our first API) ports would collide.
                "pprof": {"port": 0},
                "metrics": {
                    "prometheus": {
                        "framework": "tally",
                        "timerType": "histogram",
                        "listenAddress": f"127.0.0.1:{p + 30}",
                    }
                },
                **self._frontend_tls(),
            },
            "services": {
                "frontend": rpc(p, p - 2990, p + 20),
                "history": rpc(p + 1, p - 2989),
                "matching": rpc(p + 2, p - 2988),
                "worker": rpc(p + 3, p - 2987),
            },
            "clusterMetadata": {
                "enableGlobalNamespace": False,
                "failoverVersionIncrement": 10,
                "masterClusterName": "active",
                "currentClusterName": "active",
                "clusterInformation": {
                    "active": {
                        "enabled": True,
                        "initialFailoverVersion": 1,
                        "rpcName": "frontend",
                        "rpcAddress": f"127.0.0.1:{p}",
                    }
                },
            },
            "dcRedirectionPolicy": {"policy": "noop"},
            # No archival: the sample's filestore archival writes under /tmp.
            "archival": {"history": {"state": "disabled"}, "visibility": {"state": "disabled"}},
            "namespaceDefaults": {"archival": {"history": {"state": "disabled"}, "visibility": {"state": "disabled"}}},
            "dynamicConfigClient": {"filepath": str(self.server_dir / "dynamicconfig.yaml"), "pollInterval": "10s"},
        }

    def _frontend_tls(self) -> dict[str, object]:
        """The frontend on TLS with a client certificate required of every caller (mTLS); the server's own
        system worker, a caller too, presents the engines' certificate. History, matching and the worker
        service talk to each other plain on loopback (no `internode` section)."""
        if self.transport is None:
            return {}
        t = self.transport
        client = {"serverName": SERVER_NAME, "rootCaFiles": [str(t.ca)]}
        return {
            "tls": {
                "frontend": {
                    "server": {
                        "certFile": str(t.server_cert),
                        "keyFile": str(t.server_key),
                        "clientCaFiles": [str(t.ca)],
                        "requireClientAuth": True,
                    },
                    "client": client,
                },
                "systemWorker": {"certFile": str(t.server_cert), "keyFile": str(t.server_key), "client": client},
            }
        }

    def client_tls_config(self) -> Any:
        """The launcher's clients' TLS to the frontend: the processes' client certificate (False: plain)."""
        if self.transport is None:
            return False
        from temporalio.service import TLSConfig

        t = self.transport.ensure()
        return TLSConfig(
            server_root_ca_cert=t.ca.read_bytes(),
            domain=SERVER_NAME,
            client_cert=t.client_cert.read_bytes(),
            client_private_key=t.client_key.read_bytes(),
        )

    def _write_config(self) -> Path:
        self.server_dir.mkdir(parents=True, exist_ok=True)
        # Search attributes just added are visible to the next start or query without waiting for the
        # cache (as the dev server does); costs a read per query, negligible at this scale.
        (self.server_dir / "dynamicconfig.yaml").write_text(
            "system.forceSearchAttributesCacheRefreshOnRead:\n  - value: true\n    constraints: {}\n"
        )
        path = self.server_dir / "config.yaml"
        # JSON is YAML: the server reads it as is, and no YAML writer is needed here.
        path.write_text(json.dumps(self.config(), indent=2) + "\n")
        return path

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        leftover = self.pidfile.running()
        if leftover:
            log.info("stopping a Temporal Server left running from before", extra={"pid": leftover.pid})
            stop_pid(leftover.pid, timeout=30)
        folder = ensure_built()
        if self.transport:
            self.transport.ensure()
            self.client_tls = self.client_tls_config()
        self.prepare_databases(folder)
        config = self._write_config()
        with self._open_log() as out:
            self.process = subprocess.Popen(
                [str(folder / "temporal-server"), "--config-file", str(config), "--allow-no-auth", "start"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.server_dir,
            )
        self.pidfile.write(self.process.pid)

    def wait_ready(self, timeout: float = 90) -> None:
        from temporalio.client import Client

        async def healthy() -> bool:
            client = await Client.connect(self.address, tls=self.client_tls)
            return await client.service_client.check_health()

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise EngineError(f"Temporal Server exited; see {self.log_file}")
            return port_open("127.0.0.1", self.port) and asyncio.run(healthy())

        wait_until(ready, timeout, "Temporal Server", interval=0.5)
        asyncio.run(self.register_namespace())
        # Each frontend refreshes its namespace cache on a timer (2 s): retry until the new one is known.
        wait_until(
            lambda: asyncio.run(self.register_search_attributes(self.namespace)) is not None,
            30,
            f"namespace {self.namespace}",
            interval=0.5,
        )

    async def register_namespace(self, retention_days: int = 7) -> bool:
        """Register the namespace unless it exists (the dev server's `-n`); returns whether it was added."""
        from google.protobuf.duration_pb2 import Duration
        from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
        from temporalio.client import Client
        from temporalio.service import RPCError, RPCStatusCode

        client = await Client.connect(self.address, tls=self.client_tls)
        try:
            await client.workflow_service.register_namespace(
                RegisterNamespaceRequest(
                    namespace=self.namespace,
                    # Closed workflows stay listable (and their histories readable) for a week.
                    workflow_execution_retention_period=Duration(seconds=retention_days * 86400),
                )
            )
        except RPCError as exc:
            if exc.status == RPCStatusCode.ALREADY_EXISTS:
                return False
            raise
        return True

    def stop(self) -> None:
        proc = self.pidfile.running()
        if proc:
            # SIGTERM lets the server hand its shards back and leave the membership ring before it exits.
            stop_pid(proc.pid, timeout=30)
        self.pidfile.clear()
        self.process = None
