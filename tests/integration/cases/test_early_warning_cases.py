"""Early-warning cases on the real stack: the monitoring service raises a project's warnings (a county inspector
registers the project, imports last month's roster without its payroll and has the month checked), the cases
service opens one early-warning case for the project and starts its workflow; a complaint filed later at the
project's QR site joins it — in the ledger at once, and as a member of its workflow once accepted — and the
inspector verifies it like any case. A project whose payroll comes late has its warning resolved on the case,
which stays open until the inspector finds no arrears. The ledger and the workflows agree throughout."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError

from services.contracts.cases import early_warning_case_id
from services.contracts.legal_time import legal_date
from services.contracts.lifecycle import CaseStatus, Queries, case_workflow_id
from services.monitoring.monitoring_workflow import CHECK_NOW_SIGNAL, monitoring_workflow_id
from tests.integration.cases.conftest import Agencies, complaint_body
from tests.integration.monitoring.test_feeds import payroll_xlsx, roster_csv
from tests.integration.monitoring.test_register import project
from tests.support.agencies import agency_clients, wait_for
from tests.support.factories import credit_code, seed
from tests.support.identities import sample_id_number
from tests.support.ledger_audit import assert_ledger_agrees, keyed_client

# Last month as the monitoring service counts it (China Standard Time): the month the checks look at.
FIRST_OF_LAST_MONTH = (legal_date(datetime.now(UTC)).replace(day=1) - timedelta(days=1)).replace(day=1)
MONTH = FIRST_OF_LAST_MONTH.strftime("%Y-%m")
COUNTY = "130402"


@pytest.fixture(scope="module")
def monitoring(agencies: Agencies, agency_token: Callable[[str], str]) -> httpx.Client:
    """The monitoring service, as the county's inspector."""
    agencies.stack.start_processes(["monitoring-api", "monitoring-relay", "monitoring-worker"], timeout=240)
    return agency_clients(agencies.stack, agency_token)("monitoring-api", f"inspector-{COUNTY}")


def temporal(agencies: Agencies, work: Callable[[Client], Any]) -> Any:
    async def run() -> Any:
        return await work(await keyed_client(agencies.stack))

    return asyncio.run(run())


def register_project(monitoring: httpx.Client, agencies: Agencies, **changes: Any) -> tuple[str, str, str]:
    """A project of the county under construction, with one QR site; its monitoring workflow running: (project
    id, general contractor's credit code, site id)."""
    n = seed()
    contractor, site = credit_code(n, "EW"), f"EW-{uuid.uuid4().hex[:10].upper()}"
    body = project(
        f"HD-{uuid.uuid4().hex[:8].upper()}-EW",
        county=COUNTY,
        name=f"预警测试安置房项目{n}",
        general_contractor={"name": f"河北预警测试建设集团有限公司{n}", "credit_code": contractor},
        site_ids=[site],
        **changes,
    )
    registered = monitoring.post("/v1/projects", json=body)
    assert registered.status_code == 201, registered.text
    project_id = registered.json()["project_id"]

    async def running(client: Client) -> bool:
        try:
            await client.get_workflow_handle(monitoring_workflow_id(project_id)).describe()
        except RPCError:
            return False
        return True

    wait_for("the project's monitoring workflow", lambda: temporal(agencies, running) or None, timeout=120)
    return project_id, contractor, site


def check_last_month_without_payroll(monitoring: httpx.Client, agencies: Agencies, project_id: str) -> tuple[str, str]:
    """Last month's roster without the bank's payroll, checked at once: the payroll's warning is raised. The two
    workers' ID numbers."""
    zhang, li = sample_id_number(seed()), sample_id_number(seed())
    roster = roster_csv([(zhang, "张三丰", "20"), (li, "李四", "10")])
    imported = monitoring.post(
        f"/v1/projects/{project_id}/attendance/{MONTH}", files={"file": ("考勤.csv", roster, "text/csv")}
    )
    assert imported.status_code == 200, imported.text

    async def check(client: Client) -> None:
        await client.get_workflow_handle(monitoring_workflow_id(project_id)).signal(
            CHECK_NOW_SIGNAL, FIRST_OF_LAST_MONTH
        )

    temporal(agencies, check)
    return zhang, li


