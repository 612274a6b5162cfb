"""The project register on the real stack: the monitoring API and its relay, PostgreSQL and Kafka.

A county inspector registers a project (idempotent by key), imports a register file with good and bad rows,
imports it again (nothing changes), changes a project; another county's inspector sees none of it, the city
office all; every change is an audit row and an event on Kafka."""

from __future__ import annotations

import csv
import hashlib
import io
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer

from deploy.stack import Stack
from services.common.kafka import client_options
from services.contracts.events import EventEnvelope, Topics
from services.contracts.monitoring_events import MonitoringEvents, ProjectRegistered, ProjectUpdated
from services.monitoring.import_rows import COLUMNS
from tests.support.agencies import agency_clients

OWNER, CONTRACTOR, SUB_A, SUB_B = "91130400MA07ABCD12", "91130403MA0A00001N", "91130402MA0B12345J", "91130404MA0C00007W"


@pytest.fixture(scope="module")
def client(stack: Stack, agency_token: Callable[[str], str]) -> Callable[[str], httpx.Client]:
    stack.start_processes(["issuer-api", "monitoring-api", "monitoring-relay"], timeout=180)
    make = agency_clients(stack, agency_token)
    return lambda who: make("monitoring-api", who)


@pytest.fixture
def run() -> str:
    """This test's own project codes: `HD-<run>-n`."""
    return uuid.uuid4().hex[:8].upper()


def project(code: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "county": "130403",
        "name": "丛台区某安置房项目",
        "owner": {"name": "邯郸市某房地产开发有限公司", "credit_code": OWNER},
        "general_contractor": {"name": "河北某建设集团有限公司", "credit_code": CONTRACTOR},
        "subcontractors": [{"name": "某劳务有限公司", "credit_code": SUB_A}],
        "contract_value": "58000000.00",
        "start_date": "2026-03-01",
        "planned_end_date": "2027-12-31",
        "department": "housing",
        "wage_account": {"bank": "中国农业银行邯郸丛台支行", "opened_on": "2026-02-20"},
        "deposit": {"amount": "300000.00", "form": "bank_guarantee", "status": "lodged"},
        "site_ids": ["HD-2026-0001"],
    }
    return {**body, **changes}


