"""Each process of the rendered overlays against the code it runs:

- it is deployed with its command, a module of the project (or one of its console scripts);
- every environment variable its container gets (its `env` and what its `envFrom` brings) is a name the
  process's settings class reads (its pydantic-settings fields), apart from the few names still being added
  (PENDING_ENV); each value parses as its field's type, as the process would read it;
- it listens, is probed (/readyz, /healthz) and is reached on the port its spec or settings give;
- the engines it is given are the external ones.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest

from services.common.service import ServiceSettings
from services.common.settings import CommonSettings
from tests.deploy.kubernetes_manifests import (
    OVERLAYS,
    console_scripts,
    container_env,
    env_names,
    expected_processes,
    named_port,
    of_kind,
    overlay,
    settings_from,
    stand_in_files,
    the_container,
    unhashed,
    workloads,
)

# Names the manifests may set before a settings class reads them (each being added to the code elsewhere);
# empty while every name the manifests set is read by a settings class.
PENDING_ENV: dict[str, str] = {}


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
