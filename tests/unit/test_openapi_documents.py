"""The OpenAPI documents in docs/openapi/ are what the services serve (operations/openapi_documents.py), in the
shape the generated clients rely on: one operationId per route, named after its function, and every refusal
one shared `Problem` schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from operations import openapi_documents
from operations.openapi_documents import OPENAPI_DIR, SERVICES
from services.common.problems import PROBLEM_JSON


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    return {service: openapi_documents.document(service) for service in SERVICES}


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, operation) for path, item in document["paths"].items() for method, operation in item.items()]


def test_the_committed_documents_are_the_ones_the_services_serve() -> None:
    stale = openapi_documents.differences()
    assert not stale, f"docs/openapi/ is not what the services serve: run `make openapi` and commit it ({stale})"


def test_the_check_names_a_document_that_differs_and_one_no_service_has(tmp_path: Path) -> None:
    written = openapi_documents.write(tmp_path)
    assert [path.name for path in written] == sorted(f"{service}.json" for service in SERVICES)
    assert openapi_documents.differences(tmp_path) == []
    cases = tmp_path / OPENAPI_DIR / "cases.json"
    cases.write_text(cases.read_text(encoding="utf-8").replace('"list_cases"', '"listCases"'), encoding="utf-8")
    (tmp_path / OPENAPI_DIR / "issuer.json").write_text("{}", encoding="utf-8")
    (tmp_path / OPENAPI_DIR / "monitoring.json").unlink()
    assert openapi_documents.differences(tmp_path) == [
        "docs/openapi/cases.json",
        "docs/openapi/monitoring.json",
        "docs/openapi/issuer.json (no service has it)",
    ]
    openapi_documents.write(tmp_path)
    assert openapi_documents.differences(tmp_path) == []
    assert not (tmp_path / OPENAPI_DIR / "issuer.json").exists()


def test_the_document_is_the_one_the_running_app_serves() -> None:
    from services.monitoring.app import create_app

    app = create_app(openapi_documents._offline_settings("monitoring"))
    served = TestClient(app).get("/openapi.json")  # no lifespan: nothing connects
    assert served.status_code == 200
    assert openapi_documents.render(served.json()) == (
        openapi_documents.ROOT / OPENAPI_DIR / "monitoring.json"
    ).read_text(encoding="utf-8")


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_has_a_unique_short_id_and_every_refusal_is_a_problem(
    documents: dict[str, dict[str, Any]], service: str
) -> None:
    document = documents[service]
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids)), f"{service}: two routes share a function name"
    assert all(id_.isidentifier() and "_v1_" not in id_ for id_ in ids), ids
    assert "Problem" in document["components"]["schemas"]
    for method, path, operation in operations(document):
        refusals = {status: response for status, response in operation["responses"].items() if status.startswith("4")}
        # Health probes refuse nothing; every other route may refuse (a token, a field, a state).
        assert "4XX" in refusals or operation["tags"] == ["health"], (method, path)
        for status, response in refusals.items():
            assert response["content"][PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/Problem"}, (
                method,
                path,
                status,
            )


def test_the_documents_are_stable_text() -> None:
    for service in SERVICES:
        text = (openapi_documents.ROOT / OPENAPI_DIR / f"{service}.json").read_text(encoding="utf-8")
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        assert "anxin-openapi" not in text and '"kid"' not in text  # nothing of the throwaway settings