def register_file(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return b"\xef\xbb\xbf" + out.getvalue().encode()  # with the BOM a spreadsheet program writes


def row(code: str, **changes: str) -> dict[str, str]:
    cells = {
        "code": code,
        "county": "130403",
        "name": "丛台区某学校",
        "owner_name": "邯郸市某教育投资有限公司",
        "owner_credit_code": OWNER,
        "general_contractor_name": "河北某建设集团有限公司",
        "general_contractor_credit_code": CONTRACTOR,
        "subcontractors": f"某劳务有限公司|{SUB_A}\n某钢结构有限公司|{SUB_B}",  # a quoted cell of two lines
        "contract_value": "12500000",
        "start_date": "2026-04-01",
        "planned_end_date": "2027-06-30",
        "department": "住建",
        "wage_account_bank": "",
        "wage_account_opened_on": "",
        "deposit_amount": "250000",
        "deposit_form": "现金",
        "deposit_status": "已存储",
        "site_ids": "HD-2026-0101",
    }
    return {**cells, **changes}


def events_of(
    stack: Stack, subjects: set[str], until: Callable[[list[EventEnvelope]], bool], timeout: float = 60
) -> list[EventEnvelope]:
    """The register's events about `subjects` as they are on Kafka, read until `until` holds."""
    consumer = KafkaConsumer(
        Topics.MONITORING,
        **client_options(stack.client_settings()),
        group_id=f"monitoring-test-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    seen: list[EventEnvelope] = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                seen.extend(e for r in records if (e := EventEnvelope.from_bytes(r.value)).subject in subjects)
            if until(seen):
                return seen
        raise AssertionError(f"events incomplete: {[(e.type, e.subject) for e in seen]}")
    finally:
        consumer.close()


def pages(http: httpx.Client, **params: Any) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        answer = http.get("/v1/projects", params={**params, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        yield from answer.json()["items"]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return


def test_a_project_is_registered_once_per_key_and_only_its_county_and_the_city_see_it(
    stack: Stack, client: Callable[[str], httpx.Client], run: str
) -> None:
    inspector, other_county, city = client("inspector-130403"), client("inspector-130402"), client("city-office")
    body, key = project(f"HD-{run}-1"), f"register-{run}"
    first = inspector.post("/v1/projects", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    registered = first.json()
    project_id = registered["project_id"]
    assert registered["version"] == 1 and registered["deposit"]["amount"] == "300000.00"
    assert registered["owner"] == {"name": "邯郸市某房地产开发有限公司", "credit_code": OWNER}

    again = inspector.post("/v1/projects", json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 200 and again.json()["project_id"] == project_id and again.json()["repeated"]
    reused = inspector.post("/v1/projects", json={**body, "name": "另一个"}, headers={"Idempotency-Key": key})
    assert reused.status_code == 422 and reused.headers["content-type"] == "application/problem+json"
    taken = inspector.post("/v1/projects", json=body, headers={"Idempotency-Key": f"other-{run}"})
    assert taken.status_code == 409 and taken.json()["project_id"] == project_id

    invalid = inspector.post(
        "/v1/projects", json=project(f"HD-{run}-2", owner={"name": "某公司", "credit_code": OWNER[:-1] + "0"})
    )
    assert invalid.status_code == 422
    assert [e["field"] for e in invalid.json()["errors"]] == ["owner.credit_code"]
    elsewhere = inspector.post("/v1/projects", json=project(f"HD-{run}-3", county="130402"))
    assert elsewhere.status_code == 403

    # Another county's inspector: as if it did not exist; the city office: everything.
    assert other_county.get(f"/v1/projects/{project_id}").status_code == 404
    assert other_county.patch(f"/v1/projects/{project_id}", json={"name": "x"}).status_code == 404
    assert project_id not in {p["project_id"] for p in pages(other_county)}
    assert other_county.get("/v1/projects", params={"county": "130403"}).json()["items"] == []
    assert city.get(f"/v1/projects/{project_id}").json() == {k: v for k, v in registered.items()}
    assert project_id in {p["project_id"] for p in pages(city, county="130403", department="housing")}

    (event,) = events_of(stack, {project_id}, lambda seen: len(seen) >= 1)
    payload = event.parse()
    assert isinstance(payload, ProjectRegistered) and event.producer == "monitoring"
    assert payload.project.code == body["code"] and payload.source == "api"


def test_an_import_stores_the_good_rows_reports_the_bad_ones_and_changes_nothing_the_second_time(
    stack: Stack, client: Callable[[str], httpx.Client], run: str
) -> None:
    inspector, other_county, city = client("inspector-130403"), client("inspector-130402"), client("city-office")
    rows = [
        row(f"HD-{run}-11"),
        row(f"HD-{run}-12", owner_credit_code=OWNER[:-1] + "0", start_date="2026-13-01"),
        row(f"HD-{run}-13", county="130402"),  # another county's: refused for this inspector
        row(f"HD-{run}-14", subcontractors="某劳务有限公司没有代码"),
        row(f"HD-{run}-15", deposit_amount="", deposit_form="", deposit_status=""),
    ]
    data = register_file(rows)
    files = {"file": ("register.csv", data, "text/csv")}
    first = inspector.post("/v1/projects/import", files=files)
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["rows"] == 5 and report["counts"] == {"registered": 2, "invalid": 2, "refused": 1}
    results = {r["row"]: r for r in report["results"]}
    assert results[1]["result"] == results[5]["result"] == "registered"
    assert {e["field"] for e in results[2]["errors"]} == {"owner.credit_code", "start_date"}
    assert results[3]["errors"][0]["code"] == "out_of_scope"
    assert [e["field"] for e in results[4]["errors"]] == ["subcontractors"]

    imported = {r["project_id"] for r in report["results"] if r["result"] == "registered"}
    stored = {p["project_id"]: p for p in pages(inspector, county="130403") if p["project_id"] in imported}
    assert len(stored) == 2
    school = next(p for p in stored.values() if p["code"] == f"HD-{run}-11")
    assert [c["credit_code"] for c in school["subcontractors"]] == [SUB_A, SUB_B] and school["department"] == "housing"
    assert school["wage_account"] is None
    no_deposit = {p["project_id"] for p in pages(inspector, no_deposit=True, no_wage_account=True)}
    assert imported & no_deposit == {r["project_id"] for r in report["results"] if r["row"] == 5}

    second = inspector.post("/v1/projects/import", files=files)
    assert second.status_code == 200
    assert second.json()["counts"] == {"unchanged": 2, "invalid": 2, "refused": 1}
    assert {p["project_id"]: p for p in pages(city) if p["project_id"] in imported} == stored
    # Each import is an audit row naming the file by its hash.
    digest = hashlib.sha256(data).hexdigest()
    audited = city.get("/v1/audit", params={"subject": f"import:{digest[:16]}"}).json()["items"]
    assert [(a["action"], a["actor"], a["detail"]["sha256"], a["detail"]["counts"]) for a in audited] == [
        ("project.import", "inspector-130403", digest, second.json()["counts"]),
        ("project.import", "inspector-130403", digest, report["counts"]),
    ]
    # A third time with one row changed: only that project changes.
    changed = register_file([row(f"HD-{run}-11", contract_value="13000000"), rows[4]])
    third = inspector.post("/v1/projects/import", files={"file": ("register.csv", changed, "text/csv")}).json()
    assert [(r["result"], r.get("changed")) for r in third["results"]] == [
        ("updated", ["contract_value"]),
        ("unchanged", None),
    ]
    assert other_county.get(f"/v1/projects/{school['project_id']}").status_code == 404

    events = events_of(stack, imported, lambda seen: len(seen) >= 3)
    time.sleep(2)  # anything more would have been relayed by now
    events = events_of(stack, imported, lambda seen: len(seen) >= 3)
    assert sorted((e.subject, e.type) for e in events) == sorted(
        [(pid, MonitoringEvents.PROJECT_REGISTERED) for pid in imported]
        + [(school["project_id"], MonitoringEvents.PROJECT_UPDATED)]
    )
    update = next(e.parse() for e in events if e.type == MonitoringEvents.PROJECT_UPDATED)
    assert isinstance(update, ProjectUpdated) and update.changed == ["contract_value"] and update.project.version == 2


def test_changes_are_versioned_audited_and_announced(
    stack: Stack, client: Callable[[str], httpx.Client], run: str
) -> None:
    head, city = client("bureau-head-130403"), client("city-office")
    project_id = head.post("/v1/projects", json=project(f"HD-{run}-21")).json()["project_id"]

    patched = head.patch(
        f"/v1/projects/{project_id}", json={"deposit": None, "site_ids": ["HD-2026-0001", "HD-2026-0002"]}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["changed"] == ["deposit", "site_ids"] and patched.json()["version"] == 2
    same = head.patch(f"/v1/projects/{project_id}", json={"deposit": None})
    assert same.json()["changed"] == [] and same.json()["version"] == 2
    whole = project(
        f"HD-{run}-21", planned_end_date="2028-06-30", deposit=None, site_ids=["HD-2026-0001", "HD-2026-0002"]
    )
    replaced = head.put(f"/v1/projects/{project_id}", json=whole)
    assert replaced.json()["changed"] == ["planned_end_date"] and replaced.json()["version"] == 3
    bad = head.put(f"/v1/projects/{project_id}", json={**whole, "planned_end_date": "2025-01-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "before_start"
    moved = head.patch(f"/v1/projects/{project_id}", json={"county": "130402"})
    assert moved.status_code == 403
    assert head.get(f"/v1/projects/{project_id}").json()["version"] == 3

    audit = city.get("/v1/audit", params={"subject": project_id}).json()["items"]
    assert [(a["action"], a["fields"]) for a in reversed(audit)] == [
        ("project.registered", []),
        ("project.updated", ["deposit", "site_ids"]),
        ("project.updated", ["planned_end_date"]),
    ]
    events = events_of(stack, {project_id}, lambda seen: len(seen) >= 3)
    assert [(e.type, e.parse().project.version) for e in events] == [  # type: ignore[attr-defined]
        (MonitoringEvents.PROJECT_REGISTERED, 1),
        (MonitoringEvents.PROJECT_UPDATED, 2),
        (MonitoringEvents.PROJECT_UPDATED, 3),
    ]


def test_the_register_pages_by_cursor(client: Callable[[str], httpx.Client], run: str) -> None:
    inspector = client("inspector-130403")
    made = [
        inspector.post("/v1/projects", json=project(f"HD-{run}-3{n}", department="water")).json()["project_id"]
        for n in range(3)
    ]
    first = inspector.get("/v1/projects", params={"department": "water", "limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    listed = [p["project_id"] for p in pages(inspector, department="water", limit=2)]
    assert len(listed) == len(set(listed)) and listed[:3] == made[::-1]
    assert inspector.get("/v1/projects", params={"cursor": "not-a-cursor"}).status_code == 422
