"""On the running stack, every HTTP process serves the page of every problem type, and the `type` of a real
refusal from each process resolves, on that process, to its page."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urljoin

import httpx
import pytest

from deploy.stack import Stack
from services.common.problem_types import CATALOGUE
from tests.integration.test_intake import complaint

APIS = ["intake-api", "cases-api", "referrals-api", "sanctions-api", "issuer-api"]


@pytest.fixture(scope="module")
def processes(stack: Stack) -> dict[str, str]:
    stack.start_processes([*APIS, "console"], timeout=180)
    return {name: stack.processes[name].url for name in [*APIS, "console"]}


def follow(answer: httpx.Response) -> httpx.Response:
    assert answer.headers["content-type"] == "application/problem+json", answer.text
    return httpx.get(urljoin(str(answer.url), answer.json()["type"]), timeout=30)


def test_every_process_serves_every_problem_type(processes: dict[str, str]) -> None:
    for name, url in processes.items():
        index = httpx.get(f"{url}/problems", timeout=30)
        assert index.status_code == 200, (name, index.text)
        types = [item["type"] for item in index.json()["items"]]
        assert sorted(types) == sorted(t.uri for t in CATALOGUE.values()), name
        with httpx.Client(base_url=url, timeout=30) as client:
            for problem_type in types:
                page = client.get(problem_type)
                assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), (
                    name,
                    problem_type,
                )


def test_a_refusal_s_type_resolves_on_the_process_that_answered(
    processes: dict[str, str], agency_token: Callable[[str], str]
) -> None:
    for name, url in processes.items():
        if name == "console":
            continue  # the console answers people with pages; its problems come from the edge only (below)
        missing = httpx.get(f"{url}/v1/no-such-route", timeout=30)
        assert missing.status_code == 404 and missing.json()["type"] == "/problems/not-found", name
        assert follow(missing).status_code == 200
    intake = processes["intake-api"]
    invalid = httpx.post(
        f"{intake}/v1/complaints",
        json=complaint(7, phone="12"),
        timeout=30,
        headers={"Authorization": f"Bearer {agency_token('clerk-130402')}"},
    )
    assert invalid.status_code == 422 and invalid.json()["type"] == "/problems/invalid-complaint", invalid.text
    assert "The complaint is not valid" in follow(invalid).text
    unauthenticated = httpx.get(f"{processes['cases-api']}/v1/cases", timeout=30)
    assert unauthenticated.status_code == 401 and follow(unauthenticated).status_code == 200
    not_issuer = httpx.post(
        f"{processes['sanctions-api']}/oauth/token", data={"grant_type": "client_credentials"}, timeout=30
    )
    assert not_issuer.json()["type"] == "/problems/not-the-token-issuer", not_issuer.text
    assert follow(not_issuer).status_code == 200
    too_large = httpx.post(f"{processes['console']}/", content=b"x" * (64 * 1024 * 1024), timeout=60)
    assert too_large.status_code == 413 and follow(too_large).status_code == 200
