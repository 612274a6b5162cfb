"""The monthly checks on the real stack: the monitoring API, relay and worker, Temporal, PostgreSQL, Kafka.

A county inspector registers a project begun months ago (its deposit below 2% of the contract value, Hebei's share); the
worker starts its monitoring workflow from the `project.registered` event. Last month's roster is imported
without a payroll and the month is checked at once (`check_now`, the hook an inspector or a test sends): a
missing-payroll warning and a deposit warning appear in `GET /v1/warnings` and their events on Kafka, with
counts and amounts and no worker. The payroll is imported: the worker signals the workflow, the month is
checked again and the payroll warning is resolved. The inspector resolves the deposit warning with a note;
another county's inspector sees neither. A project in the register before the worker existed gets its
workflow from the worker's start-if-missing sweep."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb
from temporalio.client import Client
from temporalio.service import RPCError

from deploy.stack import Stack
from services.common.settings import CommonSettings
from services.common.temporal import connect
from services.contracts.legal_time import legal_date
from services.contracts.monitoring_events import MonitoringEvents, ProjectFacts
from services.monitoring.monitoring_workflow import CHECK_NOW_SIGNAL, monitoring_workflow_id
from tests.integration.monitoring.test_feeds import kafka_values, payroll_xlsx, roster_csv
from tests.integration.monitoring.test_register import project
from tests.support.agencies import agency_clients
from tests.support.identities import sample_id_number

# Last month as the service counts it (China Standard Time): begun, its check day not necessarily come.
FIRST_OF_LAST_MONTH = (legal_date(datetime.now(UTC)).replace(day=1) - timedelta(days=1)).replace(day=1)
MONTH = FIRST_OF_LAST_MONTH.strftime("%Y-%m")


@pytest.fixture(scope="module")
def client(stack: Stack, agency_token: Callable[[str], str]) -> Callable[[str], httpx.Client]:
    stack.start_processes(["issuer-api", "monitoring-api", "monitoring-relay", "monitoring-worker"], timeout=240)
    make = agency_clients(stack, agency_token)
    return lambda who: make("monitoring-api", who)


@pytest.fixture(scope="module")
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


def _poll(read: Callable[[], Any], until: Callable[[Any], bool], timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if until(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def test_a_missing_payroll_raises_a_warning_that_the_late_payroll_resolves(
    stack: Stack, client: Callable[[str], httpx.Client], temporal: tuple[asyncio.AbstractEventLoop, Client]
) -> None:
    loop, temporal_client = temporal
    inspector, other_county = client("inspector-130403"), client("inspector-130402")
    registered = inspector.post(
        "/v1/projects", json=project(f"HD-{uuid.uuid4().hex[:8].upper()}-W1", start_date="2026-03-01")
    )
    assert registered.status_code == 201, registered.text
    project_id = registered.json()["project_id"]
    handle = temporal_client.get_workflow_handle(monitoring_workflow_id(project_id))

    def running() -> bool:
        try:
            return loop.run_until_complete(handle.describe()).status is not None
        except RPCError:  # not started yet
            return False

    assert _poll(running, bool, timeout=120), "the worker did not start the project's monitoring workflow"

    zhang, li = sample_id_number(101), sample_id_number(202)
    roster = roster_csv([(zhang, "张三丰", "20"), (li, "李四", "10")])
    imported = inspector.post(
        f"/v1/projects/{project_id}/attendance/{MONTH}", files={"file": ("考勤.csv", roster, "text/csv")}
    )
    assert imported.status_code == 200 and imported.json()["outcome"] == "received", imported.text
    loop.run_until_complete(handle.signal(CHECK_NOW_SIGNAL, FIRST_OF_LAST_MONTH))

    def open_warnings() -> list[dict[str, Any]]:
        answer = inspector.get("/v1/warnings", params={"project": project_id, "open": "true"})
        assert answer.status_code == 200, answer.text
        return answer.json()["items"]  # type: ignore[no-any-return]

    warnings = _poll(open_warnings, lambda items: len(items) == 2)
    by_check = {w["check"]: w for w in warnings}
    assert set(by_check) == {"payroll_received", "deposit"}, warnings
    payroll = by_check["payroll_received"]
    assert (payroll["month"], payroll["level"], payroll["county"]) == (MONTH, "yellow", "130403")
    assert payroll["facts"] == {"roster_received": True, "workers_on_roster": 2, "days_worked": "30.0"}
    assert by_check["deposit"]["facts"] == {
        "status": "lodged",
        "amount": "300000.00",
        "required": "1160000.00",
        "ratio": "0.02",
    }
    # The project's own list, and another county's inspector who sees nothing of it.
    mine = inspector.get(f"/v1/projects/{project_id}/warnings").json()
    assert {w["warning_id"] for w in mine["items"]} == set(w["warning_id"] for w in warnings)
    assert mine["next_cursor"] is None
    assert other_county.get("/v1/warnings", params={"project": project_id}).json()["items"] == []
    assert other_county.get(f"/v1/projects/{project_id}/warnings").status_code == 404
    # The worker's gauge counts them (a scrape reads a measure at most 10 s old).
    metrics = _poll(
        lambda: httpx.get(f"{stack.processes['monitoring-worker'].url}/metrics").text,
        lambda text: 'anxin_warnings_open{county="130403",level="yellow"}' in text,
        timeout=30,
    )
    assert 'anxin_warnings_open{county="130403",level="yellow"}' in metrics
    first_page = inspector.get("/v1/warnings", params={"project": project_id, "limit": 1}).json()
    assert len(first_page["items"]) == 1 and first_page["next_cursor"]
    second_page = inspector.get(
        "/v1/warnings", params={"project": project_id, "limit": 1, "cursor": first_page["next_cursor"]}
    ).json()
    assert {first_page["items"][0]["warning_id"], second_page["items"][0]["warning_id"]} == set(
        by_check[c]["warning_id"] for c in by_check
    )

    # The payroll comes late: its import re-checks the month, and the payroll warning is resolved.
    paid = inspector.post(
        f"/v1/projects/{project_id}/payroll/{MONTH}",
        files={"file": ("工资.xlsx", payroll_xlsx([(zhang, "张三丰", 6000), (li, "李四", 3000)]))},
    )
    assert paid.status_code == 200 and paid.json()["outcome"] == "received", paid.text
    after = _poll(open_warnings, lambda items: len(items) == 1)
    assert [w["check"] for w in after] == ["deposit"]
    resolved = inspector.get("/v1/warnings", params={"project": project_id, "open": "false"}).json()["items"]
    assert [(w["check"], w["resolution"], w["passed_month"]) for w in resolved] == [
        ("payroll_received", "check_passed", MONTH)
    ]

    # The deposit's warning is resolved by the county's inspector, with a note; once only; not by another county.
    deposit_id = by_check["deposit"]["warning_id"]
    refused = other_county.post(f"/v1/warnings/{deposit_id}/resolution", json={"note": "已补足"})
    assert refused.status_code == 404
    city = client("city-office")
    assert [
        w["warning_id"]
        for w in city.get("/v1/warnings", params={"project": project_id, "level": "yellow", "open": "true"}).json()[
            "items"
        ]
    ] == [deposit_id]
    assert city.post(f"/v1/warnings/{deposit_id}/resolution", json={"note": "市局核实"}).status_code == 403
    assert inspector.get("/v1/warnings", params={"level": "purple"}).status_code == 422
    done = inspector.post(f"/v1/warnings/{deposit_id}/resolution", json={"note": "总包单位已补足保证金，已核实"})
    assert done.status_code == 200, done.text
    assert (done.json()["resolution"], done.json()["open"]) == ("inspector", False)
    assert inspector.post(f"/v1/warnings/{deposit_id}/resolution", json={"note": "再次"}).status_code == 409
    assert open_warnings() == []

    events, raw = kafka_values(
        stack, project_id, lambda seen: sum(e.type == MonitoringEvents.WARNING_RESOLVED for e in seen) >= 2
    )
    raised = [e.payload for e in events if e.type == MonitoringEvents.WARNING_RAISED]
    assert sorted(p["check"] for p in raised) == ["deposit", "payroll_received"]
    assert sorted(
        (e.payload["check"], e.payload["resolution"]) for e in events if e.type == MonitoringEvents.WARNING_RESOLVED
    ) == [("deposit", "inspector"), ("payroll_received", "check_passed")]
    # Counts and amounts only: no ID number, name or keyed reference of a worker.
    for value in raw:
        assert zhang.encode() not in value and li.encode() not in value
        assert b"person_" not in value and "张".encode() not in value


def test_a_project_registered_before_the_worker_existed_gets_its_workflow_from_the_sweep(
    stack: Stack, client: Callable[[str], httpx.Client], temporal: tuple[asyncio.AbstractEventLoop, Client]
) -> None:
    """A project in the register without an event the worker could read (registered before the worker
    existed, or past the topic's retention) is started by the sweep the worker runs when it starts."""
    loop, temporal_client = temporal
    project_id = f"PRJ-{uuid.uuid4().hex[:16].upper()}"
    facts = ProjectFacts.model_validate(
        {**project(f"HD-{uuid.uuid4().hex[:8].upper()}-S1"), "project_id": project_id, "version": 1}
    )
    with psycopg.connect(stack.postgres.service_url("monitoring"), options="-c search_path=monitoring") as conn:
        conn.execute(
            "INSERT INTO projects (project_id, code, county, department, name, facts, has_wage_account, has_deposit, "
            "version, registered_by) VALUES (%s, %s, %s, %s, %s, %s, true, true, 1, 'before-the-worker')",
            (
                project_id,
                facts.code,
                facts.county,
                facts.department,
                facts.name,
                Jsonb(facts.model_dump(mode="json", exclude={"project_id", "version"})),
            ),
        )
    handle = temporal_client.get_workflow_handle(monitoring_workflow_id(project_id))

    def started() -> bool:
        try:
            loop.run_until_complete(handle.describe())
        except RPCError:
            return False
        return True

    assert not started()
    stack.restart_process("monitoring-worker", timeout=240)
    assert _poll(started, bool, timeout=60), "the sweep did not start the project's monitoring workflow"
    # A project seen by the sweep is a project like any other: its own warnings list answers.
    assert client("inspector-130403").get(f"/v1/projects/{project_id}/warnings").status_code == 200
