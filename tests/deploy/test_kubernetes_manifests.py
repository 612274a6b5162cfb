"""The cluster deployment (deploy/k8s, deploy/container) checked offline, against the pinned Kubernetes API and
against the code it runs.

`make test` builds the validator first (`make k8s-validate`, deploy/k8s/validate): it renders each overlay with
Kustomize and decodes every object strictly into the types of the pinned k8s.io/api, refusing unknown fields,
duplicate fields and unknown kinds; it prints the objects as JSON. The tests here then hold the manifests to the
project's own truth, so neither can drift from the other:

- every environment variable a container gets (its `env` and what its `envFrom` brings) is a name the process's
  settings class reads (its pydantic-settings fields), apart from the few names still being added (PENDING_ENV);
- each value parses as its field's type, as the process would read it;
- each process listens, is probed (/readyz, /healthz) and is reached on the port its spec or settings give;
- every command is a module of the project; every worker has an autoscaler, every Deployment a disruption
  budget; every Secret a pod names (in its environment or its volumes) is one of the base's placeholders, with
  the key asked for;
- the container build file copies what exists, and the package data ships every file the processes read.
"""

from __future__ import annotations

import base64
import fnmatch
import importlib
import importlib.util
import json
import os
import re
import shlex
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pydantic_settings import BaseSettings

from deploy.engines import DATABASE_SCHEMAS, SERVICES
from deploy.secrets import purposes_of
from services.common.codec_server import CodecSettings
from services.common.data_keys import KeyPurpose, key_env_names
from services.common.service import ServiceSettings, ServiceSpec
from services.common.settings import CommonSettings, MigrationSettings
from services.common.transport import TransportSettings
from services.console.app import ConsoleSettings
from services.issuer.app import IssuerSettings
from workflows.worker import LifecycleSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if (p / "kustomization.yaml").exists())
CONTAINERFILE = ROOT / "deploy" / "container" / "Containerfile"

# Names the manifests may set before a settings class reads them (each being added to the code elsewhere);
# empty while every name the manifests set is read by a settings class.
PENDING_ENV: dict[str, str] = {}
# The image's user; the pods run as the same id.
IMAGE_UID = 10001


# -- the validator and what it renders ---------------------------------------------------------------------


def validator() -> Path:
    """The validator `make k8s-validate` builds, in the folder of the k8s.io/api version pinned by its go.mod."""
    gomod = (K8S / "validate" / "go.mod").read_text()
    match = re.search(r"^\s*k8s\.io/api (v\S+)$", gomod, re.MULTILINE)
    assert match, "deploy/k8s/validate/go.mod pins no k8s.io/api version"
    path = ROOT / ".tools" / "k8s-validate" / match.group(1) / "k8s-validate"
    # Not a skip: the manifests would go unchecked. `make test` builds it before running the tests.
    assert path.exists(), f"{path} is missing: run `make k8s-validate` (a prerequisite of `make test`)"
    return path


def run_validator(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(validator()), *map(str, paths)], capture_output=True, text=True, timeout=120)


@cache
def rendered(directory: Path) -> tuple[dict[str, Any], ...]:
    result = run_validator(directory)
    assert result.returncode == 0, f"{directory.relative_to(ROOT)} does not validate:\n{result.stderr}"
    objects: list[dict[str, Any]] = json.loads(result.stdout)
    return tuple(objects)


def overlay(name: str) -> tuple[dict[str, Any], ...]:
    return rendered(K8S / "overlays" / name)


def of_kind(objects: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def unhashed(name: str) -> str:
    """A generated ConfigMap's or Secret's name without the content hash Kustomize appends."""
    return re.sub(r"-[a-z0-9]{10}$", "", name)


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def workloads(objects: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] in ("Deployment", "Job")]


# -- what the code says each process is --------------------------------------------------------------------


