"""The Java client (clients/java/pom.xml, `make clients`) is generated from docs/openapi/ by openapi-generator's
Maven plugin and compiles: one jar with each service's API classes, models and its own `ApiClient`.

It takes about 50 seconds with Maven's local repository warm (20 s of CPU: five generations and one javac run),
and 1 minute 45 on a machine that has never fetched the plugin and the client's libraries (58 MB from Maven
Central)."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from operations.openapi_documents import SERVICES

ROOT = Path(__file__).resolve().parents[2]
POM = ROOT / "clients" / "java" / "pom.xml"


@pytest.mark.timeout(900)
def test_the_java_client_is_generated_from_the_documents_and_compiles(tmp_path: Path) -> None:
    build = subprocess.run(["mvn", "-q", "-B", "-f", str(POM), "package", f"-Dclients.build.dir={tmp_path}"],
                           capture_output=True, text=True, timeout=840, check=False)
    assert build.returncode == 0, build.stdout[-6000:] + build.stderr[-3000:]
    with zipfile.ZipFile(tmp_path / "anxin-api-clients-1.jar") as jar:
        classes = set(jar.namelist())
    for service in SERVICES:
        package = f"org/anxin/clients/{service}"
        assert {f"{package}/ApiClient.class", f"{package}/ApiException.class", f"{package}/api/AuthApi.class",
                f"{package}/model/Problem.class"} <= classes, service
    # What a clerk and an inspector call: filing a complaint, reading it in the ledger and reading its case.
    assert {"org/anxin/clients/intake/api/ComplaintsApi.class", "org/anxin/clients/intake/model/ComplaintSubmissionIn.class",
            "org/anxin/clients/cases/api/LedgerApi.class", "org/anxin/clients/cases/model/ComplaintView.class"} <= classes
    # Nothing is written beside the pom (the generated sources and the classes go to the build folder).
    assert sorted(path.name for path in POM.parent.iterdir()) == ["README.md", "pom.xml"]
