"""Fixtures for the sanctions service on the real stack: intake files the complaint whose facts the
sanctions worker learns from Kafka; the sanctions API, relay and worker run the procedure; a plain Kafka
consumer stands in for a credit system (信用中国 …) reading the outbound feed.

Only intake and sanctions processes are started (cases and referrals may be half-built by others): the
lifecycle's requests are sent exactly as `workflows/clients.py` sends them (no token, Idempotency-Key).
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import pytest
from kafka import KafkaConsumer
from psycopg.rows import dict_row

from deploy.stack import Stack
from services.common.kafka import client_options
from services.common.settings import CommonSettings
from services.contracts.cases import case_id_for, employer_ref, project_ref
from services.contracts.events import EventEnvelope, Topics
from tests.support import agencies
from tests.support.agencies import Filing, agency_clients
from tests.support.factories import ComplaintTemplate, credit_code, seed

PROCESSES = ["intake-api", "intake-relay", "sanctions-api", "sanctions-relay", "sanctions-worker"]

LISTING_COMPLAINTS = ComplaintTemplate(
    employer_name="邯郸市失信测试建筑劳务有限公司",
    project_name="失信测试安置房项目",
    period=("2026-03-01", "2026-08-31"),
    description="三月到八月在该项目务工，工资一直没有发放。",
    amount_owed="60000.00",
    workers_affected=12,
)
# This suite polls a little more often than the others.
wait_for = functools.partial(agencies.wait_for, interval=0.3)


@dataclass
class Employer:
    name: str
    credit_code: str
    project: str
    county: str = "130402"

    @property
    def case_id(self) -> str:
        return case_id_for(employer_ref(self.credit_code, self.name), project_ref(None, self.county, self.project))

    @property
    def ref(self) -> str:
        return employer_ref(self.credit_code, self.name)


@dataclass
class Sanctions(Filing):
    lifecycle: httpx.Client  # sanctions, as the lifecycle worker (its client's token)
    inspector: httpx.Client  # sanctions, county inspector 130402
    city: httpx.Client  # sanctions, city office
    credit: httpx.Client  # sanctions, credit system
    public: httpx.Client  # sanctions, no token: the public

    def db(self) -> psycopg.Connection[dict[str, Any]]:
        return psycopg.connect(
            self.stack.postgres.service_url("sanctions"),
            row_factory=dict_row,
            options="-c search_path=sanctions",
            autocommit=True,
        )

    def query(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        with self.db() as conn:
            return conn.execute(sql, params).fetchall()

    def employer(self) -> Employer:
        n = seed()
        return Employer(
            name=f"{LISTING_COMPLAINTS.employer_name}{n}",
            credit_code=credit_code(n),
            project=f"{LISTING_COMPLAINTS.project_name}{n}",
        )

    def file_complaint(self, employer: Employer, amount: str = "60000.00", workers: int = 12) -> str:
        complaint_id = self.file(
            LISTING_COMPLAINTS.body(
                seed(),
                employer.county,
                employer_name=employer.name,
                employer_credit_code=employer.credit_code,
                project_name=employer.project,
                amount_owed=amount,
                workers_affected=workers,
            )
        )
        wait_for(
            "the case facts from intake's event",
            lambda: self.query("SELECT 1 FROM case_facts WHERE case_id = %s", employer.case_id),
        )
        return complaint_id

    def sanction_request(
        self,
        employer: Employer,
        kind: str,
        *,
        amount: str = "60000.00",
        basis: str = "12 名劳动者，未付合计 60000.00 元，达到 10 人以上、40000 元的标准",
        key: str | None = None,
    ) -> tuple[dict[str, Any], str]:
        key = key or f"case:{employer.case_id}:{uuid.uuid4().hex[:8]}:sanction:{kind}"
        return {
            "idempotency_key": key,
            "case_id": employer.case_id,
            "county": employer.county,
            "employer_ref": employer.ref,
            "kind": kind,
            "amount": amount,
            "basis": basis,
        }, key

    def lifecycle_post(self, path: str, body: dict[str, Any], key: str) -> httpx.Response:
        response = self.lifecycle.post(path, json=body, headers={"Idempotency-Key": key})
        assert response.status_code < 500, f"{path}: {response.status_code} {response.text[:500]}"
        return response

    def listing(self, listing_id: str) -> dict[str, Any]:
        response = self.city.get(f"/v1/listings/{listing_id}")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def listing_until(
        self, listing_id: str, check: Callable[[dict[str, Any]], bool], what: str, timeout: float = 60
    ) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            listing = self.listing(listing_id)
            return listing if check(listing) else None

        return wait_for(what, probe, timeout)  # type: ignore[no-any-return]

    def restart_api(self, **env: str) -> None:
        """Restart sanctions-api with extra environment (e.g. a compressed clock for new procedures)."""
        self.stack.stop_process("sanctions-api")
        spec = self.stack.spec("sanctions-api")
        spec.env.update(env)
        self.stack.start_process(spec)
        self.stack.wait_process_ready(spec, 60)


@pytest.fixture(scope="session")
def sanctions(stack: Stack, agency_token: Callable[[str], str]) -> Iterator[Sanctions]:
    stack.start_processes(PROCESSES, timeout=150)
    client = agency_clients(stack, agency_token)
    yield Sanctions(
        stack=stack,
        clerk=client("intake-api", "clerk-130402"),
        lifecycle=client("sanctions-api", "lifecycle-worker"),
        inspector=client("sanctions-api", "inspector-130402"),
        city=client("sanctions-api", "city-office"),
        credit=client("sanctions-api", "credit-system"),
        public=client("sanctions-api", None),
    )


@dataclass
class CreditSystem:
    """A credit system's consumer of the outbound feed: applies each event id once (its own store is the
    `applied` dict), commits offsets only after applying, and can crash before committing."""

    settings: CommonSettings
    group: str = field(default_factory=lambda: f"credit-system-{uuid.uuid4().hex[:8]}")
    applied: dict[str, EventEnvelope] = field(default_factory=dict)
    deliveries: list[str] = field(default_factory=list)
    consumer: KafkaConsumer | None = None

    def start(self) -> None:
        self.consumer = KafkaConsumer(
            Topics.CREDIT_SHARING,
            **client_options(self.settings),
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )

    def poll(self, *, commit: bool = True) -> None:
        assert self.consumer is not None
        for records in self.consumer.poll(timeout_ms=500).values():
            for record in records:
                envelope = EventEnvelope.from_bytes(record.value)
                self.deliveries.append(str(envelope.event_id))
                self.applied.setdefault(str(envelope.event_id), envelope)  # the dedupe: one effect per id
        if commit:
            self.consumer.commit()

    def crash(self) -> None:
        """Stop without committing what was read since the last commit (as a kill would)."""
        assert self.consumer is not None
        self.consumer.close(autocommit=False)
        self.consumer = None

    def effects(self, listing_id: str) -> list[str]:
        return [e.type for e in self.applied.values() if e.payload.get("listing_id") == listing_id]

    def wait_for(self, listing_id: str, event_type: str, timeout: float = 60, commit: bool = True) -> EventEnvelope:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.poll(commit=commit)
            for envelope in self.applied.values():
                if envelope.type == event_type and envelope.payload.get("listing_id") == listing_id:
                    return envelope
        raise AssertionError(f"{event_type} for {listing_id} never reached the credit system")

    def close(self) -> None:
        if self.consumer is not None:
            self.consumer.close(autocommit=False)