def env_names(settings: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads: each field's alias, else its upper-cased name
    (the project's settings have no env_prefix)."""
    assert not settings.model_config.get("env_prefix"), settings
    return {(field.alias or name).upper() for name, field in settings.model_fields.items()}


def service_spec(service: str) -> ServiceSpec:
    spec: ServiceSpec = importlib.import_module(f"services.{service}.spec").SPEC
    return spec


def service_settings(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, ServiceSettings) and value.__module__ == module.__name__
    ]
    assert len(classes) == 1, f"services/{service}/settings.py should define one settings class: {classes}"
    return classes[0]


def default_port(settings: type[BaseSettings]) -> int:
    port = settings.model_fields["http_port"].default
    assert isinstance(port, int)
    return port


def console_scripts() -> dict[str, str]:
    scripts: dict[str, str] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    return scripts


def expected_processes() -> dict[str, tuple[list[str], type[BaseSettings], int | None]]:
    """Deployment or Job name → (command, settings class, http port), as deploy/stack_processes.py starts them."""
    processes: dict[str, tuple[list[str], type[BaseSettings], int | None]] = {}
    for service in SERVICES:
        spec, settings = service_spec(service), service_settings(service)
        kinds = {"api": spec.api_port} | ({"relay": spec.relay_port} if spec.has_relay else {})
        if spec.has_worker:
            kinds[spec.worker_process] = spec.worker_port
        for kind, port in kinds.items():
            processes[f"{service}-{kind}"] = (["python", "-m", f"services.{service}", kind], settings, port)
    processes["lifecycle-worker"] = (
        ["python", "-m", "workflows.worker"],
        LifecycleSettings,
        default_port(LifecycleSettings),
    )
    processes["issuer-api"] = (["python", "-m", "services.issuer", "api"], IssuerSettings, default_port(IssuerSettings))
    processes["codec-server"] = (
        ["python", "-m", "services.common.codec_server"],
        CodecSettings,
        default_port(CodecSettings),
    )
    processes["console"] = (["python", "-m", "services.console", "api"], ConsoleSettings, default_port(ConsoleSettings))
    # `anxin migrate` reads the migration role's URL (and the runtime roles' names, by prefix).
    processes["anxin-migrate"] = (["anxin", "migrate"], MigrationSettings, None)
    return processes


WORKERS = {
    "lifecycle-worker",
    *(f"{s}-{service_spec(s).worker_process}" for s in SERVICES if service_spec(s).has_worker),
}


# -- resolving a container's environment -------------------------------------------------------------------


def container_env(objects: tuple[dict[str, Any], ...], container: dict[str, Any]) -> dict[str, str | None]:
    """Name → value of every variable a container gets: envFrom's ConfigMaps and Secrets, then env (a value
    from a Secret is None here)."""
    config_maps, secrets = of_kind(objects, "ConfigMap"), of_kind(objects, "Secret")
    env: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            assert name in config_maps, f"{container['name']}: envFrom names a missing ConfigMap {name}"
            env.update(config_maps[name].get("data", {}))
        else:
            name = source["secretRef"]["name"]
            assert name in secrets, f"{container['name']}: envFrom names a missing Secret {name}"
            env.update({key: None for key in secrets[name].get("data", {})})
    for variable in container.get("env", []):
        env[variable["name"]] = variable.get("value")
    return env


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels, and matchExpressions with In / NotIn) picks pods with `labels`."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        inside = labels.get(expression["key"]) in expression["values"]
        if inside != (expression["operator"] == "In"):
            return False
    return True


def named_port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    numbers = [p["containerPort"] for p in container.get("ports", []) if p.get("name") == port]
    assert numbers, f"{container['name']}: no container port named {port!r}"
    number: int = numbers[0]
    return number


def the_container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = pod_spec(workload)["containers"]
    assert len(containers) == 1, f"{workload['metadata']['name']}: one container per process"
    container: dict[str, Any] = containers[0]
    return container


