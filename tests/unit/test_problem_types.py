"""Every problem `type` the code can answer with is a documented page, `/problems/<name>`, served by the
process that answered: the names the code gives are read from its source, and each answer's `type` is
followed on the same app."""

from __future__ import annotations

import ast
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urljoin

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.common.middleware import BodySizeLimit, install_edge
from services.common.problem_types import BY_STATUS, CATALOGUE, NAMED, PROBLEM_PATH, status_type_name
from services.common.problems import Problem, install_problem_handlers
from tests.unit.test_domain_errors import CASES

ROOT = Path(__file__).resolve().parents[2]
CODE = [ROOT / "services", ROOT / "workflows", ROOT / "operations"]


def _domain_error_classes(trees: list[ast.Module]) -> set[str]:
    """Names of DomainError and of every class that derives from it, anywhere in the code."""
    names = {"DomainError"}
    while True:
        found = {
            node.name
            for tree in trees
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)
            and any(
                (b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else "") in names
                for b in node.bases
            )
        }
        if found <= names:
            return names
        names |= found


def _called(call: ast.Call) -> str:
    return (
        call.func.id
        if isinstance(call.func, ast.Name)
        else call.func.attr
        if isinstance(call.func, ast.Attribute)
        else ""
    )


def type_names_in_code() -> dict[str, str]:
    """Every problem type name the code gives -> a file that gives it: a domain error's `code` (its class's
    or the one it is raised with) and a Problem's `type_` written after PROBLEM_BASE."""
    files = [path for folder in CODE for path in folder.rglob("*.py")]
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in files}
    domain_errors = _domain_error_classes(list(trees.values()))
    names: dict[str, str] = {}
    for path, tree in trees.items():
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in domain_errors:
                for statement in node.body:
                    if (
                        isinstance(statement, ast.Assign)
                        and isinstance(statement.value, ast.Constant)
                        and any(isinstance(t, ast.Name) and t.id == "code" for t in statement.targets)
                        and isinstance(statement.value.value, str)
                    ):
                        names.setdefault(statement.value.value, where)
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                value = keyword.value
                if (
                    keyword.arg == "code"
                    and _called(node) in domain_errors
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    names.setdefault(value.value, where)
                if keyword.arg == "type_" and isinstance(value, ast.JoinedStr):
                    tail = value.values[-1]
                    assert isinstance(tail, ast.Constant), f"{where}: a problem type must be written out"
                    names.setdefault(str(tail.value), where)
    return names


def test_every_type_the_code_gives_is_documented() -> None:
    given = type_names_in_code()
    assert {"validation", "action-refused", "invalid-complaint", "listing-criteria", "account-disabled"} <= set(given)
    assert {name: where for name, where in given.items() if name not in CATALOGUE} == {}
    # And nothing is documented that nothing gives (a status's type is given by any refusal with that status).
    assert set(NAMED) <= set(given)


def test_every_status_has_its_type() -> None:
    for status in HTTPStatus:
        if status.value >= 400:
            assert status_type_name(status.value) in BY_STATUS
    assert status_type_name(404) == "not-found" and status_type_name(418) == "im-a-teapot"
    assert Problem(413, "Request too large").type == f"{PROBLEM_PATH}request-entity-too-large"


def an_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/refuse/{index}")
    def refuse(index: int) -> None:
        raise CASES[index][0]

    @app.get("/problem/{status}")
    def problem(status: int) -> None:
        raise Problem(status, "Refused")

    @app.post("/upload")
    def upload(body: dict[str, str]) -> None:
        return None

    app.add_middleware(BodySizeLimit, max_bytes=64)
    return app


def test_each_answer_s_type_resolves_on_the_app_that_answered() -> None:
    client = TestClient(an_app())
    answers = [client.get(f"/refuse/{i}") for i in range(len(CASES))]
    answers += [client.get(f"/problem/{status}") for status in (400, 401, 403, 404, 409, 421, 422, 502, 503)]
    answers += [
        client.get("/nowhere"),
        client.delete("/upload"),
        client.post("/upload", json={"x": 1}),
        client.post("/upload", content=b"{" + b" " * 100 + b"}", headers={"content-type": "application/json"}),
        client.get("/refuse/x"),
    ]
    types = set()
    for answer in answers:
        assert answer.status_code >= 400 and answer.headers["content-type"] == "application/problem+json"
        problem_type = answer.json()["type"]
        assert problem_type.startswith(PROBLEM_PATH), problem_type
        page = client.get(urljoin(str(answer.url), problem_type))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), problem_type
        assert CATALOGUE[problem_type.removeprefix(PROBLEM_PATH)].title in page.text
        types.add(problem_type)
    # The answers above cover the named kinds and the statuses: 404, 405, 413 and 422 included.
    assert {
        f"{PROBLEM_PATH}{name}"
        for name in (
            "not-found",
            "method-not-allowed",
            "request-entity-too-large",
            "validation",
            "action-refused",
            "rate-limited",
        )
    } <= types


def test_the_pages_and_their_index() -> None:
    client = TestClient(an_app())
    index = client.get("/problems").json()["items"]
    assert {item["type"] for item in index} == {t.uri for t in CATALOGUE.values()}
    for problem_type in CATALOGUE.values():
        page = client.get(problem_type.uri)
        assert page.status_code == 200 and problem_type.description_zh.split("。")[0][:10] in page.text
        assert "<script" not in page.text and "style=" not in page.text  # the pages' CSP allows neither inline
    unknown = client.get("/problems/no-such-type")
    assert unknown.status_code == 404 and unknown.json()["type"] == f"{PROBLEM_PATH}not-found"


def test_every_http_process_serves_the_pages_once(tmp_path: Path) -> None:
    # The console installs the edge alone; the services install the edge and the problem handlers.
    app = FastAPI()
    install_edge(app, "test-api", tmp_path, max_request_bytes=1024)
    routes = len(app.router.routes)
    install_problem_handlers(app)
    assert len(app.router.routes) == routes
    page = TestClient(app).get("/problems/request-entity-too-large")
    assert page.status_code == 200 and "Request Entity Too Large" in page.text


@pytest.mark.parametrize("document", ["docs/api.md", "docs/architecture.md", "docs/api.zh-CN.md"])
def test_the_docs_give_the_real_path(document: str) -> None:
    text = (ROOT / document).read_text(encoding="utf-8")
    assert "anxin.example/problems" not in text


def test_the_codec_server_serves_the_pages_of_its_refusals() -> None:
    from services.common.codec_server import create_app
    from tests.security.test_codec_server import _settings

    client = TestClient(create_app(_settings()), base_url="http://127.0.0.1:8299")
    refused = client.post("/decode", json={"payloads": []})
    assert refused.status_code == 401
    page = client.get(urljoin(str(refused.url), refused.json()["type"]))
    assert page.status_code == 200 and "Unauthorized" in page.text
