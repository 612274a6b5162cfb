"""The workloads of the rendered overlays: every container bounded and unprivileged, every worker autoscaled and
every Deployment given a disruption budget, the city running two of each and the province more, the process
labels splitting the migration Job from the processes, and that Job running under the migration role."""

from __future__ import annotations

import base64
import re
from urllib.parse import urlsplit

import pytest

from deploy.engines import DATABASE_SCHEMAS
from tests.deploy.kubernetes_manifests import (
    IMAGE_UID,
    OVERLAYS,
    ROOT,
    WORKERS,
    of_kind,
    overlay,
    pod_spec,
    the_container,
    unhashed,
    workloads,
)


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