def secret_sources(volume: dict[str, Any]) -> list[dict[str, Any]]:
    """The Secrets a volume is made of: a `secret` volume's one, or each Secret of a `projected` volume (both
    shapes as {"name", "items"})."""
    if "secret" in volume:
        return [{"name": volume["secret"]["secretName"], "items": volume["secret"].get("items", [])}]
    return [source["secret"] for source in volume.get("projected", {}).get("sources", []) if "secret" in source]


def mounted_files(workload: dict[str, Any]) -> dict[str, tuple[str, str, bool]]:
    """Path in the container → (Secret without its hash, key, read-only) of every file a Secret's item puts
    there."""
    volumes = {v["name"]: v for v in pod_spec(workload).get("volumes", [])}
    files: dict[str, tuple[str, str, bool]] = {}
    for mount in the_container(workload).get("volumeMounts", []):
        for source in secret_sources(volumes[mount["name"]]):
            for item in source.get("items", []):
                path = f"{mount['mountPath'].rstrip('/')}/{item['path']}"
                files[path] = (unhashed(source["name"]), item["key"], bool(mount.get("readOnly")))
    return files


def stand_in_files(workload: dict[str, Any], root: Path) -> dict[str, Path]:
    """A local file for each file the workload's Secrets mount (container path → local path), so settings that
    must name an existing file see one exactly where the pod would have one."""
    local: dict[str, Path] = {}
    for path in mounted_files(workload):
        local[path] = root / workload["metadata"]["name"] / path.lstrip("/")
        local[path].parent.mkdir(parents=True, exist_ok=True)
        local[path].write_text("stand-in for a mounted Secret's file\n")
    return local


# -- the validator itself ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("manifest", "error"),
    [
        ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\nbogus: 1\n", 'unknown field "bogus"'),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  template:\n    spec:\n"
            "      containers:\n        - name: a\n          image: a\n          readinessProbe:\n"
            "            httpGet: {path: /readyz, port: http}\n            initialDelay: 3\n",
            "unknown field",
        ),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n  name: two\n", 'key "name" already set'),
        ("apiVersion: example.org/v1\nkind: Widget\nmetadata:\n  name: a\n", 'no kind "Widget" is registered'),
        # A version Kubernetes 1.34 no longer serves.
        ("apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: a\n", "no kind"),
    ],
    ids=["unknown-field", "unknown-nested-field", "duplicate-field", "unknown-kind", "removed-version"],
)
def test_the_validator_refuses_what_a_cluster_would(tmp_path: Path, manifest: str, error: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(manifest)
    result = run_validator(path)
    assert result.returncode != 0, result.stdout
    assert error in result.stderr, result.stderr


def test_the_validator_accepts_a_good_manifest_and_prints_it(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n")
    result = run_validator(path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}}
    ]


def test_an_unknown_field_in_an_overlay_fails_its_build(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        f"resources:\n  - {os.path.relpath(BASE, tmp_path)}\npatches:\n  - target:\n      kind: Deployment\n      name: cases-api\n"
        "    patch: |-\n      - op: add\n        path: /spec/template/spec/containers/0/livenessProbe/initialDelay\n"
        "        value: 5\n"
    )
    result = run_validator(tmp_path)
    assert result.returncode != 0
    assert 'unknown field "spec.template.spec.containers[0].livenessProbe.initialDelay"' in result.stderr


# -- the manifests against the code ------------------------------------------------------------------------


