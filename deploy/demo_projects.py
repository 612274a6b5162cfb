"""`make demo`'s project whose payroll stops (the monitoring service, docs/monitoring.md): a project under
construction registered three months ago with its wage account and deposit, last month's real-name roster
imported without a payroll from the bank, the month checked at once (the workflow's `check_now`, as an
inspector would ask), and the early warning it raises read back from the warnings API. Then (`Demo.payroll_stops`,
with `ProjectReader`) the warning's early-warning case, the first letter of the ladder against the project, the
case verified and refused, and the workers paid from the project's wage deposit: the inspector's decision, the
city office's approval, the bank's payout recorded on the case and the deposit's top-up demanded. The project is
left for the console's 在建项目 pages and the county's quarterly circular."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.service import RPCError

from services.contracts.legal_time import legal_date
from services.monitoring.monitoring_workflow import CHECK_NOW_SIGNAL, monitoring_workflow_id

MONITORING = os.environ.get("ANXIN_MONITORING_URL", "http://127.0.0.1:8007")
CASES = os.environ.get("ANXIN_CASES_URL", "http://127.0.0.1:8002")
REFERRALS = os.environ.get("ANXIN_REFERRALS_URL", "http://127.0.0.1:8003")
COUNTY = "130402"


def _first_of_last_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _project(seed: int, credit_code: Callable[[int], str], today: date) -> dict[str, Any]:
    start = (today.replace(day=1) - timedelta(days=80)).replace(day=1)
    return {
        "code": f"DEMO-{seed}",
        "county": COUNTY,
        "name": "邯山区演示保障性住房项目（工资停发）",
        "owner": {"name": "邯郸市某城市建设投资有限公司", "credit_code": credit_code(seed + 70)},
        "general_contractor": {"name": "河北某建工集团有限公司", "credit_code": credit_code(seed + 71)},
        "contract_value": "20000000.00",
        "start_date": start.isoformat(),
        "planned_end_date": start.replace(year=start.year + 2).isoformat(),
        "department": "housing",
        "wage_account": {"bank": "中国建设银行邯郸分行", "opened_on": (start - timedelta(days=10)).isoformat()},
        "deposit": {"amount": "400000.00", "form": "bank_guarantee", "status": "lodged"},
    }


def _roster(seed: int, id_number: Callable[[int], str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["身份证号码", "姓名", "出勤天数"])
    for n, name in enumerate(("张建国", "李卫东", "王秀兰")):
        writer.writerow([id_number(seed + 80 + n), name, 22 - n])
    return out.getvalue().encode()


async def payroll_stops(
    client: Client,
    http: httpx.AsyncClient,
    token: str,
    seed: int,
    *,
    say: Callable[[str], None],
    credit_code: Callable[[int], str],
    id_number: Callable[[int], str],
) -> str:
    """The project's id, once its missing payroll has raised its early warning."""
    headers = {"Authorization": f"Bearer {token}"}
    today = legal_date(datetime.now(UTC))
    registered = await http.post(
        f"{MONITORING}/v1/projects",
        json=_project(seed, credit_code, today),
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    registered.raise_for_status()
    project_id = str(registered.json()["project_id"])
    month = _first_of_last_month(today)
    say(f"registered project {project_id}, started {registered.json()['start_date']}")
    imported = await http.post(
        f"{MONITORING}/v1/projects/{project_id}/attendance/{month:%Y-%m}",
        headers=headers,
        files={"file": ("考勤.csv", _roster(seed, id_number), "text/csv")},
    )
    imported.raise_for_status()
    say(f"{month:%Y-%m} roster imported ({imported.json()['workers']} workers); the bank's payroll never comes")
    # The workflow is started by the monitoring worker on the project's event: wait for it, then check the month.
    handle = client.get_workflow_handle(monitoring_workflow_id(project_id))
    for _ in range(60):
        try:
            await handle.signal(CHECK_NOW_SIGNAL, month)
            break
        except RPCError:  # not started yet
            await asyncio.sleep(1)
    else:
        raise RuntimeError(f"the monitoring workflow of {project_id} did not start")
    for _ in range(60):
        answer = await http.get(f"{MONITORING}/v1/projects/{project_id}/warnings", headers=headers)
        answer.raise_for_status()
        payroll = [w for w in answer.json()["items"] if w["check"] == "payroll_received" and w["open"]]
        if payroll:
            say(
                f"early warning {payroll[0]['warning_id']} ({payroll[0]['level']}): no payroll for "
                f"{payroll[0]['month']}"
            )
            return project_id
        await asyncio.sleep(1)
    raise RuntimeError(f"no early warning for {project_id}'s missing payroll")


class ProjectReader:
    """The HTTP calls of the project's path after its warning, as one person (an inspector or the city office):
    the ladder's letters (referrals), the payout from the deposit (cases, then monitoring)."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}

    def first_letter(self, project_id: str) -> Callable[[], Awaitable[bool]]:
        async def issued() -> bool:
            answer = await self.http.get(f"{REFERRALS}/v1/projects/{project_id}/letters", headers=self.headers)
            answer.raise_for_status()
            return any(letter["kind"] == "warning_letter" for letter in answer.json()["items"])

        return issued

    async def pay_from_the_deposit(self, case_id: str, project_id: str, *, amount: str, workers: int) -> str:
        """The inspector's decision on the refused case: the workers paid from the project's wage deposit."""
        decided = await self.http.post(
            f"{CASES}/v1/cases/{case_id}/payouts",
            json={"source": "deposit", "amount": amount, "workers_paid": workers, "project_id": project_id},
            headers={**self.headers, "Idempotency-Key": f"demo-payout-{case_id}"},
        )
        decided.raise_for_status()
        return str(decided.json()["payout"]["payout_id"])

    async def approve_and_pay(self, payout_id: str) -> None:
        """The city office's approval, then the bank's payout recorded (the same day, as the demo goes)."""
        approved = await self.http.post(
            f"{MONITORING}/v1/payouts/{payout_id}/decision",
            json={"decision": "approve"},
            headers={**self.headers, "Idempotency-Key": f"demo-approve-{payout_id}"},
        )
        approved.raise_for_status()
        paid = await self.http.post(
            f"{MONITORING}/v1/payouts/{payout_id}/payment",
            json={"paid_on": legal_date(datetime.now(UTC)).isoformat()},
            headers={**self.headers, "Idempotency-Key": f"demo-paid-{payout_id}"},
        )
        paid.raise_for_status()

    def case_payout_paid(self, case_id: str) -> Callable[[], Awaitable[bool]]:
        async def paid() -> bool:
            answer = await self.http.get(f"{CASES}/v1/cases/{case_id}/payouts", headers=self.headers)
            answer.raise_for_status()
            return any(payout["stage"] == "paid" for payout in answer.json()["items"])

        return paid

    async def top_up_due(self, payout_id: str) -> str | None:
        """When the general contractor must have topped the deposit up: set once the payout is recorded paid."""
        answer = await self.http.get(f"{MONITORING}/v1/payouts/{payout_id}", headers=self.headers)
        answer.raise_for_status()
        due = answer.json().get("top_up_due")
        return str(due) if due else None
