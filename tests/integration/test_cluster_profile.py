"""The cluster profile (`make run-cluster`) on this machine: Temporal Server on PostgreSQL, three KRaft Kafka
brokers with the topics at three copies, PostgreSQL with passwords, a migration step and runtime roles, two
replicas of every API, relay, worker and lifecycle worker; every engine reached over TLS only (Kafka SASL_SSL
with SCRAM, Temporal with client certificates, PostgreSQL verify-full). The stack: tests/support/cluster_fixtures.py;
the plain clients each engine refuses: tests/security/test_transport.py.

One complaint walks the refusal path on it; then 100 complaints are filed while one broker is killed with
SIGKILL and Temporal Server is restarted: every complaint still starts its workflow and reaches the cases
ledger exactly once, as `make faults` checks on the embedded stack.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import httpx
import psycopg

from deploy.cluster import ClusterStack
from deploy.kafka_cluster import KafkaCluster
from tests.integration.test_intake import complaint
from tests.integration.test_lifecycle_refusal import walk_the_refusal_path
from tests.support.delivery import inbox_applications, started_and_ledgered


def test_every_process_runs_twice_on_the_cluster_engines(cluster: ClusterStack) -> None:
    assert isinstance(cluster.kafka, KafkaCluster) and cluster.kafka.live_brokers() == 3
    names = set(cluster.processes)
    for process in (
        "intake-api",
        "cases-relay",
        "sanctions-worker",
        "monitoring-api",
        "monitoring-relay",
        "webhooks-api",
        "webhooks-dispatcher",
        "lifecycle-worker",
        "console",
    ):
        assert {process, f"{process}-2"} <= names
    assert all(row["ready"] for row in cluster.status()), cluster.status()
    with psycopg.connect(_database_url(cluster)) as conn:
        # Temporal Server's own databases live beside the services' on the same PostgreSQL.
        databases = {row[0] for row in conn.execute("SELECT datname FROM pg_database").fetchall()}
    assert {"temporal", "temporal_visibility", "anxin"} <= databases
    # PostgreSQL as production runs it: the processes on runtime roles that own nothing (the schemas were
    # migrated before they started, by the migration role). Its refusals: tests/security/test_transport.py.
    assert cluster.processes["cases-api-2"].env["DATABASE_URL"].startswith("postgresql://cases:")
    # The consoles share their sessions in their own schema, on their runtime role.
    assert cluster.processes["console-2"].env["DATABASE_URL"].startswith("postgresql://console:")
    with psycopg.connect(_database_url(cluster)) as conn:
        owners = {
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT tableowner FROM pg_tables "
                "WHERE schemaname IN ('intake', 'cases', 'referrals', 'sanctions', 'monitoring', 'webhooks')"
            )
        }
    assert owners == {"anxin_migrator"}


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
            response = http.post(
                f"{urls[n % 2]}/v1/complaints", json=body, headers={"Idempotency-Key": f"cluster-{seed}-{n}"}
            )
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
