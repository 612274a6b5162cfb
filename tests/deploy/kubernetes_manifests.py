"""The cluster deployment (deploy/k8s) as its tests read it: the validator and what it renders, what the code says
each process is, and a container's environment resolved as its pod gets it.

`make test` builds the validator first (`make k8s-validate`, deploy/k8s/validate): it renders each overlay with
Kustomize and decodes every object strictly into the types of the pinned k8s.io/api, refusing unknown fields,
duplicate fields and unknown kinds; it prints the objects as JSON. The tests beside this module
(tests/deploy/test_kubernetes_*.py) then hold the manifests to the project's own truth, so neither can drift from
the other.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings

from deploy.engines import SERVICES
from services.common.codec_server import CodecSettings
from services.common.service import ServiceSettings, ServiceSpec
from services.common.settings import MigrationSettings
from services.common.transport import TransportSettings
from services.console.app import ConsoleSettings
from services.issuer.app import IssuerSettings
from workflows.worker import LifecycleSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if (p / "kustomization.yaml").exists())

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
