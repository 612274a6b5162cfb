"""The monthly feeds on the real stack: the monitoring API and its relay, PostgreSQL and Kafka.

A county inspector registers a project and imports last month's attendance roster (CSV with a BOM) and
payroll (XLSX); the month's summary counts who was not paid and whose pay falls short of their days; the
same payroll again changes nothing; a corrected one replaces the month's and says what changed; a file with a
bad row stores nothing; another county's inspector finds no such project. The events are on Kafka with
counts and totals, and no ID number, name or keyed reference is on Kafka or in the service's logs."""

from __future__ import annotations

import csv
import io
import random
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import httpx
import psycopg
import pytest
from kafka import KafkaConsumer
from openpyxl import Workbook

from deploy.stack import Stack
from services.common.kafka import client_options
from services.contracts.events import EventEnvelope, Topics
from services.contracts.monitoring_events import AttendanceReceived, MonitoringEvents, PayrollReceived
from tests.integration.monitoring.test_register import project
from tests.support.agencies import agency_clients
from tests.support.identities import sample_id_number

# Last month: a feed is for a month begun, and the service's today is the machine's.
MONTH = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


@pytest.fixture(scope="module")
def client(stack: Stack, agency_token: Callable[[str], str]) -> Callable[[str], httpx.Client]:
    stack.start_processes(["issuer-api", "monitoring-api", "monitoring-relay"], timeout=180)
    make = agency_clients(stack, agency_token)
    return lambda who: make("monitoring-api", who)


