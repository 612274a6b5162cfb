"""The Python clients generated from docs/openapi/ (operations/api_clients.py, `make clients`) on the real
stack: a clerk files a complaint through the intake client, and the county's inspector reads it in the
ledger, then its case, through the cases client; a refusal comes back as the shared `Problem`.

The two packages are generated once per session into a temporary folder (2.5 seconds on a 2-core machine,
up to 8 while it is busy; the generator's ruff pass included) from the committed documents, which
tests/unit/test_openapi_documents.py holds to the code."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from deploy.stack import Stack
from operations import api_clients
from tests.support.agencies import wait_for
from tests.support.factories import ComplaintTemplate

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
    employer_name="邯郸市客户端测试建筑劳务有限公司",
    project_name="客户端测试安置房项目",
    period=("2026-06-01", "2026-09-30"),
    description="六月到九月在该项目做木工，工资一直没有发放。",
)


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], ModuleType]]:
    """`generated("anxin_cases_client.api.ledger.get_case")`: a module of the freshly generated clients."""
    output = tmp_path_factory.mktemp("clients")
    began = time.perf_counter()
    folders = [api_clients.generate(service, output) for service in ("intake", "cases")]
    print(f"generated the intake and cases clients in {time.perf_counter() - began:.1f} s")
    sys.path[:0] = [str(folder) for folder in folders]
    try:
        yield _module
    finally:
        for folder in folders:
            sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.startswith(("anxin_intake_client", "anxin_cases_client"))]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def stack_up(stack: Stack) -> Stack:
    stack.start_processes(PROCESSES, timeout=150)
    return stack


def client_of(generated: Callable[[str], ModuleType], package: str, base_url: str, token: str | None) -> Any:
    client = generated(f"{package}.client")
    if token is None:
        return client.Client(base_url=base_url, timeout=30)
    return client.AuthenticatedClient(base_url=base_url, token=token, timeout=30)


def test_a_complaint_filed_through_the_intake_client_is_read_through_the_cases_client(
    generated: Callable[[str], ModuleType], stack_up: Stack, agency_token: Callable[[str], str]
) -> None:
    intake_url, cases_url = stack_up.processes["intake-api"].url, stack_up.processes["cases-api"].url
    clerk = client_of(generated, "anxin_intake_client", intake_url, agency_token("clerk-130402"))
    inspector = client_of(generated, "anxin_cases_client", cases_url, agency_token("inspector-130402"))

    submission = generated("anxin_intake_client.models").ComplaintSubmissionIn.from_dict(COMPLAINTS.body(7301))
    file_complaint = generated("anxin_intake_client.api.complaints.file_complaint")
    filed = file_complaint.sync_detailed(client=clerk, body=submission, idempotency_key=f"client-test-{time.time_ns()}")
    assert filed.status_code == 201, filed.content
    FiledResponse = generated("anxin_intake_client.models").FiledResponse
    assert isinstance(filed.parsed, FiledResponse) and filed.parsed.complaint_id.startswith("TS-")
    complaint_id = filed.parsed.complaint_id

    get_complaint = generated("anxin_cases_client.api.ledger.get_complaint")
    cases_models = generated("anxin_cases_client.models")

    def in_ledger() -> Any:
        answer = get_complaint.sync_detailed(complaint_id, client=inspector)
        return answer.parsed if answer.status_code == 200 else None

    view = wait_for(f"complaint {complaint_id} in the ledger", in_ledger, timeout=90)
    assert isinstance(view, cases_models.ComplaintView)
    assert (view.complaint_id, view.county) == (complaint_id, "130402")

    get_case = generated("anxin_cases_client.api.ledger.get_case")
    case = get_case.sync_detailed(view.case_id, client=inspector)
    assert case.status_code == 200, case.content
    assert case.parsed is not None and case.parsed.to_dict()["case_id"] == view.case_id
    assert complaint_id in str(case.content)

    # Refusals are read into the one Problem type: no token, and a complaint that does not exist.
    anonymous = client_of(generated, "anxin_cases_client", cases_url, None)
    refused = get_case.sync_detailed(view.case_id, client=anonymous)
    assert refused.status_code == 401 and isinstance(refused.parsed, cases_models.Problem)
    missing = get_complaint.sync_detailed("TS-20000101-999999", client=inspector)
    assert missing.status_code == 404 and isinstance(missing.parsed, cases_models.Problem)
    assert missing.parsed.status == 404 and missing.parsed.type_.startswith("/problems/")


def test_the_generated_packages_are_one_per_service_and_carry_no_cache(tmp_path: Path) -> None:
    assert api_clients.package_name("sanctions") == "anxin_sanctions_client"
    folder = api_clients.generate("monitoring", tmp_path)
    assert (folder / "setup.py").is_file() and (folder / "anxin_monitoring_client" / "api").is_dir()
    assert not (folder / ".ruff_cache").exists()
