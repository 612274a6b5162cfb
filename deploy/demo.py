"""`make demo`: files a handful of realistic complaints on a running stack and walks them down every main path.

Start the stack with a compressed clock first, so that weeks of legal deadlines pass in minutes:

    ANXIN_WORKING_DAY_SECONDS=2 make run      # one working day lasts 2 seconds
    make demo                                 # in another terminal

The paths:
- resolved: an order to pay is served in person and paid in full before its deadline;
- refused and referred: twelve workers, above Hebei's configured threshold; the order is served by posting,
  its deadline passes unpaid: additional compensation, a criminal referral, the blacklist procedure and
  marking for publication follow, and the police accept the case;
- below the threshold: one worker, a small amount, the deadline passes: compensation but no criminal referral;
- handed off and escalated: a project-payment dispute goes to the housing department, which never answers:
  reminder, supervision, warning letter, accountability recommendation, transfer, rung by rung;
- left at each stage: four small complaints left awaiting acceptance, verification, service and payment;
- a project's payroll stops: registered in the monitoring service with its account and deposit, last month's
  roster imported without the bank's payroll, the month checked, the early warning raised
  (deploy/demo_projects.py).

Then a person of each role (an inspector, a housing-department clerk, a police liaison, the city office) is
signed in through the console once, and their ids and passwords are printed with the console's address, so
the cases above can be opened there at once (deploy/demo_console.py).

Complaints enter through the intake API like any clerk's; the inspectors' actions go to the workflows as
Temporal Updates (what the cases service does on their behalf), with the same validation.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from stdnum.cn import ric, uscc
from temporalio.client import Client

from deploy.certificates import development_transport_env
from deploy.demo_console import demo_people, leave_a_case_at_each_stage, people_table, sign_in
from deploy.demo_projects import payroll_stops
from deploy.launcher import default_data_dir, make_stack, running_profile
from deploy.secrets import process_keys
from services.common.settings import CommonSettings
from services.common.temporal import connect, exit_program
from services.contracts.lifecycle import (
    AcceptanceDecision,
    AcceptanceDecisionKind,
    Evidence,
    EvidenceKind,
    LetterKind,
    PaymentRecord,
    PoliceDecision,
    PoliceDecisionRecord,
    Queries,
    ReferralDecisionRecord,
    ReferralReport,
    ServiceMethod,
    ServiceRecord,
    SubjectiveElement,
    Updates,
    VerificationOutcome,
    VerificationResult,
    case_workflow_id,
    complaint_workflow_id,
)

# The development clients and keys of the running stack: `make run`'s or `make run-cluster`'s (or the one
# ANXIN_DATA_DIR names, with TEMPORAL_ADDRESS, ANXIN_INTAKE_URL and ANXIN_TOKEN_ISSUER_URL, for a stack on
# other ports).
DATA_DIR = (
    Path(os.environ["ANXIN_DATA_DIR"]) if os.environ.get("ANXIN_DATA_DIR") else default_data_dir(running_profile())
)
INTAKE = os.environ.get("ANXIN_INTAKE_URL", "http://127.0.0.1:8001")
# The token issuer (services/issuer): the services issue no tokens.
ISSUER = os.environ.get("ANXIN_TOKEN_ISSUER_URL", "http://127.0.0.1:8005")
CONSOLE = os.environ.get("ANXIN_CONSOLE_URL", "http://127.0.0.1:8006")


def issuer_database_url() -> str:
    """Where the issuer keeps people's accounts: ANXIN_ISSUER_DATABASE_URL, else the running stack's."""
    return os.environ.get("ANXIN_ISSUER_DATABASE_URL") or make_stack(running_profile(), DATA_DIR).postgres.service_url(
        "issuer"
    )


def say(scenario: str, text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {scenario:<22} {text}", flush=True)


def id_number(seed: int) -> str:
    body = f"1304021985{(seed % 12) + 1:02d}{(seed % 27) + 1:02d}{seed % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def credit_code(seed: int) -> str:
    body = f"91130400MA{seed % 10**7:07d}"
    return body + uscc.calc_check_digit(body)


def complaint_body(seed: int, *, employer: str, workers: int, amount: str, months: int) -> dict[str, Any]:
    end = date.today() - timedelta(days=20)
    start = end - timedelta(days=30 * months)
    return {
        "worker_name": "演示工人",
        "id_number": id_number(seed),
        "phone": f"135{seed % 10**8:08d}",
        "employer_name": employer,
        "employer_credit_code": credit_code(seed),
        "project_name": "邯山区演示安置房项目",
        "county_code": "130402",
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "amount_owed": amount,
        "workers_affected": workers,
        "description": f"{months}个月的工资一直没有发放，多次讨要无果。",
    }


class Demo:
    def __init__(self, client: Client, http: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.http = http
        self.token = token
        # Every workflow the demo started, checked at the end for a parked step.
        self.workflow_ids: list[str] = []
        # The complaints and cases left at a stage for the console (stage → id).
        self.left: dict[str, str] = {}
        self.project_id = ""  # the project whose payroll stopped

    async def file(self, scenario: str, body: dict[str, Any]) -> str:
        response = await self.http.post(
            f"{INTAKE}/v1/complaints", json=body, headers={"Authorization": f"Bearer {self.token}"}
        )
        response.raise_for_status()
        complaint_id = str(response.json()["complaint_id"])
        self.workflow_ids.append(complaint_workflow_id(complaint_id))
        say(scenario, f"filed {complaint_id} ({body['workers_affected']} workers, ¥{body['amount_owed']})")
        return complaint_id

    async def payroll_stops(self, seed: int, inspector_token: str) -> None:
        project_id = await payroll_stops(
            self.client,
            self.http,
            inspector_token,
            seed,
            say=functools.partial(say, "payroll stops"),
            credit_code=credit_code,
            id_number=id_number,
        )
        self.project_id = project_id

    async def status(self, workflow_id: str) -> dict[str, Any]:
        result = await self.client.get_workflow_handle(workflow_id).query(Queries.STATUS)
        return dict(result)

    async def parked_steps(self) -> dict[str, dict[str, Any]]:
        """The demo's workflows whose `status` shows a step parked by a service's refusal."""
        found: dict[str, dict[str, Any]] = {}
        for workflow_id in sorted(set(self.workflow_ids)):
            try:
                parked = (await self.status(workflow_id)).get("parked")
            except Exception as exc:  # a workflow that does not answer is reported as such
                print(f"{workflow_id}: status not answered: {exc}", file=sys.stderr)
                continue
            if parked:
                found[workflow_id] = parked
        return found

    async def wait_for(self, scenario: str, what: str, check: Callable[[], Awaitable[bool]], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if await check():
                    say(scenario, what)
                    return
            except Exception:  # the workflow may not be started yet
                pass
            await asyncio.sleep(1)
        raise TimeoutError(f"{scenario}: gave up waiting for {what}")

    async def decide(self, scenario: str, complaint_id: str, decision: AcceptanceDecision) -> str:
        """The inspector's acceptance decision, once the complaint's workflow runs; its workflow id."""
        workflow_id = complaint_workflow_id(complaint_id)

        async def started() -> bool:
            return bool(await self.status(workflow_id))

        await self.wait_for(scenario, "workflow running, awaiting acceptance", started, 120)
        update_id = f"demo-accept-{uuid.uuid4().hex}"
        await self.retrying(
            scenario,
            Updates.DECIDE_ACCEPTANCE,
            lambda: self.client.get_workflow_handle(workflow_id).execute_update(
                Updates.DECIDE_ACCEPTANCE, decision, id=update_id
            ),
        )
        return workflow_id

    async def accept(self, scenario: str, complaint_id: str) -> str:
        workflow_id = await self.decide(
            scenario,
            complaint_id,
            AcceptanceDecision(decision=AcceptanceDecisionKind.ACCEPT, decided_by="inspector-130402"),
        )
        case_id = str((await self.retrying(scenario, "status", lambda: self.status(workflow_id)))["case_id"])
        self.workflow_ids.append(case_workflow_id(case_id))
        say(scenario, f"accepted; joined case {case_id}")
        return case_id

    async def update_case(self, case_id: str, update: str, arg: Any) -> dict[str, Any]:
        # An inspector acting a moment too early (the workflow is still recording the previous step) is
        # refused with a reason; like a person, the demo tries again shortly. Every try carries the same
        # update id, as the cases API's actions do: when an answer is lost (Temporal restarting), the retry
        # gets the first outcome instead of being refused for a step already taken.
        update_id = f"demo-{update}-{uuid.uuid4().hex}"
        result = await self.retrying(
            case_id,
            update,
            lambda: self.client.get_workflow_handle(case_workflow_id(case_id)).execute_update(
                update, arg, id=update_id
            ),
        )
        return dict(result)

    @staticmethod
    async def retrying(subject: str, what: str, call: Callable[[], Awaitable[Any]], patience: float = 180) -> Any:
        """`call()`, tried again for up to `patience` seconds: a step taken a moment too early is refused with
        a reason, and a call can meet Temporal restarting or too busy to answer (a connection error, a
        timeout). A restart of the Temporal server takes longer than a few quick tries, so the limit is time."""
        deadline = time.monotonic() + patience
        while True:
            try:
                return await call()
            except Exception as exc:
                if time.monotonic() >= deadline:
                    raise
                say(subject, f"{what} refused for now ({getattr(exc, 'cause', None) or exc}); trying again")
                await asyncio.sleep(2)

    async def case_stage(self, case_id: str) -> str:
        return str((await self.status(case_workflow_id(case_id))).get("stage"))

    async def timeline_has(self, case_id: str, word: str) -> bool:
        status = await self.status(case_workflow_id(case_id))
        return any(word in entry["text"] for entry in status.get("timeline", []))

    async def threshold_known(self, case_id: str) -> bool:
        return (await self.status(case_workflow_id(case_id))).get("threshold") is not None

    async def threshold_reached(self, case_id: str) -> bool:
        return bool((await self.status(case_workflow_id(case_id)))["threshold"]["reached"])

    async def verified(self, case_id: str, outcome: VerificationOutcome, **extra: Any) -> None:
        await self.wait_for(case_id, "case open for verification", lambda: self.stage_is(case_id, "verification"), 120)
        await self.update_case(
            case_id,
            Updates.RECORD_VERIFICATION,
            VerificationResult(outcome=outcome, verified_by="inspector-130402", **extra),
        )

    async def stage_is(self, case_id: str, stage: str) -> bool:
        return await self.case_stage(case_id) == stage

    def served(self, method: ServiceMethod) -> ServiceRecord:
        kind = EvidenceKind.RECEIPT if method is ServiceMethod.IN_PERSON else EvidenceKind.PHOTO
        return ServiceRecord(
            method=method,
            served_by="inspector-130402",
            evidence=[Evidence(kind=kind, ref=f"demo-{uuid.uuid4().hex[:8]}")],
        )

    # -- the paths -------------------------------------------------------------------------------------

    async def resolved(self, seed: int) -> None:
        name = "resolved"
        case_id = await self.accept(
            name,
            await self.file(
                name, complaint_body(seed, employer="邯郸市守信建筑劳务有限公司", workers=1, amount="8600", months=2)
            ),
        )
        await self.verified(case_id, VerificationOutcome.WAGE_ARREARS, confirmed_amount=Decimal("8600"))
        say(name, "verified: wage arrears confirmed; order to pay issued")
        await self.wait_for(name, "order waiting to be served", lambda: self.stage_is(case_id, "service"), 120)
        await self.update_case(case_id, Updates.RECORD_SERVICE, self.served(ServiceMethod.IN_PERSON))
        say(name, "order served in person (signed receipt)")
        await self.update_case(
            case_id,
            Updates.RECORD_PAYMENT,
            PaymentRecord(
                payment_id=f"pay-{uuid.uuid4().hex[:6]}",
                amount=Decimal("8600"),
                recorded_by="inspector-130402",
                evidence=[Evidence(kind=EvidenceKind.BANK_RECORD, ref="bank-transfer")],
            ),
        )
        await self.wait_for(
            name,
            "paid in full before the deadline: case closed as resolved",
            lambda: self.stage_is(case_id, "closed"),
            120,
        )

    async def refused(self, seed: int, *, workers: int, amount: str, name: str) -> None:
        case_id = await self.accept(
            name,
            await self.file(
                name,
                complaint_body(
                    seed, employer=f"邯郸市{name}拖欠建筑有限公司", workers=workers, amount=amount, months=4
                ),
            ),
        )
        await self.verified(
            case_id, VerificationOutcome.WAGE_ARREARS, confirmed_amount=Decimal(amount), confirmed_workers=workers
        )
        say(name, "verified: wage arrears confirmed; order to pay issued")
        await self.wait_for(name, "order waiting to be served", lambda: self.stage_is(case_id, "service"), 120)
        await self.update_case(case_id, Updates.RECORD_SERVICE, self.served(ServiceMethod.POSTING))
        say(name, "employer gone: order served by posting (photo); waiting for its deadline to pass…")
        await self.wait_for(name, "deadline passed unpaid: refusal", lambda: self.stage_is(case_id, "refusal"), 900)
        # The threshold is assessed after the compensation decision; the referral is proposed after the
        # sanctions, which may take a while when a service is slow or restarting.
        await self.wait_for(name, "criminal threshold assessed", functools.partial(self.threshold_known, case_id), 300)
        if not await self.retrying(name, "status", functools.partial(self.threshold_reached, case_id)):
            say(name, "below the criminal threshold: no referral to approve")
        else:
            await self.wait_for(
                name,
                "criminal referral proposed: the case team reports",
                functools.partial(self.timeline_has, case_id, "移送报告"),
                300,
            )
            await self.update_case(
                case_id,
                Updates.SUBMIT_REFERRAL_REPORT,
                ReferralReport(
                    team=["inspector-130402", "inspector-130402-b"],
                    facts="收到限期改正指令书后逾期未支付，用人单位负责人逃匿",
                    subjective_element=SubjectiveElement.ABSCONDED,
                    evidence=[Evidence(kind=EvidenceKind.PHOTO, ref=f"demo-{uuid.uuid4().hex[:8]}")],
                    submitted_by="inspector-130402",
                ),
            )
            await self.update_case(
                case_id, Updates.DECIDE_REFERRAL, ReferralDecisionRecord(approved=True, decided_by="bureau-head-130402")
            )
            say(name, "the bureau head approved the referral (批准移送)")
        # What the case's timeline should show next, and what to say when it does not within 30 seconds.
        for word, what, not_done in (
            ("加付赔偿金", "additional compensation decided", "no additional compensation was decided"),
            ("移送公安机关（", "criminal referral sent", "nothing was referred to the police"),
            ("失信", "blacklist procedure started", "the blacklist procedure did not start"),
            ("公布", "marked for publication", "the case was not marked for publication"),
        ):
            try:
                await self.wait_for(name, what, functools.partial(self.timeline_has, case_id, word), 30)
            except TimeoutError:
                say(name, f"{not_done} (not in the case's timeline after 30 s)")
        # Read with retries like every other step: Temporal may be restarting just as the path gets here.
        if await self.retrying(name, "status", lambda: self.timeline_has(case_id, "移送公安机关（")):
            await self.update_case(
                case_id,
                Updates.RECORD_POLICE_DECISION,
                PoliceDecisionRecord(
                    decision=PoliceDecision.CASE_OPENED, police_ref="邯公立〔2026〕88号", recorded_by="police"
                ),
            )
            say(name, "police opened a criminal case (立案)")

    async def handed_off(self, seed: int) -> None:
        name = "handed off"
        case_id = await self.accept(
            name,
            await self.file(
                name,
                complaint_body(seed, employer="邯郸市某总承包建设集团有限公司", workers=30, amount="260000", months=5),
            ),
        )
        await self.verified(case_id, VerificationOutcome.PROJECT_PAYMENT_DISPUTE, department="housing")
        say(name, "classified as a project-payment dispute; handed off to the housing department")
        rungs = [
            (LetterKind.HANDOFF, "handoff letter 交办函"),
            (LetterKind.REMINDER, "no answer: reminder 催办函"),
            (LetterKind.SUPERVISION, "still none: supervision 督办函"),
            (LetterKind.WARNING_LETTER, "still none: warning letter 警示函"),
            (LetterKind.ACCOUNTABILITY_RECOMMENDATION, "still none: accountability recommendation 问责建议函"),
            (LetterKind.ACCOUNTABILITY_TRANSFER, "still none: accountability transfer 问责移交单"),
        ]
        for kind, what in rungs:
            try:
                await self.wait_for(name, what, functools.partial(self.letter_issued, case_id, kind), 900)
            except TimeoutError:
                say(name, f"the ladder stopped before: {what}")
                return

    async def left_at_stages(self, seed: int) -> None:
        self.left = await leave_a_case_at_each_stage(self, seed, complaint_body)

    async def letter_issued(self, case_id: str, kind: LetterKind) -> bool:
        return kind.value in (await self.status(case_workflow_id(case_id))).get("letters", {})


async def main_async() -> int:
    clients = DATA_DIR / "development-clients.json"
    secrets = DATA_DIR / "development-secrets.json"
    if not clients.exists():
        print("No running stack found: start it with `ANXIN_WORKING_DAY_SECONDS=2 make run` first.", file=sys.stderr)
        return 1
    # The development secrets with the payload keys only of the data keys: the demo reads workflows; on the
    # cluster profile, the TLS files and credentials its engines ask for.
    for key, value in {
        **process_keys("demo", json.loads(secrets.read_text())),
        **development_transport_env(DATA_DIR),
    }.items():
        os.environ.setdefault(key, value)
    development = {c["client_id"]: c for c in json.loads(clients.read_text())}
    async with httpx.AsyncClient(timeout=30) as http:

        async def token_of(client_id: str) -> str:
            answer = await http.post(
                f"{ISSUER}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, development[client_id]["client_secret"]),
            )
            return str(answer.json()["access_token"])

        token, inspector_token = await token_of("clerk-130402"), await token_of("inspector-130402")
        client = await connect(CommonSettings())
        demo = Demo(client, http, token)
        seed = int(time.time()) % 10**6
        print("Filing the demo complaints; each path prints its progress.\n", flush=True)

        async def path(name: str, run: Awaitable[None]) -> None:
            try:
                await run
                say(name, "done")
            except Exception as exc:
                say(name, f"stopped: {type(exc).__name__}: {exc}")
                raise

        results: list[BaseException | None] = list(
            await asyncio.gather(
                path("resolved", demo.resolved(seed)),
                path("refused, referred", demo.refused(seed + 1, workers=12, amount="96000", name="refused, referred")),
                path("below threshold", demo.refused(seed + 2, workers=1, amount="3000", name="below threshold")),
                path("handed off", demo.handed_off(seed + 3)),
                path("left at each stage", demo.left_at_stages(seed + 4)),
                path("payroll stops", demo.payroll_stops(seed + 5, inspector_token)),
                return_exceptions=True,
            )
        )
        # No main path may end with a step parked by a service's refusal (it would wait for an operator).
        parked = await demo.parked_steps()
        try:
            people = demo_people(DATA_DIR, issuer_database_url())
            landed = {p.person_id: await sign_in(CONSOLE, p) for p in people}
        except Exception as exc:
            results.append(RuntimeError(f"signing in to the console: {type(exc).__name__}: {exc}"))
            people, landed = [], {}
    failures = [r for r in results if isinstance(r, BaseException)]
    for failure in failures:
        print(f"\n{type(failure).__name__}: {failure}", file=sys.stderr)
    for workflow_id, step in sorted(parked.items()):
        print(f"\n{workflow_id} ends parked: {step['step']} refused by its service: {step['message']}", file=sys.stderr)
        failures.append(RuntimeError(f"{workflow_id} parked"))
    if people:
        print("\n" + people_table(CONSOLE, people, landed))
        for stage, record_id in demo.left.items():
            print(f"  left at {stage:<13} {record_id}")
        if demo.project_id:
            print(f"  payroll stopped: {CONSOLE}/projects/{demo.project_id}")
    print(
        "\nDone. Look at any case in the console, with `anxin case show <complaint or case id>` or in the Temporal UI."
    )
    return 1 if failures else 0


def main() -> None:
    exit_program(asyncio.run(main_async()))


if __name__ == "__main__":
    main()