def roster_csv(rows: list[tuple[str, str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["身份证号码", "姓名", "出勤天数"])
    writer.writerows(rows)
    return b"\xef\xbb\xbf" + out.getvalue().encode()  # with the BOM a spreadsheet program writes


def payroll_xlsx(rows: list[tuple[str, str, float]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["身份证号码", "姓名", "实发金额"])
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def kafka_values(
    stack: Stack, subject: str, until: Callable[[list[EventEnvelope]], bool], timeout: float = 60
) -> tuple[list[EventEnvelope], list[bytes]]:
    """The project's events on the monitoring topic, and the raw message values they came in."""
    consumer = KafkaConsumer(
        Topics.MONITORING,
        **client_options(stack.client_settings()),
        group_id=f"feeds-test-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    seen: list[EventEnvelope] = []
    raw: list[bytes] = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    envelope = EventEnvelope.from_bytes(record.value)
                    if envelope.subject == subject:
                        seen.append(envelope)
                        raw.append(record.value)
            if until(seen):
                return seen, raw
        raise AssertionError(f"events incomplete: {[e.type for e in seen]}")
    finally:
        consumer.close()


def test_a_months_feeds_are_imported_once_summarised_replaced_and_announced_without_identities(
    stack: Stack, client: Callable[[str], httpx.Client]
) -> None:
    inspector, other_county, city = client("inspector-130403"), client("inspector-130402"), client("city-office")
    run = uuid.uuid4().hex[:8].upper()
    registered = inspector.post("/v1/projects", json=project(f"HD-{run}-F1"))
    assert registered.status_code == 201, registered.text
    project_id = registered.json()["project_id"]
    seed = random.randrange(10**6)
    zhang, li, zhao, wang, sun = (sample_id_number(seed + n * 7919) for n in range(5))
    names = ["张三丰", "李四", "赵六", "王五", "孙七"]

    roster = roster_csv([(zhang, "张三丰", "20"), (li, "李四", "20"), (zhao, "赵六", "10"), (wang, "王五", "15")])
    answer = inspector.post(
        f"/v1/projects/{project_id}/attendance/{MONTH}", files={"file": ("考勤.csv", roster, "text/csv")}
    )
    assert answer.status_code == 200, answer.text
    attendance = answer.json()
    assert (attendance["outcome"], attendance["version"], attendance["workers"]) == ("received", 1, 4)
    assert attendance["counts"] == {"valid": 4, "invalid": 0} and attendance["days_worked"] == "65.0"

    # Zhang and Zhao are paid 300 a day, Li 100 (short), Wang not at all; Sun is paid without being on the roster.
    payroll = payroll_xlsx([(zhang, "张三丰", 6000), (li, "李四", 2000), (zhao, "赵六", 3000), (sun, "孙七", 2500)])
    first = inspector.post(f"/v1/projects/{project_id}/payroll/{MONTH}", files={"file": ("工资.xlsx", payroll)})
    assert first.status_code == 200, first.text
    assert (first.json()["outcome"], first.json()["version"], first.json()["total_paid"]) == ("received", 1, "13500.00")

    summary = inspector.get(f"/v1/projects/{project_id}/months/{MONTH}").json()
    assert {
        k: summary[k]
        for k in (
            "roster_received",
            "payroll_received",
            "workers_on_roster",
            "workers_paid",
            "total_paid",
            "workers_on_roster_not_paid",
            "workers_paid_not_on_roster",
            "pay_mismatches",
            "day_rate",
        )
    } == {
        "roster_received": True,
        "payroll_received": True,
        "workers_on_roster": 4,
        "workers_paid": 4,
        "total_paid": "13500.00",
        "workers_on_roster_not_paid": 1,
        "workers_paid_not_on_roster": 1,
        "pay_mismatches": 1,
        "day_rate": "300.00",
    }
    assert [w["name"] for w in summary["on_roster_not_paid"]] == ["王*"]
    assert [(m["name"], m["paid"], m["expected_at_least"]) for m in summary["mismatches"]] == [
        ("李*", "2000.00", "4200.00")
    ]

    again = inspector.post(f"/v1/projects/{project_id}/payroll/{MONTH}", files={"file": ("工资.xlsx", payroll)})
    assert (again.json()["outcome"], again.json()["version"]) == ("unchanged", 1)
    assert inspector.get(f"/v1/projects/{project_id}/months/{MONTH}").json() == summary

    corrected = payroll_xlsx([(zhang, "张三丰", 6000), (li, "李四", 6000), (zhao, "赵六", 3000), (wang, "王五", 4500)])
    replaced = inspector.post(f"/v1/projects/{project_id}/payroll/{MONTH}", files={"file": ("工资.xlsx", corrected)})
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["outcome"], replaced.json()["version"], replaced.json()["replaced"]) == (
        "replaced",
        2,
        {"added": 1, "removed": 1, "changed": 1},
    )
    after = inspector.get(f"/v1/projects/{project_id}/months/{MONTH}").json()
    assert (
        after["total_paid"],
        after["workers_on_roster_not_paid"],
        after["workers_paid_not_on_roster"],
        after["pay_mismatches"],
    ) == ("19500.00", 0, 0, 0)

    # A file with a bad row stores nothing: the month stays as the corrected file made it.
    bad = payroll_xlsx([(zhang, "张三丰", 6000), (li[:-1] + ("0" if li[-1] != "0" else "1"), "李四", -5)])
    rejected = inspector.post(f"/v1/projects/{project_id}/payroll/{MONTH}", files={"file": ("工资.xlsx", bad)}).json()
    assert rejected["outcome"] == "rejected" and rejected["counts"] == {"valid": 1, "invalid": 1}
    assert {(e["field"], e["code"]) for e in rejected["results"][1]["errors"]} == {
        ("id_number", "check_digit"),
        ("amount", "amount"),
    }
    assert inspector.get(f"/v1/projects/{project_id}/months/{MONTH}").json() == after

    # Another county's inspector: as if the project did not exist; the city office sees the month.
    assert other_county.get(f"/v1/projects/{project_id}/months/{MONTH}").status_code == 404
    assert (
        other_county.post(
            f"/v1/projects/{project_id}/payroll/{MONTH}", files={"file": ("工资.xlsx", corrected)}
        ).status_code
        == 404
    )
    assert city.get(f"/v1/projects/{project_id}/months/{MONTH}").json() == after
    assert inspector.get(f"/v1/projects/{project_id}/months/2019-12").status_code == 422

    audit = city.get("/v1/audit", params={"subject": project_id}).json()["items"]
    assert [a["action"] for a in reversed(audit)] == [
        "project.registered",
        "attendance.received",
        "payroll.received",
        "payroll.unchanged",
        "payroll.received",
        "payroll.rejected",
    ]

    def complete(seen: list[EventEnvelope]) -> bool:
        return sum(e.type != MonitoringEvents.PROJECT_REGISTERED for e in seen) >= 3

    events, raw = kafka_values(stack, project_id, complete)
    time.sleep(2)  # anything more (an event for the unchanged or the rejected file) would have been relayed by now
    events, raw = kafka_values(stack, project_id, complete)
    feeds = [e.parse() for e in events if e.type != MonitoringEvents.PROJECT_REGISTERED]
    assert [(type(p).__name__, p.version, p.replaced, p.workers) for p in feeds] == [  # type: ignore[attr-defined]
        ("AttendanceReceived", 1, False, 4),
        ("PayrollReceived", 1, False, 4),
        ("PayrollReceived", 2, True, 4),
    ]
    assert isinstance(feeds[0], AttendanceReceived) and feeds[0].days_worked == Decimal("65")
    assert isinstance(feeds[2], PayrollReceived) and feeds[2].total_paid == Decimal("19500.00")
    assert feeds[2].month == MONTH and feeds[2].county == "130403"
    refs = [w["person_ref"] for w in first.json()["results"]]
    identities = [zhang, li, zhao, wang, sun, *(n[:17] for n in (zhang, li, zhao, wang, sun)), *names, *refs]
    for value in raw:
        text = value.decode()
        assert not [i for i in identities if i in text], text

    # Nor in the service's tables (its workers are keyed references and masked names), logs or traces.
    with psycopg.connect(stack.postgres.service_url("monitoring")) as conn:
        stored = [
            row[0]
            for table in ("feeds", "feed_workers", "audit_log", "outbox")
            for row in conn.execute(f"SELECT t::text FROM monitoring.{table} t")
        ]
    # Zhang, Li and Zhao are on both the month's lists; Sun went with the file the corrected one replaced.
    assert [sum(ref in text for text in stored) for ref in refs] == [2, 2, 2, 0]
    assert not [i for i in identities[:10] + names if any(i in text for text in stored)]
    files = [p for folder in ("logs", "traces") for p in (stack.data_dir / folder).glob("monitoring*") if p.is_file()]
    assert files
    for path in files:
        text = path.read_text(errors="replace")
        assert not [i for i in (zhang, li, zhao, wang, sun) if i in text], path