def test_the_base_and_every_overlay_validate() -> None:
    assert OVERLAYS == ["city", "province"]
    for directory in [BASE, *(K8S / "overlays" / name for name in OVERLAYS)]:
        assert rendered(directory), directory


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_process_is_deployed_with_its_command(name: str) -> None:
    objects = overlay(name)
    expected = expected_processes()
    found = {w["metadata"]["name"]: w for w in workloads(objects)}
    assert sorted(found) == sorted(expected)
    assert of_kind(objects, "Job").keys() == {"anxin-migrate"}
    for process, (command, _settings, _port) in expected.items():
        container = the_container(found[process])
        assert container["command"] == command, process
        assert "args" not in container, process
        if command[:2] == ["python", "-m"]:
            module = command[2]
            assert importlib.util.find_spec(module) is not None, f"{process}: no module {module}"
            if importlib.util.find_spec(module).submodule_search_locations:  # type: ignore[union-attr]
                assert importlib.util.find_spec(f"{module}.__main__") is not None, f"{module} cannot run with -m"
        else:
            target = console_scripts()[command[0]]
            module, _, function = target.partition(":")
            assert callable(getattr(importlib.import_module(module), function)), target


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_env_name_is_read_by_the_process_settings(name: str) -> None:
    objects = overlay(name)
    found = {w["metadata"]["name"]: w for w in workloads(objects)}
    for process, (_command, settings, _port) in expected_processes().items():
        env = container_env(objects, the_container(found[process]))
        unknown = set(env) - env_names(settings) - set(PENDING_ENV)
        assert not unknown, f"{process}: {settings.__name__} reads no {sorted(unknown)}"


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_deployment_binds_probes_and_serves_on_its_spec_port(name: str) -> None:
    objects = overlay(name)
    deployments = of_kind(objects, "Deployment")
    for process, (_command, _settings, port) in expected_processes().items():
        if process not in deployments:
            continue
        container = the_container(deployments[process])
        env = container_env(objects, container)
        assert env.get("ANXIN_HTTP_PORT") == str(port), process
        assert env.get("ANXIN_HTTP_HOST") == "0.0.0.0", process
        if _settings is ServiceSettings or issubclass(_settings, ServiceSettings):
            # Only the services' processes migrate at start; in a cluster they leave it to the Job.
            assert env.get("ANXIN_MIGRATE_ON_START") == "false", process
        assert named_port(container, "http") == port, process
        for probe, path in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")]:
            get = container[probe]["httpGet"]
            assert get["path"] == path, (process, probe)
            assert named_port(container, get["port"]) == port, (process, probe)
        if "startupProbe" in container:
            assert container["startupProbe"]["httpGet"]["path"] == "/healthz", process


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_container_has_resources_and_runs_unprivileged(name: str) -> None:
    for workload in workloads(overlay(name)):
        container, pod = the_container(workload), pod_spec(workload)
        for bound in ("requests", "limits"):
            assert set(container["resources"][bound]) >= {"cpu", "memory"}, (workload["metadata"]["name"], bound)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == IMAGE_UID
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert pod["automountServiceAccountToken"] is False


