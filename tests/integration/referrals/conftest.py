"""Fixtures for the referrals service on the real stack: intake files complaints (their events feed the
referrals read model), the lifecycle worker runs case workflows that call the referrals API, and agencies
act with their own tokens."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer
from temporalio.client import Client

from deploy.stack import Stack
from services.common.kafka import client_options
from services.common.settings import CommonSettings
from services.common.temporal import connect
from services.contracts.events import EventEnvelope, Topics
from services.contracts.lifecycle import (
    CASE_WORKFLOW_TYPE,
    CaseInput,
    CaseMember,
    CaseStatus,
    HandoffConfig,
    LadderRung,
    LifecycleConfig,
    OrderConfig,
    Queries,
    Signals,
    TaskQueues,
    Updates,
    VerificationOutcome,
    VerificationResult,
    case_workflow_id,
    default_ladder,
)
from tests.support.agencies import Filing, agency_clients, wait_for
from tests.support.factories import ComplaintTemplate, seed

PROCESSES = [
    "intake-api",
    "intake-relay",
    "referrals-api",
    "referrals-relay",
    "referrals-worker",
    # The case workflow's orders, compensation decisions and notices go to the cases API; its relay
    # publishes the order, which the referrals read model quotes in a criminal referral.
    "cases-api",
    "cases-relay",
    # A refusal above the threshold starts its sanctions (the listing, the publication mark) before the
    # referral is proposed.
    "sanctions-api",
    "sanctions-worker",
    "lifecycle-worker",
]

HANDOFF_COMPLAINTS = ComplaintTemplate(
    employer_name="邯郸市交办测试建筑工程有限公司",
    project_name="交办测试道路工程",
    period=("2026-03-01", "2026-08-31"),
    description="三月到八月在该项目干活，工程款和工资一直没有结清。",
    phone_prefix="138",
    credit_series="MB",
)
complaint_body = HANDOFF_COMPLAINTS.body


@dataclass
class Agencies(Filing):
    lifecycle: httpx.Client  # referrals, as the lifecycle worker (its client's token)
    city: httpx.Client  # referrals, city office
    housing: httpx.Client  # referrals, dept-housing
    transport: httpx.Client  # referrals, dept-transport
    police: httpx.Client
    procuratorate: httpx.Client
    legal_aid: httpx.Client
    arbitration: httpx.Client
    inspector: httpx.Client  # referrals, inspector-130402
    other_inspector: httpx.Client  # referrals, inspector-130403
    temporal_settings: CommonSettings
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _client: Client | None = None

    def case_of(self, complaint_id: str, timeout: float = 60) -> dict[str, Any]:
        """The case facts once the complaint's event has reached the referrals read model."""

        def probe() -> dict[str, Any] | None:
            r = self.city.get("/v1/case-facts", params={"complaint_id": complaint_id})
            return r.json() if r.status_code == 200 else None

        return wait_for(f"complaint {complaint_id} in the referrals read model", probe, timeout)  # type: ignore[no-any-return]

    def new_case(self, **overrides: Any) -> dict[str, Any]:
        return self.case_of(self.file(complaint_body(seed(), **overrides)))

    def temporal(self) -> Client:
        if self._client is None:
            self._client = self.run(connect(self.temporal_settings))
        return self._client

    def run(self, coro: Any) -> Any:
        return self._loop.run_until_complete(coro)


