"""Paying workers from the deposit or the emergency fund on the real stack: the monitoring API, relay and worker,
Temporal, PostgreSQL, Kafka.

A project is registered with a deposit of ¥300,000. A workflow asks for a payout the way a case workflow will
(the `monitoring.request_payout` activity on the monitoring worker's queue; tests/integration/monitoring/
payout_caller.py): asked again with its key it answers the same payout; a project of another county is refused
for good. The city office approves it through the API (a Temporal Update; a county inspector may not), the
register's deposit turns `drawn`; a second payout the deposit's remainder does not cover is refused at approval
with the figures, then refused with a reason. The county records the bank's payout: `payout.paid` reaches Kafka
for the case, the top-up is demanded, the balances show it; the top-up recorded settles the payout and the
register's deposit is `lodged` again. An advance of a county's emergency fund: the reserve set by the city
office, approved, paid, recovered in two parts until repaid, the reserve never below what is owed back. Another
advance, recovered in part, the rest written off by the city office: the payout ends `written_off`, its workflow
completes, the fund's loss leaves what is owed back without returning to what it can advance, and the event says
the basis but not the city office's reason."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

from deploy.stack import Stack
from services.common.settings import CommonSettings
from services.common.temporal import connect
from services.contracts.guarantee_funds import (
    PAYOUT_REQUEST_REFUSED,
    GuaranteeFundEvents,
    PayoutAccepted,
    PayoutRequest,
    PayoutSource,
)
from services.contracts.legal_time import legal_date
from services.contracts.monitoring_events import MonitoringEvents
from services.monitoring.payout_messages import PayoutResult
from tests.integration.monitoring.payout_caller import PayoutCaller
from tests.integration.monitoring.test_feeds import kafka_values
from tests.integration.monitoring.test_register import project
from tests.support.agencies import agency_clients, wait_for

TODAY = legal_date(datetime.now(UTC)).isoformat()


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


def ask(temporal: tuple[asyncio.AbstractEventLoop, Client], request: PayoutRequest) -> PayoutAccepted:
    """Ask for a payout from a workflow, as a case workflow does."""
    loop, temporal_client = temporal

    async def run() -> PayoutAccepted:
        queue = f"payout-caller-{uuid.uuid4().hex[:8]}"
        async with Worker(temporal_client, task_queue=queue, workflows=[PayoutCaller]):
            return await temporal_client.execute_workflow(
                PayoutCaller.run, request, id=f"payout-caller-{uuid.uuid4().hex[:8]}", task_queue=queue
            )

    return loop.run_until_complete(run())


def request(case_id: str, n: int, **fields: Any) -> PayoutRequest:
    return PayoutRequest.model_validate(
        {
            "case_id": case_id,
            "county": "130403",
            "source": PayoutSource.DEPOSIT,
            "workers_paid": 8,
            "requested_by": "inspector-130403",
            "idempotency_key": f"{case_id}:payout:{n}",
            **fields,
        }
    )


def fund_of(answer: dict[str, Any], county: str) -> dict[str, Any]:
    return next(c for c in answer["counties"] if c["county"] == county)  # type: ignore[no-any-return]


def test_a_deposit_is_drawn_on_the_city_office_s_approval_paid_out_and_topped_up(
    stack: Stack, client: Callable[[str], httpx.Client], temporal: tuple[asyncio.AbstractEventLoop, Client]
) -> None:
    inspector, city, other = client("inspector-130403"), client("city-office"), client("inspector-130402")
    registered = inspector.post("/v1/projects", json=project(f"HD-{uuid.uuid4().hex[:8].upper()}-P1"))
    assert registered.status_code == 201, registered.text
    project_id = registered.json()["project_id"]
    case_id = f"C-IT-{uuid.uuid4().hex[:10].upper()}"
    before = fund_of(city.get("/v1/funds").json(), "130403")["deposits"]

    first = request(case_id, 1, project_id=project_id, amount="100000.00")
    accepted = ask(temporal, first)
    assert (accepted.created, accepted.sequence, accepted.workflow_id) == (True, 1, f"payout:{case_id}:1")
    again = ask(temporal, first)
    assert (again.created, again.payout_id) == (False, accepted.payout_id)
    # The same key with another request, and a project of another county, are refused for good.
    for refused_request, reason in (
        (first.model_copy(update={"amount": Decimal("1.00")}), "idempotency key"),
        (request(case_id, 9, project_id=project_id, amount="1.00", county="130402"), "county 130403"),
    ):
        with pytest.raises(WorkflowFailureError) as failed:
            ask(temporal, refused_request)
        assert isinstance(failed.value.cause, ActivityError)
        cause = failed.value.cause.cause
        assert isinstance(cause, ApplicationError) and cause.type == PAYOUT_REQUEST_REFUSED, cause
        assert reason in cause.message
    payout_id = accepted.payout_id

    listed = inspector.get("/v1/payouts", params={"case": case_id}).json()
    assert [(p["payout_id"], p["stage"], p["amount"]) for p in listed["items"]] == [
        (payout_id, "requested", "100000.00")
    ]
    assert other.get("/v1/payouts", params={"case": case_id}).json()["items"] == []
    assert other.get(f"/v1/payouts/{payout_id}").status_code == 404

    # The city office alone decides; its approval draws the deposit, and the register shows it drawn.
    assert inspector.post(f"/v1/payouts/{payout_id}/decision", json={"decision": "approve"}).status_code == 403
    approved = city.post(f"/v1/payouts/{payout_id}/decision", json={"decision": "approve"})
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["stage"], body["approved_on"], body["outstanding"]) == ("approved", TODAY, "100000.00")
    assert body["pay_by"] > TODAY and body["movements"][0]["kind"] == "deposit_drawn"
    assert inspector.get(f"/v1/projects/{project_id}").json()["deposit"]["status"] == "drawn"
    assert city.post(f"/v1/payouts/{payout_id}/decision", json={"decision": "approve"}).status_code == 409

    # A second payout the deposit's remainder (¥200,000) does not cover: refused at approval, then refused.
    second = ask(temporal, request(case_id, 2, project_id=project_id, amount="250000.00"))
    assert second.sequence == 2
    uncovered = city.post(f"/v1/payouts/{second.payout_id}/decision", json={"decision": "approve"})
    assert uncovered.status_code == 409, uncovered.text
    assert "200000.00 yuan left to draw, less than the 250000.00 asked" in uncovered.json()["detail"]
    assert city.post(f"/v1/payouts/{second.payout_id}/decision", json={"decision": "refuse"}).status_code == 422
    no = city.post(
        f"/v1/payouts/{second.payout_id}/decision",
        json={"decision": "refuse", "reason": "保证金余额不足，改由应急周转金垫付"},
    )
    assert no.status_code == 200, no.text
    assert (no.json()["stage"], no.json()["refusal_reason"]) == ("refused", "保证金余额不足，改由应急周转金垫付")

    # The county records the bank's payout: the top-up is demanded of the general contractor.
    assert inspector.post(f"/v1/payouts/{payout_id}/payment", json={"paid_on": "2999-01-01"}).status_code == 422
    paid = inspector.post(
        f"/v1/payouts/{payout_id}/payment", json={"paid_on": TODAY}, headers={"Idempotency-Key": "p1"}
    )
    assert paid.status_code == 200, paid.text
    assert (paid.json()["stage"], paid.json()["paid_on"]) == ("paid", TODAY)
    demanded = wait_for(
        "the top-up demanded", lambda: inspector.get(f"/v1/payouts/{payout_id}").json()["top_up_due"], timeout=60
    )
    assert demanded > TODAY
    funds = city.get("/v1/funds").json()
    deposits = fund_of(funds, "130403")["deposits"]
    assert Decimal(deposits["drawn"]) - Decimal(before["drawn"]) == Decimal("100000.00")
    assert Decimal(deposits["outstanding_top_ups"]) - Decimal(before["outstanding_top_ups"]) == Decimal("100000.00")
    assert deposits["payouts_awaiting_top_up"] - before["payouts_awaiting_top_up"] == 1
    assert len(funds["counties"]) == 18 and funds["totals"]["deposits"]["drawn"] >= deposits["drawn"]
    assert [c["county"] for c in other.get("/v1/funds").json()["counties"]] == ["130402"]

    def gauges() -> str | None:
        text = httpx.get(f"{stack.processes['monitoring-worker'].url}/metrics").text
        return text if 'anxin_payouts_outstanding_yuan{county="130403",source="deposit"}' in text else None

    # A scrape reads a measure at most 10 s old.
    assert 'anxin_payouts_outstanding{county="130403",source="deposit"}' in wait_for("the gauges", gauges, timeout=30)

    # Topped up in full: the payout is settled, the register's deposit lodged again, the workflow done.
    topped = inspector.post(f"/v1/payouts/{payout_id}/top-ups", json={"topped_up_on": TODAY})
    assert topped.status_code == 200, topped.text
    assert (topped.json()["stage"], topped.json()["outstanding"]) == ("settled", "0.00")
    assert [m["kind"] for m in topped.json()["movements"]] == ["deposit_drawn", "deposit_topped_up"]
    assert inspector.get(f"/v1/projects/{project_id}").json()["deposit"]["status"] == "lodged"
    loop, temporal_client = temporal
    result = loop.run_until_complete(
        temporal_client.get_workflow_handle(accepted.workflow_id, result_type=PayoutResult).result()
    )
    assert result.stage.value == "settled"
    assert inspector.post(f"/v1/payouts/{payout_id}/top-ups", json={"topped_up_on": TODAY}).status_code == 409

    events, raw = kafka_values(
        stack, case_id, lambda seen: any(e.type == GuaranteeFundEvents.TOPPED_UP for e in seen), timeout=90
    )
    types = [e.type for e in events]
    assert types == [
        GuaranteeFundEvents.PAYOUT_REQUESTED,
        GuaranteeFundEvents.PAYOUT_APPROVED,
        GuaranteeFundEvents.PAYOUT_REQUESTED,
        GuaranteeFundEvents.PAYOUT_REFUSED,
        GuaranteeFundEvents.PAYOUT_PAID,
        GuaranteeFundEvents.TOP_UP_DEMANDED,
        GuaranteeFundEvents.TOPPED_UP,
    ], types
    paid_event = events[types.index(GuaranteeFundEvents.PAYOUT_PAID)].payload
    assert {k: paid_event[k] for k in ("case_id", "source", "amount", "workers_paid", "paid_on")} == {
        "case_id": case_id,
        "source": "deposit",
        "amount": "100000.00",
        "workers_paid": 8,
        "paid_on": TODAY,
    }
    demand = events[types.index(GuaranteeFundEvents.TOP_UP_DEMANDED)].payload
    assert (demand["amount"], demand["due_date"], demand["general_contractor"]["name"]) == (
        "100000.00",
        demanded,
        "河北某建设集团有限公司",
    )
    # The refusal's reason is the city office's free text: kept by the service, never on the wire.
    assert all("保证金余额不足".encode() not in value for value in raw)
    register_events, _ = kafka_values(
        stack, project_id, lambda seen: sum(e.type == MonitoringEvents.PROJECT_UPDATED for e in seen) >= 2
    )
    assert [
        (e.payload["changed"], e.payload["source"], e.payload["project"]["deposit"]["status"])
        for e in register_events
        if e.type == MonitoringEvents.PROJECT_UPDATED
    ] == [(["deposit"], "payout", "drawn"), (["deposit"], "payout", "lodged")]


def test_an_advance_of_the_emergency_fund_is_recovered_until_repaid(
    stack: Stack, client: Callable[[str], httpx.Client], temporal: tuple[asyncio.AbstractEventLoop, Client]
) -> None:
    county = "130406"
    inspector, city = client("inspector-130403"), client("city-office")
    assert inspector.put(f"/v1/funds/{county}/reserve", json={"reserve": "500000.00"}).status_code == 403
    assert city.put("/v1/funds/999999/reserve", json={"reserve": "500000.00"}).status_code == 404
    start = fund_of(city.get("/v1/funds").json(), county)["emergency_fund"]
    reserve = Decimal(start["outstanding"]) + Decimal("500000.00")
    reserved = city.put(f"/v1/funds/{county}/reserve", json={"reserve": str(reserve)})
    assert reserved.status_code == 200, reserved.text
    assert reserved.json()["emergency_fund"]["available"] == "500000.00"

    case_id = f"C-IT-{uuid.uuid4().hex[:10].upper()}"
    accepted = ask(temporal, request(case_id, 1, county=county, source=PayoutSource.EMERGENCY_FUND, amount="200000.00"))
    payout_id = accepted.payout_id
    approved = city.post(f"/v1/payouts/{payout_id}/decision", json={"decision": "approve"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["movements"][0]["kind"] == "fund_advanced"
    fund = fund_of(city.get("/v1/funds").json(), county)["emergency_fund"]
    assert (fund["available"], Decimal(fund["outstanding"]) - Decimal(start["outstanding"])) == (
        "300000.00",
        Decimal("200000.00"),
    )
    # The reserve cannot go below what the employers owe back.
    lowered = city.put(f"/v1/funds/{county}/reserve", json={"reserve": "100000.00"})
    assert lowered.status_code == 409 and "advances still owed back" in lowered.json()["detail"]

    assert city.post(f"/v1/payouts/{payout_id}/payment", json={"paid_on": TODAY}).status_code == 200
    once = city.post(f"/v1/payouts/{payout_id}/recoveries", json={"recovered_on": TODAY, "amount": "50000.00"})
    assert once.status_code == 200, once.text
    assert (once.json()["stage"], once.json()["outstanding"]) == ("paid", "150000.00")
    too_much = city.post(f"/v1/payouts/{payout_id}/recoveries", json={"recovered_on": TODAY, "amount": "150000.01"})
    assert too_much.status_code == 409 and "150000.00 yuan outstanding" in too_much.json()["detail"]
    top_up = city.post(f"/v1/payouts/{payout_id}/top-ups", json={"topped_up_on": TODAY})
    assert top_up.status_code == 409 and "not a payout from the deposit" in top_up.json()["detail"]
    repaid = city.post(f"/v1/payouts/{payout_id}/recoveries", json={"recovered_on": TODAY, "amount": "150000.00"})
    assert repaid.status_code == 200, repaid.text
    assert (repaid.json()["stage"], repaid.json()["settled"]) == ("settled", "200000.00")
    fund = fund_of(city.get("/v1/funds").json(), county)["emergency_fund"]
    assert (fund["available"], fund["outstanding"]) == ("500000.00", start["outstanding"])

    events, _ = kafka_values(
        stack,
        case_id,
        lambda seen: sum(e.type == GuaranteeFundEvents.RECOVERY_RECORDED for e in seen) >= 2,
        timeout=90,
    )
    recoveries = [e.payload for e in events if e.type == GuaranteeFundEvents.RECOVERY_RECORDED]
    assert [(r["amount"], r["outstanding"], r["repaid"]) for r in recoveries] == [
        ("50000.00", "150000.00", False),
        ("150000.00", "0.00", True),
    ]
    reserve_events, _ = kafka_values(
        stack, f"fund:{county}", lambda seen: any(e.type == GuaranteeFundEvents.RESERVE_SET for e in seen)
    )
    assert reserve_events[-1].payload["reserve"] == str(reserve.quantize(Decimal("0.01")))


def test_what_is_left_of_an_advance_is_written_off_by_the_city_office(
    stack: Stack, client: Callable[[str], httpx.Client], temporal: tuple[asyncio.AbstractEventLoop, Client]
) -> None:
    county = "130407"
    inspector, city = client("inspector-130403"), client("city-office")
    start = fund_of(city.get("/v1/funds").json(), county)["emergency_fund"]
    not_returned = Decimal(start["outstanding"]) + Decimal(start["written_off"])
    reserve = not_returned + Decimal("500000.00")
    assert city.put(f"/v1/funds/{county}/reserve", json={"reserve": str(reserve)}).status_code == 200

    case_id = f"C-IT-{uuid.uuid4().hex[:10].upper()}"
    accepted = ask(temporal, request(case_id, 1, county=county, source=PayoutSource.EMERGENCY_FUND, amount="200000.00"))
    payout_id, write_off = accepted.payout_id, f"/v1/payouts/{accepted.payout_id}/write-off"
    body = {"basis": "enforcement_terminated", "reason": "法院裁定终结本次执行程序，用人单位无可供执行财产"}
    approved = city.post(f"/v1/payouts/{payout_id}/decision", json={"decision": "approve"})
    assert approved.status_code == 200, approved.text
    early = city.post(write_off, json=body)
    assert early.status_code == 409 and "has not paid the advance out" in early.json()["detail"], early.text
    assert city.post(f"/v1/payouts/{payout_id}/payment", json={"paid_on": TODAY}).status_code == 200
    part = {"recovered_on": TODAY, "amount": "50000.00"}
    assert city.post(f"/v1/payouts/{payout_id}/recoveries", json=part).status_code == 200
    fund = fund_of(city.get("/v1/funds").json(), county)["emergency_fund"]
    assert fund["available"] == "350000.00"

    # The city office alone, with a known basis and a reason.
    assert inspector.post(write_off, json=body).status_code == 403
    for bad in ({**body, "basis": "employer_vanished"}, {"basis": body["basis"]}, {**body, "reason": "   "}):
        answer = city.post(write_off, json=bad)
        assert answer.status_code == 422 and answer.headers["content-type"].startswith("application/problem+json")
    written = city.post(write_off, json=body, headers={"Idempotency-Key": f"{case_id}:write-off"})
    assert written.status_code == 200, written.text
    payout = written.json()
    assert (payout["stage"], payout["outstanding"], payout["settled"], payout["written_off"]) == (
        "written_off",
        "0.00",
        "50000.00",
        "150000.00",
    )
    assert (payout["write_off_basis"], payout["write_off_reason"]) == (body["basis"], body["reason"])
    assert [(m["kind"], m["amount"]) for m in payout["movements"]] == [
        ("fund_advanced", "200000.00"),
        ("fund_recovered", "50000.00"),
        ("fund_written_off", "150000.00"),
    ]
    loop, temporal_client = temporal
    result = loop.run_until_complete(
        temporal_client.get_workflow_handle(accepted.workflow_id, result_type=PayoutResult).result()
    )
    assert result.stage.value == "written_off"
    assert city.post(write_off, json=body).status_code == 409
    listed = city.get("/v1/payouts", params={"stage": "written_off", "county": county}).json()["items"]
    assert payout_id in [p["payout_id"] for p in listed] and {p["stage"] for p in listed} == {"written_off"}

    # The loss: no longer owed back, not available again; the reserve cannot drop below it.
    fund = fund_of(city.get("/v1/funds").json(), county)["emergency_fund"]
    assert (fund["outstanding"], Decimal(fund["written_off"]) - Decimal(start["written_off"]), fund["available"]) == (
        start["outstanding"],
        Decimal("150000.00"),
        "350000.00",
    )
    lowered = city.put(f"/v1/funds/{county}/reserve", json={"reserve": str(not_returned + Decimal("100000.00"))})
    assert lowered.status_code == 409 and "written off" in lowered.json()["detail"], lowered.text

    events, raw = kafka_values(
        stack, case_id, lambda seen: any(e.type == GuaranteeFundEvents.ADVANCE_WRITTEN_OFF for e in seen), timeout=90
    )
    told = next(e.payload for e in events if e.type == GuaranteeFundEvents.ADVANCE_WRITTEN_OFF)
    assert {k: told[k] for k in ("payout_id", "case_id", "county", "source", "amount", "recovered", "basis")} == {
        "payout_id": payout_id,
        "case_id": case_id,
        "county": county,
        "source": "emergency_fund",
        "amount": "150000.00",
        "recovered": "50000.00",
        "basis": "enforcement_terminated",
    }
    assert (told["written_off_on"], told["written_off_by"]) == (TODAY, approved.json()["decided_by"])
    assert all("终结本次执行程序".encode() not in value for value in raw)
