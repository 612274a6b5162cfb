"""`make demo`'s console part: a person of each role to sign in as, each signed in through the console once,
and a case left at each stage of the process, so a new user can click through the console at once.

The people are made at the token issuer as `anxin users add` makes them (services/issuer/accounts.py), once per
data dir; their passwords are kept beside the development clients (`development-people.json`, mode 0600) and
printed at the end of the demo. Development only, like the development clients.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg

from services.common.auth import Role
from services.contracts.lifecycle import (
    AcceptanceDecision,
    AcceptanceDecisionKind,
    ServiceMethod,
    Updates,
    VerificationOutcome,
)
from services.issuer.accounts import SCHEMA, NewAccount, add_account, list_accounts

if TYPE_CHECKING:
    from deploy.demo_steps import DemoSteps


@dataclass(frozen=True)
class DemoPerson:
    person_id: str
    name: str
    role: str
    county: str | None = None
    department: str | None = None
    password: str = ""

    @property
    def describes(self) -> str:
        return {
            "county_inspector": f"县区监察员（{self.county}）",
            "department": f"行业部门（{self.department}）",
            "police": "公安联络员",
            "city_office": "市劳动保障监察支队",
            "bureau_head": f"县区人社局负责人（{self.county}）",
            "intake_clerk": f"窗口登记员（{self.county}）",
            "procuratorate": "检察院联络员",
            "arbitration": "劳动人事争议仲裁院",
            "legal_aid": "法律援助中心",
        }.get(self.role, self.role)


# One of each role whose pages the console has; the county and department are the demo complaints'.
PEOPLE = (
    DemoPerson("demo.inspector", "王丽", Role.county_inspector.value, county="130402"),
    DemoPerson("demo.head", "陈刚", Role.bureau_head.value, county="130402"),
    DemoPerson("demo.housing", "李娜", Role.department.value, department="housing"),
    DemoPerson("demo.police", "张伟", Role.police.value),
    DemoPerson("demo.city", "赵敏", Role.city_office.value),
    DemoPerson("demo.clerk", "孙芳", Role.intake_clerk.value, county="130402"),
    DemoPerson("demo.procurator", "周杰", Role.procuratorate.value),
    DemoPerson("demo.arbitration", "吴静", Role.arbitration.value),
    DemoPerson("demo.legalaid", "郑洁", Role.legal_aid.value),
)


def demo_people(data_dir: Path, issuer_database_url: str) -> list[DemoPerson]:
    """The demo's people with their passwords, their accounts made at the issuer if not yet there."""
    kept = data_dir / "development-people.json"
    passwords: dict[str, str] = json.loads(kept.read_text()) if kept.exists() else {}
    people = [
        DemoPerson(**{**asdict(p), "password": passwords.get(p.person_id) or secrets.token_urlsafe(12)}) for p in PEOPLE
    ]
    with psycopg.connect(issuer_database_url, options=f"-c search_path={SCHEMA}") as conn:
        existing = {account.person_id for account in list_accounts(conn)}
        for person in people:
            if person.person_id not in existing:
                account = NewAccount(
                    person.person_id, person.name, Role(person.role), person.county, person.department
                ).checked()
                add_account(conn, account, person.password, totp=False)
    kept.write_text(json.dumps({p.person_id: p.password for p in people}, indent=2))
    os.chmod(kept, 0o600)
    return people


async def sign_in(console_url: str, person: DemoPerson) -> str:
    """Sign `person` in through the console's own form, as a browser does; the title of the page they land on."""
    async with httpx.AsyncClient(base_url=console_url, timeout=30, follow_redirects=True) as browser:
        form = await browser.get("/sign-in")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        if form.status_code != 200 or csrf is None:
            raise RuntimeError(f"the console's sign-in page answered {form.status_code}")
        landed = await browser.post(
            "/sign-in", data={"csrf": csrf.group(1), "person_id": person.person_id, "password": person.password}
        )
        title = re.search(r"<title>([^<]*)</title>", landed.text)
        if landed.status_code != 200 or "/sign-in" in str(landed.url):
            raise RuntimeError(f"{person.person_id} could not sign in: {landed.status_code}")
        return title.group(1).strip() if title else str(landed.url)


def people_table(console_url: str, people: list[DemoPerson], landed: dict[str, Any]) -> str:
    lines = [f"The console: {console_url}  — sign in as any of these (development accounts):"]
    for p in people:
        lines.append(f"  {p.person_id:<16} {p.password:<18} {p.describes}  → {landed.get(p.person_id, '')}")
    return "\n".join(lines)


async def leave_a_case_at_each_stage(demo: DemoSteps, seed: int, complaint_body: Any) -> dict[str, str]:
    """One small complaint taken to each stage and left there for the console's pages: awaiting acceptance,
    awaiting information, accepted and awaiting verification, handed off to a department, verified with its order awaiting service, served and awaiting payment
    (on a compressed clock the order's deadline soon passes it on to refusal, and, owed for four months, over
    the criminal threshold it then waits for its case team's referral report). Returns stage → case or
    complaint id."""
    name = "left at each stage"
    left: dict[str, str] = {}
    employers = (
        "邯郸市待受理劳务有限公司",
        "邯郸市待核实建筑有限公司",
        "邯郸市待送达装饰有限公司",
        "邯郸市待支付市政工程有限公司",
    )
    ids = [
        await demo.file(name, complaint_body(seed * 10 + i, employer=employer, workers=2, amount="12000", months=4))
        for i, employer in enumerate(employers)
    ]
    left["acceptance"] = ids[0]
    cases = [await demo.accept(name, complaint_id) for complaint_id in ids[1:]]
    left["verification"] = cases[0]
    for case_id in cases[1:]:
        await demo.verified(case_id, VerificationOutcome.WAGE_ARREARS, confirmed_amount=Decimal("12000"))
    left["service"] = cases[1]
    await demo.wait_for(name, "order waiting to be served", lambda: demo.stage_is(cases[2], "service"), 120)
    await demo.update_case(cases[2], Updates.RECORD_SERVICE, demo.served(ServiceMethod.IN_PERSON))
    left["payment"] = cases[2]
    # A complaint whose inspector asked for more papers (its 补正 limit running), and a case handed off to the
    # housing department that has not answered (on a compressed clock its ladder of letters soon climbs).
    waiting = await demo.file(
        name, complaint_body(seed * 10 + 4, employer="邯郸市待补正劳务有限公司", workers=1, amount="5000", months=1)
    )
    await demo.decide(
        name,
        waiting,
        AcceptanceDecision(
            decision=AcceptanceDecisionKind.REQUEST_MORE_INFO,
            decided_by="inspector-130402",
            missing_items=["劳动合同或考勤记录", "欠条或工资表"],
        ),
    )
    left["information"] = waiting
    handed = await demo.accept(
        name,
        await demo.file(
            name,
            complaint_body(seed * 10 + 5, employer="邯郸市待移交建设工程有限公司", workers=6, amount="48000", months=2),
        ),
    )
    await demo.verified(handed, VerificationOutcome.PROJECT_PAYMENT_DISPUTE, department="housing")
    left["handoff"] = handed
    return left
