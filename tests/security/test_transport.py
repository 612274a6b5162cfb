"""Attacks on the engines' transport, on the cluster profile (the one where every engine is reached as in
production; tests/support/cluster_fixtures.py): a client without TLS, without a password or certificate, or
with a wrong password, is refused by the Kafka brokers, Temporal's frontend and PostgreSQL; every connection
the processes and Temporal Server hold is encrypted (docs/security.md, "Attacks the suite performs").
"""

from __future__ import annotations

import httpx
import psycopg
import pytest
from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from temporalio.client import Client
from temporalio.service import TLSConfig

from deploy.cluster import ClusterStack
from deploy.kafka_cluster import KafkaCluster
from services.common.kafka import client_options
from services.common.temporal import tls_config


def test_postgresql_takes_only_tls_clients_with_a_password(cluster: ClusterStack) -> None:
    url = cluster.postgres.database_url("anxin")
    # No connection without a password...
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{cluster.ports.postgres}/anxin", connect_timeout=5)
    # ...nor without TLS, even with the right password; every URL asks for the server's certificate to be
    # checked, and every connection of the processes and Temporal Server is TLS.
    assert "sslmode=verify-full" in cluster.processes["cases-api-2"].env["DATABASE_URL"]
    plain = url.split("?")[0] + "?sslmode=disable"
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        psycopg.connect(plain, connect_timeout=5)
    with psycopg.connect(url) as conn:
        by_tls: dict[bool, int] = dict(
            conn.execute(
                "SELECT s.ssl, count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
                "WHERE a.backend_type = 'client backend' AND a.client_addr IS NOT NULL GROUP BY s.ssl"
            ).fetchall()
        )
    assert by_tls.get(True, 0) > 10 and False not in by_tls, by_tls


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
            KafkaAdminClient(
                **options, client_id="anxin-refused", request_timeout_ms=3000, bootstrap_timeout_ms=5000
            ).close()


async def test_temporal_answers_only_clients_with_a_certificate(cluster: ClusterStack) -> None:
    settings = cluster.client_settings()
    assert settings.temporal_tls_cert and cluster.processes["lifecycle-worker-2"].env["ANXIN_TEMPORAL_TLS_CERT"]
    # With the processes' client certificate the frontend answers...
    client = await Client.connect(settings.temporal_address, tls=tls_config(settings))
    assert await client.service_client.check_health()
    # ...without one (plain, or TLS checking the server but presenting nothing) it does not.
    anonymous = TLSConfig(
        server_root_ca_cert=settings.temporal_tls_ca.read_bytes() if settings.temporal_tls_ca else None,
        domain=settings.temporal_tls_server_name,
    )
    for tls in (False, anonymous):
        with pytest.raises(RuntimeError, match="connect"):
            await Client.connect(settings.temporal_address, tls=tls)
    # The Web UI server lists the namespaces through the frontend, presenting the processes' certificate.
    assert cluster.temporal_ui is not None
    namespaces = httpx.get(f"{cluster.temporal_ui.origin}/api/v1/namespaces", timeout=10)
    assert namespaces.status_code == 200, namespaces.text
    assert "default" in {row["namespaceInfo"]["name"] for row in namespaces.json()["namespaces"]}
