"""The Kubernetes manifests reach every engine over TLS (docs/security.md, "In transit"; docs/deployment.md),
and the console is deployed as the other APIs are, without keys: checked on the rendered overlays, with the
validator and helpers of kubernetes_manifests.

- every Deployment reaches Kafka on Strimzi's TLS listener (9093) with SASL_SSL and SCRAM-SHA-512, its
  password from a Secret and the brokers' CA from a mounted file; Temporal with mutual TLS (its CA, the
  client certificate and key, mounted files); PostgreSQL with sslmode=verify-full against a mounted CA;
- the migration Job reaches its one engine, PostgreSQL, the same way, and holds none of the others' files;
- each file comes read-only from the Secret and key docs/deployment.md names, and the clients the code builds
  from these settings (`client_options`, `tls_config`) are the TLS ones;
- the network policies open Kafka's TLS port only; the console reaches the issuer, the APIs and PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from temporalio.service import TLSConfig

from deploy.engines import SERVICES
from deploy.secrets import purposes_of
from services.common.data_keys import KeyPurpose, key_env_names
from services.common.kafka import client_options
from services.common.settings import CommonSettings
from services.common.temporal import tls_config
from tests.deploy.kubernetes_manifests import (
    BASE,
    OVERLAYS,
    container_env,
    expected_processes,
    mounted_files,
    of_kind,
    overlay,
    pod_spec,
    run_validator,
    selects,
    service_spec,
    settings_from,
    stand_in_files,
    the_container,
    unhashed,
    workloads,
)

KAFKA_TLS_PORT = 9093
# Each file setting → the (Secret, key) it must be mounted from (docs/deployment.md).
TLS_FILES = {
    "ANXIN_KAFKA_SSL_CA": ("anxin-cluster-ca-cert", "ca.crt"),
    "ANXIN_TEMPORAL_TLS_CA": ("anxin-temporal-client-tls", "ca.crt"),
    "ANXIN_TEMPORAL_TLS_CERT": ("anxin-temporal-client-tls", "tls.crt"),
    "ANXIN_TEMPORAL_TLS_KEY": ("anxin-temporal-client-tls", "tls.key"),
}
POSTGRES_CA = ("anxin-pg-ca", "ca.crt")
KAFKA_PASSWORD = ("anxin-kafka-user", "password")


def database_urls(objects: tuple[dict[str, Any], ...]) -> dict[str, str]:
    """Key → URL of the anxin-database Secret (the base's placeholders, or what an overlay puts there)."""
    (secret,) = [s for n, s in of_kind(objects, "Secret").items() if unhashed(n) == "anxin-database"]
    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


def url_problems(where: str, url: str, files: dict[str, tuple[str, str, bool]]) -> list[str]:
    """What lets a PostgreSQL URL connect without checking the server: no verify-full, or a root CA the pod
    does not have from CloudNativePG's CA."""
    query = parse_qs(urlsplit(url).query)
    problems = []
    if query.get("sslmode") != ["verify-full"]:
        problems.append(f"{where}: sslmode is {query.get('sslmode')}, not verify-full")
    (root,) = query.get("sslrootcert", [""])
    if files.get(root, (None, None, None))[:2] != POSTGRES_CA:
        problems.append(f"{where}: sslrootcert {root!r} is not {POSTGRES_CA} mounted in the pod")
    return problems


def transport_problems(objects: tuple[dict[str, Any], ...]) -> list[str]:
    """Everything in a rendered overlay that reaches an engine in plain, or without checking it."""
    problems: list[str] = []
    urls = database_urls(objects)
    for key, url in urls.items():
        if parse_qs(urlsplit(url).query).get("sslmode") != ["verify-full"]:
            problems.append(f"anxin-database {key}: no sslmode=verify-full")
    for workload in workloads(objects):
        name = workload["metadata"]["name"]
        container = the_container(workload)
        env = container_env(objects, container)
        files = mounted_files(workload)
        problems += [f"{name}: {path} is mounted writable" for path, (*_, read_only) in files.items() if not read_only]
        from_secrets = {
            variable["name"]: (
                unhashed(variable["valueFrom"]["secretKeyRef"]["name"]),
                variable["valueFrom"]["secretKeyRef"]["key"],
            )
            for variable in container.get("env", [])
            if "secretKeyRef" in variable.get("valueFrom", {})
        }
        for variable in ("DATABASE_URL", "ANXIN_MIGRATION_DATABASE_URL"):
            if variable in from_secrets:
                secret, key = from_secrets[variable]
                assert secret == "anxin-database", (name, variable)
                problems += url_problems(f"{name} {variable}", urls[key], files)
        if workload["kind"] == "Job":
            # PostgreSQL is the migration's one engine: of the TLS files, only its CA.
            if {source[:2] for source in files.values()} != {POSTGRES_CA}:
                problems.append(f"{name}: mounts {sorted(files)}, not PostgreSQL's CA alone")
            continue
        servers = (env.get("KAFKA_BOOTSTRAP_SERVERS") or "").split(",")
        problems += [
            f"{name}: Kafka at {s}, not on {KAFKA_TLS_PORT}" for s in servers if not s.endswith(f":{KAFKA_TLS_PORT}")
        ]
        for variable, expected in [
            ("ANXIN_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
            ("ANXIN_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
        ]:
            if env.get(variable) != expected:
                problems.append(f"{name}: {variable} is {env.get(variable)}, not {expected}")
        if not env.get("ANXIN_KAFKA_SASL_USERNAME"):
            problems.append(f"{name}: no ANXIN_KAFKA_SASL_USERNAME")
        if from_secrets.get("ANXIN_KAFKA_SASL_PASSWORD") != KAFKA_PASSWORD:
            problems.append(f"{name}: ANXIN_KAFKA_SASL_PASSWORD is not {KAFKA_PASSWORD}")
        for variable, source in TLS_FILES.items():
            path = env.get(variable)
            if path is None or files.get(path, (None, None, None))[:2] != source:
                problems.append(f"{name}: {variable} ({path}) is not {source} mounted in the pod")
    return problems


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_process_reaches_every_engine_over_tls(name: str) -> None:
    objects = overlay(name)
    assert {w["metadata"]["name"] for w in workloads(objects)} == set(expected_processes())
    assert transport_problems(objects) == []


def test_an_overlay_back_in_plain_is_caught(tmp_path: Path) -> None:
    """The check above on an overlay that undoes each part: it names every one."""
    (tmp_path / "kustomization.yaml").write_text(
        f"resources:\n  - {os.path.relpath(BASE, tmp_path)}\n"
        "configMapGenerator:\n  - name: anxin-engines\n    behavior: merge\n    literals:\n"
        "      - KAFKA_BOOTSTRAP_SERVERS=anxin-kafka-bootstrap.kafka:9092\n"
        "      - ANXIN_KAFKA_SECURITY_PROTOCOL=PLAINTEXT\n"
        "secretGenerator:\n  - name: anxin-database\n    behavior: merge\n    literals:\n"
        "      - cases=postgresql://anxin_cases:REPLACE-ME@anxin-pg-rw.postgres:5432/anxin\n"
        "patches:\n  - target:\n      kind: Deployment\n      name: referrals-api\n"
        "    patch: |-\n      - op: remove\n        path: /spec/template/spec/volumes/2/projected/sources/1\n"
    )
    result = run_validator(tmp_path)
    assert result.returncode == 0, result.stderr
    objects: tuple[dict[str, Any], ...] = tuple(json.loads(result.stdout))
    problems = transport_problems(objects)
    assert "anxin-database cases: no sslmode=verify-full" in problems
    assert "cases-worker DATABASE_URL: sslmode is None, not verify-full" in problems
    assert "intake-api: Kafka at anxin-kafka-bootstrap.kafka:9092, not on 9093" in problems
    assert "lifecycle-worker: ANXIN_KAFKA_SECURITY_PROTOCOL is PLAINTEXT, not SASL_SSL" in problems
    assert any(p.startswith("referrals-api: ANXIN_TEMPORAL_TLS_KEY") for p in problems), problems
    assert not any(p.startswith("referrals-relay: ANXIN_TEMPORAL") for p in problems), problems


@pytest.mark.parametrize("name", OVERLAYS)
def test_the_clients_the_code_builds_from_the_manifests_use_tls(name: str, tmp_path: Path) -> None:
    """The settings each Deployment reads, through the project's own client builders."""
    objects = overlay(name)
    for deployment_name, deployment in of_kind(objects, "Deployment").items():
        files = stand_in_files(deployment, tmp_path)
        settings = settings_from(CommonSettings, container_env(objects, the_container(deployment)), files)
        assert isinstance(settings, CommonSettings)
        options = client_options(settings)
        assert options["security_protocol"] == "SASL_SSL", deployment_name
        assert options["ssl_check_hostname"] is True
        assert options["ssl_cafile"] == str(files["/etc/anxin/tls/kafka-ca.crt"]), deployment_name
        assert options["sasl_mechanism"] == "SCRAM-SHA-512"
        assert options["sasl_plain_password"], deployment_name
        temporal = tls_config(settings)
        assert isinstance(temporal, TLSConfig), deployment_name
        assert temporal.server_root_ca_cert and temporal.client_cert and temporal.client_private_key


@pytest.mark.parametrize("name", OVERLAYS)
def test_the_network_policies_open_kafka_tls_only(name: str) -> None:
    policies = of_kind(overlay(name), "NetworkPolicy")
    kafka_ports = [
        port["port"]
        for policy in policies.values()
        for rule in policy["spec"].get("egress", [])
        for port in rule.get("ports", [])
        if any(
            peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") == "kafka"
            for peer in rule.get("to", [])
        )
    ]
    assert kafka_ports == [KAFKA_TLS_PORT]


@pytest.mark.parametrize("name", OVERLAYS)
def test_the_console_runs_two_replicas_with_its_own_key_ring_only(name: str) -> None:
    objects = overlay(name)
    console = of_kind(objects, "Deployment")["console"]
    assert console["spec"]["replicas"] == 2
    assert console["metadata"]["labels"]["anxin.io/process"] == "api"
    container = the_container(console)
    env = container_env(objects, container)
    assert env["ANXIN_HTTP_PORT"] == "8006"
    # Each service's API through its Service, on its spec's port (and the network policy below lets it through);
    # the console does not show the monitoring service's project register nor the webhook subscriptions yet.
    for service in (s for s in SERVICES if s not in ("monitoring", "webhooks")):
        assert env[f"ANXIN_{service.upper()}_URL"] == f"http://{service}-api:{service_spec(service).api_port}"
    assert env["ANXIN_TOKEN_ISSUER_URL"] == "http://issuer-api:8005"
    from_secrets = {
        v["name"]: (unhashed(v["valueFrom"]["secretKeyRef"]["name"]), v["valueFrom"]["secretKeyRef"]["key"])
        for v in container["env"]
        if "secretKeyRef" in v.get("valueFrom", {})
    }
    assert from_secrets["DATABASE_URL"] == ("anxin-database", "console")
    assert from_secrets["ANXIN_CONSOLE_CLIENT_SECRET"] == ("anxin-console-client", "client-secret")
    assert "console" in database_urls(objects)
    # Its own key ring only (the tokens in its sessions), and no signing key: it mints no token.
    assert purposes_of("console") == {KeyPurpose.CONSOLE}
    assert key_env_names() & env.keys() == key_env_names(KeyPurpose.CONSOLE)
    assert "ANXIN_TOKEN_SIGNING_JWK" not in env
    assert {source[0] for source in mounted_files(console).values()} == {
        "anxin-cluster-ca-cert",
        "anxin-temporal-client-tls",
        "anxin-pg-ca",
    }


def egress_of(policies: dict[str, dict[str, Any]], labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        rule
        for policy in policies.values()
        if "Egress" in policy["spec"]["policyTypes"] and selects(policy["spec"]["podSelector"], labels)
        for rule in policy["spec"].get("egress", [])
    ]


@pytest.mark.parametrize("name", OVERLAYS)
def test_the_console_reaches_the_issuer_the_apis_and_postgresql_only(name: str) -> None:
    objects = overlay(name)
    policies, deployments = of_kind(objects, "NetworkPolicy"), of_kind(objects, "Deployment")
    labels = {n: d["spec"]["template"]["metadata"]["labels"] for n, d in deployments.items()}
    console = labels["console"]
    rules = egress_of(policies, console)
    namespaces = {
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for rule in rules
        for peer in rule["to"]
        if "namespaceSelector" in peer
    }
    assert namespaces == {"kube-system", "postgres"}
    reached = {
        deployment
        for rule in rules
        for peer in rule["to"]
        if "podSelector" in peer and "namespaceSelector" not in peer
        for deployment, pod in labels.items()
        if selects(peer["podSelector"], pod)
    }
    apis = {"issuer-api", "intake-api", "cases-api", "referrals-api", "sanctions-api"}
    assert reached == apis
    ports = {port["port"] for rule in rules for port in rule.get("ports", [])}
    assert ports == {53, 5432} | {expected_processes()[api][2] for api in apis}
    # ...and each of them lets it in.
    for api in apis:
        assert any(
            selects(policy["spec"]["podSelector"], labels[api])
            and any(
                "podSelector" in peer and selects(peer["podSelector"], console)
                for rule in policy["spec"].get("ingress", [])
                for peer in rule["from"]
            )
            for policy in policies.values()
        ), api
    # The other processes still reach the engines; the console does not.
    assert selects(policies["allow-egress-to-engines"]["spec"]["podSelector"], labels["cases-worker"])
    assert not selects(policies["allow-egress-to-engines"]["spec"]["podSelector"], console)
    # Its own port is published through the ingress controller.
    assert selects(policies["allow-ingress-controller"]["spec"]["podSelector"], console)
    assert pod_spec(deployments["console"])["containers"][0]["ports"] == [{"name": "http", "containerPort": 8006}]