def early_warning_case(
    a: Agencies, contractor: str, until: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    """The project's early-warning case from the queue (`kind=early_warning`), once `until` holds."""

    def probe() -> dict[str, Any] | None:
        items = a.inspector.get("/v1/cases", params={"kind": "early_warning", "employer": contractor}).json()["items"]
        if len(items) != 1:
            return None
        case = a.case(items[0]["case_id"])
        return case if until(case) else None

    return wait_for(what, probe, timeout=120)  # type: ignore[no-any-return]


def statistics(a: Agencies) -> dict[str, Any]:
    today = legal_date(datetime.now(UTC)).isoformat()
    rows = a.city.get("/v1/statistics", params={"period": "daily", "label": today}).json()["rows"]
    return next((r for r in rows if r["level"] == "county" and r["area"] == COUNTY), {"clues_received": 0})


def test_a_warning_opens_a_case_that_a_complaint_at_the_projects_site_joins(
    agencies: Agencies, monitoring: httpx.Client
) -> None:
    a = agencies
    project_id, contractor, site = register_project(monitoring, a)
    received_before = statistics(a)["clues_received"]
    # The deposit (¥300,000 of a ¥58m contract) is below 2%, and the payroll missing: two warnings at once.
    check_last_month_without_payroll(monitoring, a, project_id)
    case = early_warning_case(
        a,
        contractor,
        lambda c: len(c["warnings"]) == 2 and c["process_case_ids"] == [c["case_id"]],
        "the early-warning case with both warnings and its process",
    )
    case_id = case["case_id"]
    assert case_id == early_warning_case_id(contractor, project_id)
    assert (case["kind"], case["project_id"], case["employer_credit_code"], case["county"]) == (
        "early_warning",
        project_id,
        contractor,
        COUNTY,
    )
    assert (case["status"], case["stage"], case["complaint_count"], case["complaints"]) == (
        "open",
        "verification",
        0,
        [],
    )
    assert sorted(w["check"] for w in case["warnings"]) == ["deposit", "payroll_received"]
    assert all(w["month"] == MONTH and w["resolution"] is None for w in case["warnings"])
    # One case for the project, however many warnings; no complaint counted for it.
    assert a.inspector.get("/v1/cases", params={"kind": "complaint", "employer": contractor}).json()["items"] == []
    assert statistics(a)["clues_received"] == received_before

    # A worker scans the project's QR poster: the complaint joins the early-warning case in the ledger at once.
    registered = a.clerk.put(
        f"/v1/sites/{site}",
        json={"site_id": site, "name": case["project_name"], "county_code": COUNTY, "address": "邯山区预警测试路1号"},
    )
    assert registered.status_code == 200, registered.text
    complaint_id = a.file(complaint_body(seed(), site_id=site, workers_affected=2, amount_owed="12000.00"))
    assert a.in_ledger(complaint_id)["case_id"] == case_id
    assert statistics(a)["clues_received"] == received_before + 1
    # Accepted, it joins the case's workflow: its own case process hands it over and closes as merged.
    accepted = a.act(a.inspector, f"/v1/complaints/{complaint_id}/acceptance", {"decision": "accept"})
    assert accepted.status_code == 200, accepted.text

    def joined(c: dict[str, Any]) -> bool:
        merged = [p for p in c["processes"] if p["process_case_id"] != case_id]
        return (
            [x["process_case_id"] for x in c["complaints"]] == [case_id]
            and c["complaints"][0]["stage"] == "in_case"
            and [p["closure_reason"] for p in merged] == ["merged"]
        )

    case = a.case_until(case_id, joined, "the complaint's process merged into the early-warning case", timeout=120)
    assert case["process_case_ids"] == [case_id] and case["complaint_count"] == 1

    async def members(client: Client) -> list[str]:
        status = await client.get_workflow_handle(case_workflow_id(case_id)).query(
            Queries.STATUS, result_type=CaseStatus
        )
        return status.members

    assert wait_for(
        "the complaint a member of the case's workflow", lambda: temporal(a, members) or None, timeout=60
    ) == [complaint_id]

    # The inspector verifies the case like any case: arrears found, the contractor ordered to pay.
    verified = a.act(
        a.inspector,
        f"/v1/cases/{case_id}/verification",
        {"outcome": "wage_arrears", "confirmed_amount": "30000.00", "confirmed_workers": 5},
    )
    assert verified.status_code == 200, verified.text
    case = a.case_until(
        case_id,
        lambda c: c["stage"] == "service" and c["amount_verified"] is not None,
        "the order to pay and the verified figures",
        timeout=90,
    )
    assert (case["amount_verified"], case["workers_affected"], case["classification"]) == (
        "30000.00",
        5,
        "wage_arrears",
    )
    documents = a.inspector.get(f"/v1/cases/{case_id}/documents").json()["documents"]
    assert [d["kind"] for d in documents if d["kind"] == "order"] == ["order"]
    timeline = [e["type"] for e in a.inspector.get(f"/v1/cases/{case_id}/timeline").json()["events"]]
    for event_type in (
        "project.warning_raised",
        "case.early_warning_opened",
        "case.warning_recorded",
        "complaint.submitted",
        "case.complaint_routed",
        "case.process_merged",
        "case.verification_recorded",
    ):
        assert event_type in timeline, (event_type, timeline)
    assert_ledger_agrees(a.stack, [case_id])


def test_a_resolved_warning_is_recorded_and_the_inspector_closes_the_case_finding_no_arrears(
    agencies: Agencies, monitoring: httpx.Client
) -> None:
    a = agencies
    # A deposit of 2% of the contract value: only the missing payroll is warned of.
    project_id, contractor, _ = register_project(
        monitoring, a, deposit={"amount": "1160000.00", "form": "bank_guarantee", "status": "lodged"}
    )
    zhang, li = check_last_month_without_payroll(monitoring, a, project_id)
    case = early_warning_case(
        a, contractor, lambda c: len(c["warnings"]) == 1 and bool(c["process_case_ids"]), "the early-warning case"
    )
    case_id = case["case_id"]
    # The bank's payroll comes late: the month is checked again and the warning resolved; the case stays open.
    paid = monitoring.post(
        f"/v1/projects/{project_id}/payroll/{MONTH}",
        files={"file": ("工资.xlsx", payroll_xlsx([(zhang, "张三丰", 6000), (li, "李四", 3000)]))},
    )
    assert paid.status_code == 200, paid.text
    case = a.case_until(
        case_id, lambda c: c["warnings"][0]["resolution"] == "check_passed", "the warning's resolution", timeout=120
    )
    assert (case["warnings"][0]["passed_month"], case["status"], case["stage"]) == (MONTH, "open", "verification")
    # Verification without a complaint needs no complainant's outcome: none found, the case closes saying so.
    refused = a.act(a.inspector, f"/v1/cases/{case_id}/verification", {"outcome": "unfounded"}, until=409)
    assert refused.status_code == 409 and "no complainant" in refused.text, refused.text
    figures_before = statistics(a)
    verified = a.act(a.inspector, f"/v1/cases/{case_id}/verification", {"outcome": "no_arrears_found"})
    assert verified.status_code == 200, verified.text
    case = a.case_until(case_id, lambda c: c["status"] == "closed", "the case closed", timeout=90)
    # Nobody complained: it closes with a reason of its own, not as an unfounded complaint.
    assert (case["outcome"], case["closure_reason"], case["classification"]) == (
        "no_arrears_found",
        "no_arrears_found",
        "no_violation",
    )
    # The figures count complaints resolved and workers paid: a case nobody complained in adds to neither.
    figures = statistics(a)
    for figure in ("resolved", "workers_helped"):
        assert figures.get(figure, 0) == figures_before.get(figure, 0), (figure, figures_before, figures)
    closed = a.inspector.get("/v1/cases", params={"kind": "early_warning", "status": "closed", "employer": contractor})
    assert [c["case_id"] for c in closed.json()["items"]] == [case_id]
    assert_ledger_agrees(a.stack, [case_id])
