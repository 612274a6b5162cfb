"""What each pod of the rendered overlays holds and reaches: only the token issuer holds the signing key, each
data key ring only the processes of its purpose; every Secret a pod names (in its environment or its volumes)
is one of the base's placeholders, with the key asked for; the Services and network policies use the ports the
specs give."""

from __future__ import annotations

import base64

import pytest

from deploy.engines import SERVICES
from deploy.secrets import purposes_of
from services.common.data_keys import KeyPurpose, key_env_names
from services.issuer.app import IssuerSettings
from tests.deploy.kubernetes_manifests import (
    BASE,
    OVERLAYS,
    container_env,
    default_port,
    expected_processes,
    named_port,
    of_kind,
    overlay,
    pod_spec,
    rendered,
    secret_sources,
    selects,
    service_spec,
    the_container,
    unhashed,
    workloads,
)


@pytest.mark.parametrize("name", OVERLAYS)
def test_only_the_token_issuer_holds_the_signing_key_and_every_process_the_public_keys(name: str) -> None:
    objects = overlay(name)
    issuer_url = f"http://issuer-api:{default_port(IssuerSettings)}"
    for deployment_name, deployment in of_kind(objects, "Deployment").items():
        container = the_container(deployment)
        env = container_env(objects, container)
        assert "ANXIN_TOKEN_JWKS" in env, deployment_name
        is_issuer = deployment_name == "issuer-api"
        assert ("ANXIN_TOKEN_SIGNING_JWK" in env) == is_issuer, deployment_name
        assert "ANXIN_TOKEN_SIGNING_KEY" not in env, deployment_name  # the retired shared HS256 key
        # The registered clients (hashed secrets) are read by the issuer alone.
        assert ("ANXIN_CLIENTS_FILE" in env) == is_issuer, deployment_name
        mounted = {v["secret"]["secretName"] for v in pod_spec(deployment).get("volumes", []) if "secret" in v}
        assert any(unhashed(secret) == "anxin-clients" for secret in mounted) == is_issuer, deployment_name
        assert env.get("ANXIN_TOKEN_ISSUER_URL") == issuer_url, deployment_name


@pytest.mark.parametrize("name", OVERLAYS)
def test_each_data_key_ring_is_held_only_by_the_processes_of_its_purpose(name: str) -> None:
    objects = overlay(name)
    deployments = of_kind(objects, "Deployment")
    assert set(deployments) >= set(expected_processes()) - {"anxin-migrate"}
    for deployment_name, deployment in deployments.items():
        env = container_env(objects, the_container(deployment))
        held = {purpose for purpose in KeyPurpose if key_env_names(purpose) <= env.keys()}
        assert held == purposes_of(deployment_name), deployment_name
        for purpose in set(KeyPurpose) - held:
            assert not key_env_names(purpose) & env.keys(), (deployment_name, purpose)
        # The shared ring of before is not in the base: a deployment that still needs it adds it itself.
        assert "ANXIN_DATA_KEYS" not in env, deployment_name
    assert purposes_of("cases-relay") == set() and purposes_of("intake-api") == {KeyPurpose.PAYLOAD, KeyPurpose.INTAKE}
    job = the_container(of_kind(objects, "Job")["anxin-migrate"])
    assert not key_env_names() & container_env(objects, job).keys()


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_secret_a_pod_names_is_a_base_placeholder_with_that_key(name: str) -> None:
    objects = overlay(name)
    secrets = of_kind(objects, "Secret")
    base_secrets = {unhashed(n): set(s.get("data", {})) for n, s in of_kind(rendered(BASE), "Secret").items()}
    references: list[tuple[str, str | None]] = []  # (secret name, key or None)
    for workload in workloads(objects):
        container = the_container(workload)
        references += [(s["secretRef"]["name"], None) for s in container.get("envFrom", []) if "secretRef" in s]
        references += [
            (v["valueFrom"]["secretKeyRef"]["name"], v["valueFrom"]["secretKeyRef"]["key"])
            for v in container.get("env", [])
            if "secretKeyRef" in v.get("valueFrom", {})
        ]
        references += [
            (source["name"], item["key"])
            for volume in pod_spec(workload).get("volumes", [])
            for source in secret_sources(volume)
            for item in source.get("items") or [{"key": None}]
        ]
    assert references
    for secret, key in references:
        assert secret in secrets, f"a pod names the Secret {secret}, which the overlay does not make"
        assert unhashed(secret) in base_secrets, f"{secret} is not one of the base's Secrets"
        if key is not None:
            assert key in base_secrets[unhashed(secret)], f"{secret} has no key {key}"
    # Placeholders only: nothing committed is a usable key or password.
    for made in secrets.values():
        for key, value in made.get("data", {}).items():
            text = base64.b64decode(value).decode().strip()
            assert text == "[]" or "REPLACE-ME" in text, (made["metadata"]["name"], key)


@pytest.mark.parametrize("name", OVERLAYS)
def test_services_and_network_policies_use_the_spec_ports(name: str) -> None:
    objects = overlay(name)
    services, deployments = of_kind(objects, "Service"), of_kind(objects, "Deployment")
    published = [f"{s}-api" for s in SERVICES] + ["issuer-api", "codec-server", "console"]
    assert sorted(services) == sorted(published)
    for service_name in published:
        (port,) = services[service_name]["spec"]["ports"]
        container = the_container(deployments[service_name])
        assert port["port"] == named_port(container, port["targetPort"]) == expected_processes()[service_name][2]
        assert services[service_name]["spec"]["selector"].items() <= (
            deployments[service_name]["spec"]["template"]["metadata"]["labels"].items()
        )
    # The lifecycle worker reaches each API it commands through that API's Service, on the spec's port.
    lifecycle_env = container_env(objects, the_container(deployments["lifecycle-worker"]))
    commanded = ["cases", "referrals", "sanctions"]
    for service in commanded:
        url = lifecycle_env[f"ANXIN_{service.upper()}_URL"]
        assert url == f"http://{service}-api:{service_spec(service).api_port}", url
    policies = of_kind(objects, "NetworkPolicy")
    assert policies["default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    (egress,) = policies["allow-lifecycle-egress-to-apis"]["spec"]["egress"]
    assert sorted(p["port"] for p in egress["ports"]) == sorted(service_spec(s).api_port for s in commanded)
    # ...and gets its tokens from the issuer, through the issuer's Service.
    issuer_port = expected_processes()["issuer-api"][2]
    assert lifecycle_env["ANXIN_TOKEN_ISSUER_URL"] == f"http://issuer-api:{issuer_port}"
    (to_issuer,) = policies["allow-lifecycle-egress-to-issuer"]["spec"]["egress"]
    assert [p["port"] for p in to_issuer["ports"]] == [issuer_port]
    issuer_labels = deployments["issuer-api"]["spec"]["template"]["metadata"]["labels"]
    for policy in ("allow-lifecycle-to-issuer", "allow-ingress-controller"):
        assert selects(policies[policy]["spec"]["podSelector"], issuer_labels), policy
    assert selects(to_issuer["to"][0]["podSelector"], issuer_labels)
    metrics = policies["allow-metrics-scraping"]["spec"]["ingress"][0]
    assert metrics["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    sdk_port = named_port(the_container(deployments["lifecycle-worker"]), "sdk-metrics")
    assert lifecycle_env["ANXIN_TEMPORAL_SDK_METRICS_PORT"] == str(sdk_port)
