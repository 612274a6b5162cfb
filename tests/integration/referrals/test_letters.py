"""Letters on the real stack: numbered PDFs in Chinese from the case facts, one per Idempotency-Key,
numbers without gaps or duplicates under concurrent requests."""

from __future__ import annotations

import hashlib
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.integration.referrals.conftest import Agencies
from tests.support.pdfs import pdf_words


def letter_request(
    case: dict[str, Any], kind: str = "handoff", department: str = "housing", key: str | None = None
) -> tuple[str, dict[str, Any]]:
    key = key or f"case:{case['case_id']}:letter:{kind}:{uuid.uuid4().hex[:8]}"
    return key, {
        "idempotency_key": key,
        "case_id": case["case_id"],
        "county": case["county"],
        "department": department,
        "kind": kind,
        "response_due_at": "2026-12-15T00:00:00+08:00",
        "response_due_date": "2026-12-14",
    }


def post_letter(client: httpx.Client, key: str, body: dict[str, Any]) -> httpx.Response:
    return client.post("/v1/letters", json=body, headers={"Idempotency-Key": key})


def test_a_handoff_letter_is_a_numbered_chinese_pdf_issued_once_per_key(agencies: Agencies) -> None:
    a = agencies
    case = a.new_case()
    key, body = letter_request(case)

    first = post_letter(a.lifecycle, key, body)
    assert first.status_code == 201, first.text
    letter_id = first.json()["id"]
    assert first.json() == {"id": letter_id}  # exactly the contract's DocumentRef

    # Retried (also concurrently) with the same key: the same letter, never a second one.
    with ThreadPoolExecutor(4) as pool:
        repeats = list(pool.map(lambda _: post_letter(a.lifecycle, key, body), range(4)))
    assert {r.status_code for r in repeats} == {200}
    assert {r.json()["id"] for r in repeats} == {letter_id}
    assert len(a.city.get("/v1/letters", params={"case_id": case["case_id"]}).json()["items"]) == 1

    # The same key for a different request is refused.
    reused = post_letter(a.lifecycle, key, {**body, "department": "transport"})
    assert reused.status_code == 422 and "Idempotency-Key" in reused.json()["detail"]

    record = a.housing.get(f"/v1/letters/{letter_id}")
    assert record.status_code == 200, record.text
    letter = record.json()
    assert re.fullmatch(r"邯欠薪办交〔\d{4}〕\d+号", letter["document_number"])
    assert letter["kind"] == "handoff" and letter["addressee"] == "housing"
    assert letter["response_due_date"] == "2026-12-14"

    pdf = a.housing.get(f"/v1/letters/{letter_id}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert hashlib.sha256(pdf.content).hexdigest() == letter["sha256"] == pdf.headers["x-content-sha256"]
    text = pdf_words(pdf.content)
    for expected in (
        "交办函",
        letter["document_number"],
        case["employer_name"],
        case["project_name"],
        "邯郸市住房和城乡建设局",
        "邯山区",
        "12,000.00",
        "2026年12月14日",
    ):
        assert expected in text, (expected, text)
    assert "测试工人" not in text  # no worker's name in a letter

    # Another department neither reads it nor sees it listed; the lifecycle's request made a handoff.
    assert a.transport.get(f"/v1/letters/{letter_id}").status_code == 404
    assert a.transport.get(f"/v1/letters/{letter_id}/pdf").status_code == 404
    inbox = a.housing.get("/v1/handoffs", params={"case_id": case["case_id"]}).json()["items"]
    assert [h["letter_id"] for h in inbox] == [letter_id] and inbox[0]["status"] == "sent"


def test_letter_requests_are_refused_or_deferred_with_problems(agencies: Agencies) -> None:
    a = agencies
    unknown = {"case_id": "C-NOTKNOWNYET0000", "county": "130402", "employer_name": "", "project_name": ""}
    key, body = letter_request(unknown)
    deferred = post_letter(a.lifecycle, key, body)
    # The case's complaints have not arrived: retryable, so the lifecycle activity tries again later.
    assert deferred.status_code == 503 and deferred.headers["retry-after"] == "5"
    assert deferred.headers["content-type"].startswith("application/problem+json")

    case = a.new_case()
    key, body = letter_request(case, department="no-such-bureau")
    refused = post_letter(a.lifecycle, key, body)
    assert refused.status_code == 422 and "no-such-bureau" in refused.json()["detail"]
    key, body = letter_request(case, kind="reminder")
    early = post_letter(a.lifecycle, key, body)
    assert early.status_code == 409 and "handoff" in early.json()["detail"]
    assert post_letter(a.lifecycle, "", body).status_code == 400
    # An agency token is not the lifecycle's: refused.
    assert post_letter(a.housing, key, body).status_code == 403
    assert a.city.get("/v1/letters", params={"case_id": case["case_id"]}).json()["items"] == []


def test_document_numbers_have_no_gaps_or_duplicates_under_concurrency(agencies: Agencies) -> None:
    a = agencies
    case = a.new_case()
    requests = [letter_request(case) for _ in range(8)]
    # Three retries of the first request race with the rest: they must not take numbers of their own.
    burst = requests + [requests[0]] * 3
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda kb: post_letter(a.lifecycle, *kb), burst))
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 8
    numbers = []
    for letter_id in ids:
        letter = a.city.get(f"/v1/letters/{letter_id}").json()
        numbers.append(letter["number"])
        assert letter["document_number"].endswith(f"〕{letter['number']}号")
    assert sorted(numbers) == list(range(min(numbers), min(numbers) + 8)), numbers
