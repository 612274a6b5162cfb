"""The cluster profile (`make run-cluster`) on this machine: Temporal Server on PostgreSQL, three KRaft Kafka
brokers with the topics at three copies, PostgreSQL with passwords, a migration step and runtime roles, two
replicas of every API, relay, worker and lifecycle worker; every engine reached over TLS only (Kafka SASL_SSL
with SCRAM, Temporal with client certificates, PostgreSQL verify-full), a plain client refused by each.

One complaint walks the refusal path on it; then 100 complaints are filed while one broker is killed with
SIGKILL and Temporal Server is restarted: every complaint still starts its workflow and reaches the cases
ledger exactly once, as `make faults` checks on the embedded stack.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest
from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from temporalio.client import Client
from temporalio.service import TLSConfig

from deploy.cluster import ClusterStack
from deploy.engines import REPO_ROOT, Ports
from deploy.kafka_cluster import KafkaCluster
from services.common.kafka import client_options
from services.common.temporal import tls_config
from tests.integration.test_intake import complaint
from tests.integration.test_lifecycle_refusal import walk_the_refusal_path
from tests.support.delivery import inbox_applications, started_and_ledgered
from tests.support.stack_fixtures import PORT_OFFSET, token_source

# 1,500 below the session's test stack (never 1,000: `Ports.private` says why), so both can run at once.
CLUSTER_PORTS = Ports.private(PORT_OFFSET - 1500)


@pytest.fixture(scope="module")
def cluster() -> Iterator[ClusterStack]:
    data_dir = REPO_ROOT / ".data" / f"test-cluster{PORT_OFFSET or ''}"
    ClusterStack(data_dir, CLUSTER_PORTS, environ={}).stop()  # engines left by a killed run
    shutil.rmtree(data_dir, ignore_errors=True)
    # With its Web UI server, which reaches the frontend with the processes' client certificate.
    stack = ClusterStack(data_dir, CLUSTER_PORTS, environ={})
    stack.acquire_lock()
    try:
        stack.start_engines(timeout=180)
        stack.start_processes(timeout=300)
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def cluster_token(cluster: ClusterStack) -> Callable[[str], str]:
    return token_source(cluster)


def test_every_process_runs_twice_on_the_cluster_engines(cluster: ClusterStack) -> None:
    assert isinstance(cluster.kafka, KafkaCluster) and cluster.kafka.live_brokers() == 3
    names = set(cluster.processes)
    for process in ("intake-api", "cases-relay", "sanctions-worker", "lifecycle-worker"):
        assert {process, f"{process}-2"} <= names
    assert all(row["ready"] for row in cluster.status()), cluster.status()
    with psycopg.connect(_database_url(cluster)) as conn:
        # Temporal Server's own databases live beside the services' on the same PostgreSQL.
        databases = {row[0] for row in conn.execute("SELECT datname FROM pg_database").fetchall()}
    assert {"temporal", "temporal_visibility", "anxin"} <= databases
    # PostgreSQL as production runs it: no connection without a password, the processes on runtime roles
    # that own nothing (the schemas were migrated before they started, by the migration role).
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{cluster.ports.postgres}/anxin", connect_timeout=5)
    assert cluster.processes["cases-api-2"].env["DATABASE_URL"].startswith("postgresql://cases:")
    # ...and only over TLS: a connection without it is refused even with the right password, every URL asks for
    # the server's certificate to be checked, and every connection of the processes and Temporal Server is TLS.
    assert "sslmode=verify-full" in cluster.processes["cases-api-2"].env["DATABASE_URL"]
    plain = _database_url(cluster).split("?")[0] + "?sslmode=disable"
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        psycopg.connect(plain, connect_timeout=5)
    with psycopg.connect(_database_url(cluster)) as conn:
        by_tls = dict(conn.execute(
            "SELECT s.ssl, count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
            "WHERE a.backend_type = 'client backend' AND a.client_addr IS NOT NULL GROUP BY s.ssl").fetchall())
    assert by_tls.get(True, 0) > 10 and False not in by_tls, by_tls
    with psycopg.connect(_database_url(cluster)) as conn:
        owners = {row[0] for row in conn.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname IN ('intake', 'cases', 'referrals', 'sanctions')")}
    assert owners == {"anxin_migrator"}


def test_the_brokers_take_only_authenticated_tls_clients(cluster: ClusterStack) -> None:
    assert isinstance(cluster.kafka, KafkaCluster)
    env = cluster.processes["cases-worker-2"].env
    assert env["ANXIN_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and env["ANXIN_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    # The processes' credentials over TLS are answered (the brokers count themselves through them)...
    settings = cluster.client_settings()
    assert cluster.kafka.live_brokers() == 3
    # ...a plaintext client, and a TLS client with a wrong password, are not.
    refused = [
        {"bootstrap_servers": settings.kafka_servers},
        {**client_options(settings), "sasl_plain_password": "not-the-password"},
    ]
    for options in refused:
        with pytest.raises(KafkaError):
            KafkaAdminClient(**options, client_id="anxin-refused", request_timeout_ms=3000,
                             bootstrap_timeout_ms=5000).close()


async def test_temporal_answers_only_clients_with_a_certificate(cluster: ClusterStack) -> None:
    settings = cluster.client_settings()
    assert settings.temporal_tls_cert and cluster.processes["lifecycle-worker-2"].env["ANXIN_TEMPORAL_TLS_CERT"]
    # With the processes' client certificate the frontend answers...
    client = await Client.connect(settings.temporal_address, tls=tls_config(settings))
    assert await client.service_client.check_health()
    # ...without one (plain, or TLS checking the server but presenting nothing) it does not.
    anonymous = TLSConfig(server_root_ca_cert=settings.temporal_tls_ca.read_bytes() if settings.temporal_tls_ca else None,
                          domain=settings.temporal_tls_server_name)
    for tls in (False, anonymous):
        with pytest.raises(RuntimeError, match="connect"):
            await Client.connect(settings.temporal_address, tls=tls)
    # The Web UI server lists the namespaces through the frontend, presenting the processes' certificate.
    assert cluster.temporal_ui is not None
    namespaces = httpx.get(f"{cluster.temporal_ui.origin}/api/v1/namespaces", timeout=10)
    assert namespaces.status_code == 200, namespaces.text
    assert "default" in {row["namespaceInfo"]["name"] for row in namespaces.json()["namespaces"]}


async def test_the_refusal_path_on_the_cluster(cluster: ClusterStack, cluster_token: Callable[[str], str]) -> None:
    await walk_the_refusal_path(cluster, cluster_token)


def test_a_broker_killed_and_temporal_restarted_under_load_lose_nothing(
    cluster: ClusterStack, cluster_token: Callable[[str], str]
) -> None:
    assert isinstance(cluster.kafka, KafkaCluster)
    seed = uuid.uuid4().int % 10**6
    headers = {"Authorization": f"Bearer {cluster_token('clerk-130402')}"}
    ids: list[str] = []
    restart: threading.Thread | None = None
    # Both API replicas take complaints, as a load balancer in front of them would spread them.
    urls = [cluster.processes["intake-api"].url, cluster.processes["intake-api-2"].url]
    with httpx.Client(headers=headers, timeout=30) as http:
        for n in range(100):
            if n == 20:
                cluster.kafka.kill(2)  # SIGKILL: no controlled shutdown, its partitions' leaders move
            if n == 45:
                restart = threading.Thread(target=_restart_temporal, args=(cluster,))
                restart.start()
            body = complaint(seed * 1000 + n, phone=f"139{(seed * 1000 + n) % 10**8:08d}")
            response = http.post(f"{urls[n % 2]}/v1/complaints", json=body,
                                 headers={"Idempotency-Key": f"cluster-{seed}-{n}"})
            assert response.status_code == 201, response.text
            ids.append(response.json()["complaint_id"])
    assert restart is not None
    restart.join(timeout=180)

    started, ledgered = started_and_ledgered(_database_url(cluster), ids, timeout=240)
    assert (started, ledgered) == (len(ids), len(ids))
    # Events a relay resent after the broker died took effect once in the consumers' inbox.
    applied = inbox_applications(_database_url(cluster), ids)
    assert applied[0] == applied[1] >= len(ids)
    cluster.kafka.restart_node(2)
    assert cluster.kafka.live_brokers() == 3


def _restart_temporal(cluster: ClusterStack) -> None:
    cluster.temporal.stop()
    cluster.temporal.start()
    cluster.temporal.wait_ready(timeout=120)


def _database_url(cluster: ClusterStack) -> str:
    return cluster.postgres.database_url("anxin")
