"""The manifests' validator (deploy/k8s/validate, built by `make k8s-validate`) refuses what a cluster would:
unknown fields, nested or added by an overlay's patch, duplicate fields, unknown kinds and versions no longer
served; it accepts a good manifest and prints it as JSON; the base and every overlay validate."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.deploy.kubernetes_manifests import BASE, K8S, OVERLAYS, rendered, run_validator


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


def test_the_base_and_every_overlay_validate() -> None:
    assert OVERLAYS == ["city", "province"]
    for directory in [BASE, *(K8S / "overlays" / name for name in OVERLAYS)]:
        assert rendered(directory), directory
