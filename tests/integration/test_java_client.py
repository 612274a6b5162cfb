"""The Java client (clients/java/pom.xml, `make clients`) is generated from docs/openapi/ by openapi-generator's
Maven plugin and compiles: one jar with each service's API classes, models and its own `ApiClient`; and a Java
program using it (tests/integration/java/FileAndRead.java) files a complaint and reads its case on the real stack.

The build takes about 50 seconds with Maven's local repository warm (20 s of CPU: five generations and one
javac run), and 1 minute 45 on a machine that has never fetched the plugin and the client's libraries (58 MB
from Maven Central); the program, about 5 seconds more."""

from __future__ import annotations

import json
import subprocess
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.stack import Stack
from operations.openapi_documents import SERVICES
from tests.support.factories import ComplaintTemplate

ROOT = Path(__file__).resolve().parents[2]
POM = ROOT / "clients" / "java" / "pom.xml"
PROGRAM = Path(__file__).parent / "java" / "FileAndRead.java"
PROCESSES = [
    "intake-api",
    "intake-relay",
    "intake-worker",
    "cases-api",
    "cases-relay",
    "cases-worker",
    "lifecycle-worker",
]
COMPLAINTS = ComplaintTemplate(
    employer_name="邯郸市爪哇客户端测试建筑劳务有限公司",
    project_name="爪哇客户端测试安置房项目",
    period=("2026-05-01", "2026-08-31"),
    description="五月到八月在该项目做瓦工，工资一直没有发放。",
)


@dataclass(frozen=True)
class JavaClient:
    jar: Path
    classpath: str  # the jar and the libraries it needs


@pytest.fixture(scope="module")
def java_client(tmp_path_factory: pytest.TempPathFactory) -> JavaClient:
    build = tmp_path_factory.mktemp("java-client")
    libraries = build / "classpath.txt"
    began = time.perf_counter()
    run = subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(POM),
            "package",
            "dependency:build-classpath",
            f"-Dclients.build.dir={build}",
            f"-Dmdep.outputFile={libraries}",
        ],
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    print(f"built the Java client in {time.perf_counter() - began:.0f} s")
    jar = build / "anxin-api-clients-1.jar"
    return JavaClient(jar, f"{jar}:{libraries.read_text(encoding='utf-8').strip()}")


@pytest.mark.timeout(900)
def test_the_java_client_is_generated_from_the_documents_and_compiles(java_client: JavaClient) -> None:
    with zipfile.ZipFile(java_client.jar) as jar:
        classes = set(jar.namelist())
    for service in SERVICES:
        package = f"org/anxin/clients/{service}"
        assert {
            f"{package}/ApiClient.class",
            f"{package}/ApiException.class",
            f"{package}/api/AuthApi.class",
            f"{package}/model/Problem.class",
        } <= classes, service
    # What a clerk and an inspector call: filing a complaint, reading it in the ledger and reading its case.
    assert {
        "org/anxin/clients/intake/api/ComplaintsApi.class",
        "org/anxin/clients/intake/model/ComplaintSubmissionIn.class",
        "org/anxin/clients/cases/api/LedgerApi.class",
        "org/anxin/clients/cases/model/ComplaintView.class",
    } <= classes
    # Nothing is written beside the pom (the generated sources and the classes go to the build folder).
    assert sorted(path.name for path in POM.parent.iterdir()) == ["README.md", "pom.xml"]


@pytest.mark.timeout(900)
def test_a_java_program_files_a_complaint_and_reads_its_case_through_the_client(
    java_client: JavaClient, stack: Stack, agency_token: Callable[[str], str]
) -> None:
    stack.start_processes(PROCESSES, timeout=150)
    body = COMPLAINTS.body(7401)
    run = subprocess.run(
        [
            "java",
            "-cp",
            java_client.classpath,
            str(PROGRAM),
            stack.processes["intake-api"].url,
            agency_token("clerk-130402"),
            stack.processes["cases-api"].url,
            agency_token("inspector-130402"),
            json.dumps(body, ensure_ascii=False),
            f"java-client-test-{time.time_ns()}",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-6000:]
    complaint_id, case_id, read_case_id, county, refused = run.stdout.split()
    assert complaint_id.startswith("TS-") and case_id == read_case_id and county == body["county_code"] == "130402"
    assert refused == "401"
