"""Database spans on the real stack: each statement a request runs is a client span, a child of the request's
server span, holding the statement's text and none of its parameters; statements outside any request (the
relay's polling, readiness checks) write no trace of their own."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from deploy.stack import Stack
from tests.integration.test_intake import PROCESSES, complaint, make_id_number, make_phone


def spans_in(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def is_database_span(span: dict[str, Any]) -> bool:
    attributes = span["attributes"]
    return "postgresql" in (attributes.get("db.system"), attributes.get("db.system.name"))


def statement_of(span: dict[str, Any]) -> str:
    return str(span["attributes"].get("db.statement") or span["attributes"].get("db.query.text") or "")


def test_a_request_has_database_spans_with_statements_and_no_values(
    stack: Stack, agency_token: Callable[[str], str]
) -> None:
    stack.start_processes(PROCESSES, timeout=120)
    seed = uuid.uuid4().int % 10**7
    body = complaint(
        seed,
        worker_name="跨度测试",
        id_number=make_id_number(seed),
        phone=make_phone(seed),
        bank_card="6222021234567890128",
    )
    sent_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    response = httpx.post(
        f"{stack.processes['intake-api'].url}/v1/complaints",
        json=body,
        headers={"Authorization": f"Bearer {agency_token('clerk-130402')}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text

    traces = stack.data_dir / "traces"
    server: dict[str, Any] | None = None
    children: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not children:
        spans = spans_in(traces / "intake-api.jsonl")
        # The request's server span: a complaint filed since `sent_at`, whose statements stored a complaint.
        for candidate in spans:
            if (
                candidate["kind"] == "SpanKind.SERVER"
                and candidate["name"] == "POST /v1/complaints"
                and candidate["attributes"].get("http.status_code") == 201
                and candidate["start_time"] >= sent_at
            ):
                server = candidate
                children = [
                    s for s in spans if is_database_span(s) and s["parent_id"] == candidate["context"]["span_id"]
                ]
                if any("INSERT INTO complaints" in statement_of(s) for s in children):
                    break
        time.sleep(0.5)
    assert server is not None, "no server span of the request in intake-api's traces"
    assert children, "no database span under the request's server span"

    statements = [statement_of(s) for s in children]
    # The statement's text, with its placeholders where the values went.
    stored = next(text for text in statements if "INSERT INTO complaints" in text)
    assert "%s" in stored or "%(" in stored
    assert all(s["kind"] == "SpanKind.CLIENT" for s in children)
    database_spans = [s for s in spans if is_database_span(s)]
    assert not any(
        key.startswith("db.statement.parameters") or key.startswith("db.query.parameter")
        for s in database_spans
        for key in s["attributes"]
    )
    text = json.dumps(database_spans, ensure_ascii=False)
    for value in (body["id_number"], body["phone"], body["worker_name"], body["bank_card"]):
        assert value not in text

    # The relay polls its outbox every second and the readiness checks query the database, outside any
    # request: those statements make no trace of one span each.
    time.sleep(3)
    lone = [
        s["name"]
        for path in traces.glob("*.jsonl")
        for s in spans_in(path)
        if is_database_span(s) and s["parent_id"] is None
    ]
    assert lone == []