@pytest.fixture(scope="session")
def agencies(stack: Stack, agency_token: Callable[[str], str]) -> Iterator[Agencies]:
    stack.start_processes(PROCESSES, timeout=150)
    client = agency_clients(stack, agency_token)
    env = stack.engine_env()
    settings = CommonSettings(
        temporal_address=stack.temporal.address,
        payload_keys=env.get("ANXIN_PAYLOAD_KEYS"),
        payload_key_id=env.get("ANXIN_PAYLOAD_KEY_ID"),
    )
    yield Agencies(
        stack=stack,
        clerk=client("intake-api", "clerk-130402"),
        lifecycle=client("referrals-api", "lifecycle-worker"),
        city=client("referrals-api", "city-office"),
        housing=client("referrals-api", "dept-housing"),
        transport=client("referrals-api", "dept-transport"),
        police=client("referrals-api", "police"),
        procuratorate=client("referrals-api", "procuratorate"),
        legal_aid=client("referrals-api", "legal-aid"),
        arbitration=client("referrals-api", "arbitration"),
        inspector=client("referrals-api", "inspector-130402"),
        other_inspector=client("referrals-api", "inspector-130403"),
        temporal_settings=settings,
    )


# --- the case workflow, driven the way the lifecycle does it ---------------------------------------------------


def compressed_config(working_day_seconds: float, response_days: int = 2, rung_days: int = 1) -> LifecycleConfig:
    """A lifecycle configuration on a compressed clock, with a short handoff ladder."""
    return LifecycleConfig(
        province="henan",
        working_day_seconds=working_day_seconds,
        handoff=HandoffConfig(
            response_working_days=response_days,
            ladder=[LadderRung(kind=rung.kind, wait_working_days=rung_days) for rung in default_ladder()],
        ),
        order=OrderConfig(pay_days=1),
    )


def start_case(
    a: Agencies,
    case: dict[str, Any],
    config: LifecycleConfig,
    *,
    amount: str = "12000.00",
    workers: int = 2,
    months: int = 6,
) -> None:
    """Start the case workflow on the lifecycle worker's queue, as an accepted complaint's join does."""
    member = CaseMember(
        complaint_id=f"CP-{uuid.uuid4().hex[:10]}",
        amount_owed=Decimal(amount),
        workers_affected=workers,
        months_owed=months,
        accepted_at=datetime.now(UTC),
    )
    case_input = CaseInput(
        case_id=case["case_id"],
        county=case["county"],
        employer_ref=case["employer_ref"],
        project_ref=case["project_ref"],
        config=config,
    )
    a.run(
        a.temporal().start_workflow(
            CASE_WORKFLOW_TYPE,
            case_input,
            id=case_workflow_id(case["case_id"]),
            task_queue=TaskQueues.LIFECYCLE,
            start_signal=Signals.COMPLAINT_JOINED,
            start_signal_args=[member],
        )
    )


def update_case(a: Agencies, case_id: str, name: str, arg: Any) -> CaseStatus:
    handle = a.temporal().get_workflow_handle(case_workflow_id(case_id))
    return a.run(handle.execute_update(name, arg, result_type=CaseStatus))  # type: ignore[no-any-return]


def case_status(a: Agencies, case_id: str) -> CaseStatus:
    handle = a.temporal().get_workflow_handle(case_workflow_id(case_id))
    return a.run(handle.query(Queries.STATUS, result_type=CaseStatus))  # type: ignore[no-any-return]


def verify(a: Agencies, case_id: str, outcome: VerificationOutcome, **fields: Any) -> CaseStatus:
    return update_case(
        a,
        case_id,
        Updates.RECORD_VERIFICATION,
        VerificationResult(outcome=outcome, verified_by="inspector-130402", **fields),
    )


def events_of(
    a: Agencies, case_id: str, until: Callable[[list[EventEnvelope]], bool], timeout: float = 60
) -> list[EventEnvelope]:
    """The referrals events of one case as they are on Kafka, read until `until` holds."""
    consumer = KafkaConsumer(
        Topics.REFERRALS,
        **client_options(a.stack.client_settings()),
        group_id=f"referrals-test-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    seen: list[EventEnvelope] = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    event = EventEnvelope.from_bytes(record.value)
                    if event.subject == case_id:
                        seen.append(event)
            if until(seen):
                return seen
        raise AssertionError(f"events of {case_id} incomplete: {[e.type for e in seen]}")
    finally:
        consumer.close()