@pytest.mark.parametrize("name", OVERLAYS)
def test_workers_autoscale_and_every_deployment_has_a_disruption_budget(name: str) -> None:
    objects = overlay(name)
    deployments = of_kind(objects, "Deployment")
    autoscalers = {h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(objects, "HorizontalPodAutoscaler").values()}
    assert set(autoscalers) == WORKERS
    for worker in WORKERS:
        target = autoscalers[worker]["spec"]["scaleTargetRef"]
        assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")
        assert autoscalers[worker]["spec"]["minReplicas"] >= 2
        # The autoscaler owns the count: a `replicas` in the Deployment would reset it on every apply.
        assert "replicas" not in deployments[worker]["spec"], worker
    budgets = of_kind(objects, "PodDisruptionBudget").values()
    for deployment_name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        matching = [b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert len(matching) == 1, deployment_name
        assert matching[0]["spec"]["minAvailable"] == 1
        if deployment_name not in WORKERS:
            # minAvailable 1 of a single pod would block every node drain.
            assert deployment["spec"]["replicas"] >= 2, deployment_name


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


def test_the_city_runs_two_of_each_and_the_province_more() -> None:
    city, province = overlay("city"), overlay("province")
    city_deployments, province_deployments = of_kind(city, "Deployment"), of_kind(province, "Deployment")
    for name, deployment in city_deployments.items():
        if name not in WORKERS:
            assert deployment["spec"]["replicas"] == 2, name
            assert province_deployments[name]["spec"]["replicas"] >= 2, name
    city_hpa = {h["metadata"]["name"]: h["spec"] for h in of_kind(city, "HorizontalPodAutoscaler").values()}
    province_hpa = {h["metadata"]["name"]: h["spec"] for h in of_kind(province, "HorizontalPodAutoscaler").values()}
    for name, spec in city_hpa.items():
        assert spec["minReplicas"] == 2, name
        assert province_hpa[name]["minReplicas"] > 2, name
        assert province_hpa[name]["maxReplicas"] > spec["maxReplicas"], name
    assert any(
        province_deployments[n]["spec"]["template"]["spec"]["containers"][0]["resources"]
        != city_deployments[n]["spec"]["template"]["spec"]["containers"][0]["resources"]
        for n in city_deployments
    )


def test_the_process_labels_split_the_migration_from_the_processes() -> None:
    """docs/kubernetes.md applies everything but the processes first, by this label, then waits for the Job."""
    doc = (ROOT / "docs" / "kubernetes.md").read_text()
    match = re.search(r"-l 'anxin\.io/process notin \(([^)]*)\)'", doc)
    assert match, "docs/kubernetes.md no longer gives the first apply's selector"
    long_running = set(match.group(1).split(","))
    for name in OVERLAYS:
        objects = overlay(name)
        for deployment in of_kind(objects, "Deployment").values():
            assert deployment["metadata"]["labels"]["anxin.io/process"] in long_running
        for job in of_kind(objects, "Job").values():
            assert job["metadata"]["labels"]["anxin.io/process"] not in long_running


def test_the_migration_job_runs_under_the_migration_role() -> None:
    for name in OVERLAYS:
        job = of_kind(overlay(name), "Job")["anxin-migrate"]
        container = the_container(job)
        (url,) = [v for v in container["env"] if v["name"] == "ANXIN_MIGRATION_DATABASE_URL"]
        assert url["valueFrom"]["secretKeyRef"]["key"] == "migration"
        # A Job's pod is not a server: no probes, never restarted in place.
        assert pod_spec(job)["restartPolicy"] == "Never"
        assert "readinessProbe" not in container
        # Each schema's rights go to the role its processes connect as: the user of its database URL.
        roles = {
            v["name"].removeprefix("ANXIN_RUNTIME_ROLE_").lower(): v["value"]
            for v in container["env"]
            if v["name"].startswith("ANXIN_RUNTIME_ROLE_")
        }
        secret = next(s for n, s in of_kind(overlay(name), "Secret").items() if unhashed(n) == "anxin-database")
        users = {key: urlsplit(base64.b64decode(value).decode()).username for key, value in secret["data"].items()}
        assert set(roles) == set(DATABASE_SCHEMAS)
        assert all(roles[schema] == users[schema] for schema in DATABASE_SCHEMAS), (roles, users)


# The transport's values from Secrets (Kafka's SCRAM password): a stand-in, since the settings refuse SASL
# without it. Other values from Secrets (keys, database URLs) are left out, as before.
TRANSPORT_SECRETS = env_names(TransportSettings)


def settings_from(
    settings: type[BaseSettings], env: dict[str, str | None], files: dict[str, Path] | None = None
) -> BaseSettings:
    """The settings a process would read from this environment: each variable passed under its field's alias
    or name, which wins over the test's own environment. A path the pod has from a mounted Secret is read
    at its stand-in in `files` (`stand_in_files`); any other path is left as it is, and a setting that must
    name an existing file then refuses it, as the process would at start."""
    files = files or {}
    keys = {(field.alias or name).upper(): field.alias or name for name, field in settings.model_fields.items()}
    values: dict[str, Any] = {}
    for key, value in env.items():
        if key not in keys:
            continue
        if value is None and key in TRANSPORT_SECRETS:
            value = "stand-in-from-a-secret"
        if value is not None:
            values[keys[key]] = str(files[value]) if value in files else value
    return settings(**values)


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_process_reads_valid_settings_from_its_manifest(name: str, tmp_path: Path) -> None:
    """Not only the names: each value parses as its field's type (a port, a factor, an address list), and
    each file a setting names is one the pod mounts."""
    objects = overlay(name)
    found = {w["metadata"]["name"]: w for w in workloads(objects)}
    for process, (_command, settings, port) in expected_processes().items():
        workload = found[process]
        loaded = settings_from(
            settings, container_env(objects, the_container(workload)), stand_in_files(workload, tmp_path)
        )
        if port is not None:
            assert getattr(loaded, "http_port", None) == port, process
            assert getattr(loaded, "http_host", None) == "0.0.0.0", process


def test_the_engines_are_the_external_ones(tmp_path: Path) -> None:
    for name in OVERLAYS:
        objects = overlay(name)
        (engines,) = [c["data"] for n, c in of_kind(objects, "ConfigMap").items() if unhashed(n) == "anxin-engines"]
        # The password is no part of the ConfigMap: process-defaults.yaml adds it to every pod from a Secret.
        env = {**engines, "ANXIN_KAFKA_SASL_PASSWORD": None}
        files = stand_in_files(of_kind(objects, "Deployment")["cases-api"], tmp_path / name)
        settings = settings_from(CommonSettings, env, files)
        assert isinstance(settings, CommonSettings)
        assert settings.temporal_address == "temporal-frontend.temporal:7233"
        # Strimzi's TLS listener; the plain one (9092) is neither named nor reachable (network-policies.yaml).
        assert settings.kafka_servers == ["anxin-kafka-bootstrap.kafka:9093"]
        assert settings.kafka_replication_factor == 3
        assert settings.kafka_topic_configs == {"min.insync.replicas": "2"}


# -- the container build file ------------------------------------------------------------------------------


def containerfile_instructions() -> list[tuple[str, str]]:
    text = CONTAINERFILE.read_text().replace("\\\n", " ")
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            rows.append((instruction.upper(), rest.strip()))
    return rows


def test_the_containerfile_copies_what_exists_and_runs_a_project_module() -> None:
    instructions = containerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    copies = [shlex.split(rest) for instruction, rest in instructions if instruction == "COPY"]
    assert copies
    for *sources, _destination in copies:
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
    copied = {Path(source).parts[0] for *sources, _ in copies for source in sources}
    # Every package pyproject.toml installs, and the files its build reads.
    assert copied >= {"pyproject.toml", "constraints.txt", "README.md", "services", "workflows", "operations", "deploy"}
    run = " ".join(rest for instruction, rest in instructions if instruction == "RUN")
    assert "pip install -c constraints.txt ." in run
    assert "fonts-wqy-microhei" in run
    assert ("USER", str(IMAGE_UID)) in instructions
    assert ("ENTRYPOINT", "[]") in instructions
    (cmd,) = [json.loads(rest) for instruction, rest in instructions if instruction == "CMD"]
    assert cmd == expected_processes()["intake-api"][0]


def test_the_installed_package_carries_every_file_the_processes_read() -> None:
    """The image installs the project as a package (not the source tree): a data file that the package-data
    patterns miss is not in the image. That happened to the intake form's script."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    missing = [
        str(path.relative_to(ROOT))
        # deploy/config: the default lifecycle configuration every process reads.
        for top in ("services", "workflows", "operations", "deploy/config")
        for path in (ROOT / top).rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix not in (".py", ".pyc")
        and not any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns)
    ]
    assert not missing, f"not in the installed package (pyproject.toml package-data): {missing}"
