"""The ladder against a project (四函两单) on the real stack: the monitoring API, relay and worker raise the early
warnings; the referrals worker's consumer starts the ladder, its workflow's activities write the letters; the
referrals API reads them. Temporal, PostgreSQL and Kafka are the real engines; the referrals worker runs on a
compressed clock (one working day lasts 4 s).

An inspector of county 130403 registers a project (its wage account and deposit in order) and asks for the
checks of the two months before this one with no payroll: two missing-payroll warnings of the same check, one
ladder. After the first wait the warning letter (警示函) goes to the general contractor, numbered, naming both
months, readable as a record and a PDF by the county and the project's industry department (not by another
county or the police). Then the payroll of the later month comes: the monitoring workflow re-checks it, both
warnings are resolved, the ladder ends (`project_ladder.ended`, warnings_resolved) and no further letter comes."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer
from temporalio.client import Client
from temporalio.service import RPCError

from deploy.stack import Stack
from services.common.kafka import client_options
from services.common.settings import CommonSettings
from services.common.temporal import connect
from services.contracts.events import EventEnvelope, Topics
from services.contracts.legal_time import legal_date
from services.monitoring.monitoring_workflow import CHECK_NOW_SIGNAL, monitoring_workflow_id
from tests.integration.monitoring.test_feeds import payroll_xlsx, roster_csv
from tests.integration.monitoring.test_register import CONTRACTOR, project
from tests.support.agencies import agency_clients, wait_for
from tests.support.identities import sample_id_number
from tests.support.pdfs import pdf_words

WORKER = "referrals-worker"
WORKING_DAY_SECONDS = 4
PROCESSES = [
    "issuer-api",
    "monitoring-api",
    "monitoring-relay",
    "monitoring-worker",
    "referrals-api",
    "referrals-relay",
]

_FIRST_OF_THIS_MONTH = legal_date(datetime.now(UTC)).replace(day=1)
LAST_MONTH = (_FIRST_OF_THIS_MONTH - timedelta(days=1)).replace(day=1)
MONTH_BEFORE = (LAST_MONTH - timedelta(days=1)).replace(day=1)


@pytest.fixture(scope="module")
def clients(stack: Stack, agency_token: Callable[[str], str]) -> Callable[[str, str | None], httpx.Client]:
    stack.start_processes([*PROCESSES, WORKER], timeout=240)
    return agency_clients(stack, agency_token)


@pytest.fixture
def compressed_worker(stack: Stack, clients: Callable[[str, str | None], httpx.Client]) -> Iterator[None]:
    """The referrals worker with one working day lasting 4 s; restored afterwards."""
    spec = stack.spec(WORKER)
    spec.env["ANXIN_WORKING_DAY_SECONDS"] = str(WORKING_DAY_SECONDS)
    stack.stop_process(WORKER)
    stack.start_process(spec)
    stack.wait_process_ready(spec, timeout=60)
    try:
        yield
    finally:
        stack.stop_process(WORKER)
        normal = stack.spec(WORKER)
        stack.start_process(normal)
        stack.wait_process_ready(normal, timeout=60)


@pytest.fixture
def temporal(stack: Stack) -> Iterator[tuple[asyncio.AbstractEventLoop, Client]]:
    env = stack.engine_env()
    settings = CommonSettings(
        temporal_address=stack.temporal.address,
        payload_keys=env.get("ANXIN_PAYLOAD_KEYS"),
        payload_key_id=env.get("ANXIN_PAYLOAD_KEY_ID"),
    )
    loop = asyncio.new_event_loop()
    try:
        yield loop, loop.run_until_complete(connect(settings))
    finally:
        loop.close()


def _referrals_events(
    stack: Stack, project_id: str, until: Callable[[list[EventEnvelope]], bool]
) -> list[EventEnvelope]:
    """The referrals events about the project as they are on Kafka, read until `until` holds."""
    consumer = KafkaConsumer(
        Topics.REFERRALS,
        **client_options(stack.client_settings()),
        group_id=f"project-letters-test-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    seen: list[EventEnvelope] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                seen += [e for r in records if (e := EventEnvelope.from_bytes(r.value)).subject == project_id]
            if until(seen):
                return seen
        raise AssertionError(f"events of {project_id} incomplete: {[e.type for e in seen]}")
    finally:
        consumer.close()


def _month_text(month: Any) -> str:
    return f"{month.year}年{month.month}月"


def test_an_open_warning_climbs_the_ladder_until_the_late_payroll_stops_it(
    stack: Stack,
    clients: Callable[[str, str | None], httpx.Client],
    compressed_worker: None,
    temporal: tuple[asyncio.AbstractEventLoop, Client],
) -> None:
    loop, temporal_client = temporal
    monitoring = clients("monitoring-api", "inspector-130403")
    inspector = clients("referrals-api", "inspector-130403")
    housing = clients("referrals-api", "dept-housing")
    other_county, transport, police = (
        clients("referrals-api", who) for who in ("inspector-130402", "dept-transport", "police")
    )
    # A deposit at 2% of the contract value and an account opened before the start: only the payroll is missing.
    body = project(
        f"HD-{uuid.uuid4().hex[:8].upper()}-L",
        name="丛台区安薪警示项目",
        deposit={"amount": "1160000.00", "form": "bank_guarantee", "status": "lodged"},
    )
    registered = monitoring.post("/v1/projects", json=body)
    assert registered.status_code == 201, registered.text
    project_id = registered.json()["project_id"]
    handle = temporal_client.get_workflow_handle(monitoring_workflow_id(project_id))

    def monitoring_started() -> bool:
        try:
            return loop.run_until_complete(handle.describe()).status is not None
        except RPCError:
            return False

    wait_for("the project's monitoring workflow", monitoring_started, timeout=120)
    worker = sample_id_number(303)
    for month in (MONTH_BEFORE, LAST_MONTH):
        roster = roster_csv([(worker, "王五", "22")])
        imported = monitoring.post(
            f"/v1/projects/{project_id}/attendance/{month:%Y-%m}", files={"file": ("考勤.csv", roster, "text/csv")}
        )
        assert imported.status_code == 200, imported.text
        loop.run_until_complete(handle.signal(CHECK_NOW_SIGNAL, month))

    def open_payroll_warnings() -> list[dict[str, Any]] | None:
        items = monitoring.get(f"/v1/projects/{project_id}/warnings", params={"open": "true"}).json()["items"]
        found = [w for w in items if w["check"] == "payroll_received"]
        return found if len(found) == 2 and len(items) == 2 else None

    wait_for("two missing-payroll warnings", open_payroll_warnings, timeout=90)

    # After the first wait (3 working days: 12 s) the warning letter goes to the general contractor.
    def letters() -> list[dict[str, Any]]:
        answer = inspector.get(f"/v1/projects/{project_id}/letters")
        return answer.json()["items"] if answer.status_code == 200 else []  # type: ignore[no-any-return]

    first = wait_for("the warning letter", lambda: letters() or None, timeout=120)[0]
    assert (first["kind"], first["recipient"], first["addressee"]) == (
        "warning_letter",
        "general_contractor",
        CONTRACTOR,
    )
    assert first["document_number"].startswith("邯欠薪办警〔") and first["check"] == "payroll_received"
    assert (first["county"], first["department"]) == ("130403", "housing")
    record = inspector.get(f"/v1/projects/{project_id}/letters/{first['letter_id']}").json()
    rows = dict(record["facts"]["rows"])
    # One ladder for the check: the later month's warning joined the first one's.
    assert rows["预警月份"] == f"{_month_text(MONTH_BEFORE)}、{_month_text(LAST_MONTH)}", rows
    assert rows["施工总承包单位"] == body["general_contractor"]["name"]
    ladders = inspector.get(f"/v1/projects/{project_id}/ladders").json()
    assert [(x["check"], x["first_month"], x["letters"]) for x in ladders["items"]] == [
        ("payroll_received", f"{MONTH_BEFORE:%Y-%m}", 1)
    ]
    assert ladders["next_cursor"] is None and ladders["items"][0]["ended_at"] is None
    pdf = housing.get(f"/v1/projects/{project_id}/letters/{first['letter_id']}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_words(pdf.content)
    # The level is the highest of the open warnings: the later month's is yellow or, checked after the
    # earlier one, orange (the second month in a row).
    assert rows["预警等级"] in ("黄色预警", "橙色预警"), rows
    for expected in ("警示函", "丛台区安薪警示项目", body["general_contractor"]["name"], first["document_number"]):
        assert expected in text, (expected, text)
    assert rows["预警等级"] in text
    # Another county's inspector, another department and the police see no such project.
    for outsider in (other_county, transport, police):
        assert outsider.get(f"/v1/projects/{project_id}/letters").status_code == 404
        assert outsider.get(f"/v1/projects/{project_id}/letters/{first['letter_id']}/pdf").status_code == 404

    # The later month's payroll comes: both months' warnings are resolved (check_passed) and the ladder stops.
    paid = monitoring.post(
        f"/v1/projects/{project_id}/payroll/{LAST_MONTH:%Y-%m}",
        files={"file": ("工资.xlsx", payroll_xlsx([(worker, "王五", 6600)]))},
    )
    assert paid.status_code == 200 and paid.json()["outcome"] == "received", paid.text

    def ended() -> dict[str, Any] | None:
        ladder = inspector.get(f"/v1/projects/{project_id}/ladders").json()["items"][0]
        return ladder if ladder["closed_at"] else None

    ladder = wait_for("the ladder closed", ended, timeout=90)
    assert ladder["end_reason"] == "warnings_resolved", ladder
    issued = len(letters())
    assert issued == ladder["letters"] >= 1
    # The next rung would come 5 working days (20 s) after the last letter: it does not.
    time.sleep(5 * WORKING_DAY_SECONDS + 6)
    assert len(letters()) == issued

    events = _referrals_events(stack, project_id, lambda seen: any(e.type == "project_ladder.ended" for e in seen))
    letter_events = [e.payload for e in events if e.type == "project_letter.issued"]
    assert letter_events[0]["letter_id"] == first["letter_id"] and len(letter_events) == issued
    assert (letter_events[0]["kind"], letter_events[0]["recipient"]) == ("warning_letter", "general_contractor")
    end = next(e.payload for e in events if e.type == "project_ladder.ended")
    assert (end["reason"], end["letters"], end["check"], end["department"]) == (
        "warnings_resolved",
        issued,
        "payroll_received",
        "housing",
    )
    # Nothing about a person: the worker's name is in no event.
    assert all("王五" not in e.model_dump_json() for e in events)
