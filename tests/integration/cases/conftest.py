"""Fixtures for the cases service on the real stack: intake files complaints, the lifecycle worker runs
their workflows, and the cases API, relay and worker keep the ledger."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from deploy.stack import Stack
from tests.support.agencies import Filing, agency_clients, wait_for
from tests.support.factories import ComplaintTemplate, seed

PROCESSES = [
    "intake-api",
    "intake-relay",
    "intake-worker",
    "cases-api",
    "cases-relay",
    "cases-worker",
    "lifecycle-worker",
]

LEDGER_COMPLAINTS = ComplaintTemplate(
    employer_name="邯郸市台账测试建筑劳务有限公司",
    project_name="台账测试安置房项目",
    period=("2026-06-01", "2026-09-30"),
    description="六月到九月在该项目做钢筋工，工资一直没有发放。",
)
complaint_body = LEDGER_COMPLAINTS.body


@dataclass
class Agencies(Filing):
    city_intake: httpx.Client  # intake, city office (files in any county)
    inspector: httpx.Client  # cases, 130402
    other_inspector: httpx.Client  # cases, 130403
    city: httpx.Client  # cases, city office
    bureau_head: httpx.Client  # cases, the head of 130402's bureau
    anonymous: httpx.Client  # cases, no token
    lifecycle: httpx.Client  # cases, as the lifecycle worker (its client's token)

    def intake_for(self, county: str) -> httpx.Client:
        return self.clerk if county == "130402" else self.city_intake

    def in_ledger(self, complaint_id: str, timeout: float = 60) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            r = self.city.get(f"/v1/complaints/{complaint_id}")
            return r.json() if r.status_code == 200 else None

        return wait_for(f"complaint {complaint_id} in the ledger", probe, timeout)  # type: ignore[no-any-return]

    def case(self, case_id: str) -> dict[str, Any]:
        response = self.city.get(f"/v1/cases/{case_id}")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def case_until(
        self, case_id: str, check: Callable[[dict[str, Any]], bool], what: str, timeout: float = 60
    ) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            case = self.case(case_id)
            return case if check(case) else None

        return wait_for(what, probe, timeout)  # type: ignore[no-any-return]

    def act(
        self,
        client: httpx.Client,
        path: str,
        body: dict[str, Any],
        *,
        until: int = 200,
        timeout: float = 60,
        retry_on: tuple[int, ...] = (404, 409, 503),
    ) -> httpx.Response:
        """POST an action, retrying while the process is not there yet (it starts asynchronously)."""
        deadline = time.monotonic() + timeout
        while True:
            response = client.post(path, json=body)
            if response.status_code == until or response.status_code not in retry_on or time.monotonic() > deadline:
                return response
            time.sleep(0.5)

    @contextlib.contextmanager
    def compressed_clock(self, seconds_per_day: float = 2) -> Iterator[None]:
        """Complaints filed inside the block get workflows on a compressed clock (one day = N seconds)."""
        spec = self.stack.spec("intake-worker")
        self.stack.stop_process("intake-worker")
        spec.env["ANXIN_WORKING_DAY_SECONDS"] = str(seconds_per_day)
        self.stack.start_process(spec)
        self.stack.wait_process_ready(spec, 60)
        try:
            yield
        finally:
            self.stack.stop_process("intake-worker")
            self.stack.start_process(self.stack.spec("intake-worker"))
            self.stack.wait_process_ready(self.stack.processes["intake-worker"], 60)

    def for_county(self, county: str) -> httpx.Client:
        """The county's inspector; the city office for a county without a development inspector."""
        return {"130402": self.inspector, "130403": self.other_inspector}.get(county, self.city)

    def served_over_the_threshold(self, receipt: str) -> str:
        """A case over the criminal threshold — one worker owed ¥6,000 for four months, above the configured
        ¥5,000 for 3 months — on a compressed clock, verified and its order served: its deadline soon passes
        into refusal. Its id."""
        with self.compressed_clock():
            _, case_id = self.accepted_case(complaint_body(seed(), amount_owed="6000.00", workers_affected=1))
        verified = self.act(self.inspector, f"/v1/cases/{case_id}/verification", {"outcome": "wage_arrears"})
        assert verified.status_code == 200, verified.text
        served = self.act(
            self.inspector,
            f"/v1/cases/{case_id}/service",
            {"method": "in_person", "evidence": [{"kind": "receipt", "ref": receipt}]},
        )
        assert served.status_code == 200, served.text
        return case_id

    def accepted_case(self, body: dict[str, Any]) -> tuple[str, str]:
        """File a complaint, accept it, and wait until its case has a running process: (complaint, case)."""
        complaint_id = self.file(body)
        case_id = self.in_ledger(complaint_id)["case_id"]
        client = self.for_county(body["county_code"])
        r = self.act(client, f"/v1/complaints/{complaint_id}/acceptance", {"decision": "accept"}, retry_on=(404, 503))
        assert r.status_code == 200, r.text
        self.case_until(case_id, lambda c: bool(c["process_case_ids"]), "the case process in the ledger")
        return complaint_id, case_id


@pytest.fixture(scope="session")
def agencies(stack: Stack, agency_token: Callable[[str], str]) -> Iterator[Agencies]:
    stack.start_processes(PROCESSES, timeout=150)
    client = agency_clients(stack, agency_token)
    yield Agencies(
        stack=stack,
        clerk=client("intake-api", "clerk-130402"),
        city_intake=client("intake-api", "city-office"),
        inspector=client("cases-api", "inspector-130402"),
        other_inspector=client("cases-api", "inspector-130403"),
        city=client("cases-api", "city-office"),
        bureau_head=client("cases-api", "bureau-head-130402"),
        anonymous=client("cases-api", None),
        lifecycle=client("cases-api", "lifecycle-worker"),
    )
