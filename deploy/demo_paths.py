"""The demo's paths, each a complaint (or a project) walked from filing to its last step on a running stack, and
the made-up workers, employers and complaints they file: paid in time, refused above or below the criminal
threshold, handed off and left unanswered up the follow-up ladder, small complaints left at each stage
(`deploy/demo_console.py`) and a project whose payroll stops (`deploy/demo_projects.py`).

The steps they take are in `deploy/demo_steps.py`; `make demo` (`deploy/demo.py`) runs every path at once.
"""

from __future__ import annotations

import functools
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from stdnum.cn import ric, uscc
from temporalio.client import Client

from deploy.demo_console import leave_a_case_at_each_stage
from deploy.demo_projects import ProjectReader, payroll_stops
from deploy.demo_steps import DemoSteps, say
from services.contracts.cases import early_warning_case_id
from services.contracts.lifecycle import (
    Evidence,
    EvidenceKind,
    LetterKind,
    PaymentRecord,
    PoliceDecision,
    PoliceDecisionRecord,
    ReferralDecisionRecord,
    ReferralReport,
    ServiceMethod,
    SubjectiveElement,
    Updates,
    VerificationOutcome,
)


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


class Demo(DemoSteps):
    """The paths, taken with the steps of `DemoSteps`."""

    def __init__(self, client: Client, http: httpx.AsyncClient, token: str) -> None:
        super().__init__(client, http, token)
        # The complaints and cases left at a stage for the console (stage → id).
        self.left: dict[str, str] = {}
        self.project_id = ""  # the project whose payroll stopped

    async def payroll_stops(self, seed: int, inspector_token: str, city_token: str) -> None:
        name = "payroll stops"
        project_id = await payroll_stops(
            self.client,
            self.http,
            inspector_token,
            seed,
            say=functools.partial(say, name),
            credit_code=credit_code,
            id_number=id_number,
        )
        self.project_id = project_id
        inspector = ProjectReader(self.http, inspector_token)
        # The warning opens the project's early-warning case in the cases service (its general contractor's, on
        # the registered project) and starts the ladder of letters against the project in the referrals service.
        case_id = early_warning_case_id(credit_code(seed + 71), project_id)
        await self.wait_for(
            name, f"early-warning case {case_id} opened", lambda: self.stage_is(case_id, "verification"), 120
        )
        await self.wait_for(
            name,
            "警示函 to the general contractor (the ladder against the project)",
            inspector.first_letter(project_id),
            300,
        )
        await self.verified(
            case_id, VerificationOutcome.WAGE_ARREARS, confirmed_amount=Decimal("36000"), confirmed_workers=3
        )
        say(name, "inspector verified the warning: 3 workers owed 36000 yuan; order to pay issued")
        await self.wait_for(name, "order waiting to be served", lambda: self.stage_is(case_id, "service"), 120)
        await self.update_case(case_id, Updates.RECORD_SERVICE, self.served(ServiceMethod.IN_PERSON))
        await self.wait_for(name, "deadline passed unpaid: refusal", lambda: self.stage_is(case_id, "refusal"), 900)
        payout_id = await inspector.pay_from_the_deposit(case_id, project_id, amount="36000.00", workers=3)
        say(name, f"inspector decided to pay the workers from the project's wage deposit ({payout_id})")
        city = ProjectReader(self.http, city_token)
        await city.approve_and_pay(payout_id)
        say(name, "city office approved the payout; the bank paid the workers")
        await self.wait_for(name, "payout paid, recorded on the case", inspector.case_payout_paid(case_id), 120)
        await self.wait_for(name, "top-up of the deposit demanded", lambda: self._has_top_up_due(city, payout_id), 120)
        say(name, f"the general contractor is to top the deposit up by {await city.top_up_due(payout_id)}")

    @staticmethod
    async def _has_top_up_due(reader: ProjectReader, payout_id: str) -> bool:
        return await reader.top_up_due(payout_id) is not None

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
