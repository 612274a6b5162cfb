"""Every process of `make run`, of the cluster profile and of a private stack listens on a port of its own, and
each service's processes on its spec's ports (services/<name>/spec.py), shifted alike on a private stack. No
engine is started: the ports are read from the processes' specs."""

from __future__ import annotations

from pathlib import Path

from deploy.cluster import ClusterStack
from deploy.engines import SERVICES, Ports
from deploy.process_environment import service_spec
from deploy.stack import Stack


def test_each_process_has_its_own_port_and_each_service_its_specs(tmp_path: Path) -> None:
    for stack in (
        Stack(tmp_path / "embedded", environ={}, with_ui=False),
        ClusterStack(tmp_path / "cluster", environ={}, with_ui=False),
    ):
        specs = stack.process_specs()
        ports = [spec.port for spec in specs]
        assert len(ports) == len(set(ports)), sorted(ports)
        by_name = {spec.name: spec.port for spec in specs}
        for service in SERVICES:
            spec = service_spec(service)
            assert by_name[f"{service}-api"] == spec.api_port
            assert by_name.get(f"{service}-relay") == (spec.relay_port if spec.has_relay else None)
            assert (f"{service}-{spec.worker_process}" in by_name) == spec.has_worker
            if spec.has_worker:
                assert by_name[f"{service}-{spec.worker_process}"] == spec.worker_port
        assert by_name["monitoring-api"] == 8007 and by_name["issuer-api"] == 8005 and by_name["console"] == 8006
        assert by_name["webhooks-api"] == 8008 and by_name["webhooks-dispatcher"] == 8208
        assert by_name["monitoring-worker"] == 8207


def test_a_private_stack_shifts_every_service_alike(tmp_path: Path) -> None:
    stack = Stack(tmp_path / "private", Ports.private(-3640), environ={}, with_ui=False)
    by_name = {spec.name: spec.port for spec in stack.process_specs()}
    shift = Ports.private(-3640).service_base - Ports().service_base
    for service in SERVICES:
        assert by_name[f"{service}-api"] == service_spec(service).api_port + shift
    assert stack.service_urls()["ANXIN_MONITORING_URL"] == f"http://127.0.0.1:{8007 + shift}"
    assert len(by_name.values()) == len(set(by_name.values()))
