"""The lifecycle's activities: classes constructed with their dependencies, one method per stable name,
each implementing its typed declaration in `services/contracts/lifecycle/activities.py` (`implements`: the
declaration's name, and mypy checks the argument and result types against it).

- `CalendarActivities`: working-day deadlines (the calendar lives here, not in workflow code).
- `CaseLinkActivities`: a complaint joins its case by signal-with-start on `case:<case id>`.
- `NotificationActivities`: messages to complainants through the SMS gateway.
- `ServiceActivities`: commands to the owning services (cases, referrals, sanctions), each with the
  idempotency key the workflow derived from its id and the step.
"""

from __future__ import annotations

import logging

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from services.contracts.lifecycle import (
    CASE_WORKFLOW_TYPE,
    AgencyNotice,
    CompensationRequest,
    Deadline,
    DeadlineRequest,
    DepartmentTerms,
    DepartmentTermsRequest,
    DocumentRef,
    ForwardRequest,
    JoinCaseRequest,
    LetterRequest,
    Notification,
    OrderToPayRequest,
    ReferralRequest,
    ReferralSupplementRequest,
    SanctionRequest,
    Signals,
    WithdrawReferralRequest,
    case_workflow_id,
)
from services.contracts.lifecycle import activities as declared
from services.contracts.lifecycle.activities import implements
from services.contracts.process_reports import ProcessReport
from services.contracts.working_days import (
    CalendarNotCovered,
    PackageCalendar,
    compute_deadline,
    installed_package,
)
from workflows.clients import CasesApi, ReferralsApi, SanctionsApi, SmsGateway
from workflows.core import CALENDAR_NOT_COVERED

log = logging.getLogger(__name__)


class CalendarActivities:
    def __init__(self, package: PackageCalendar | None = None) -> None:
        self._package = package or installed_package()

    @implements(declared.compute_deadline)
    async def compute_deadline(self, request: DeadlineRequest) -> Deadline:
        try:
            deadline = compute_deadline(request, self._package)
        except CalendarNotCovered as err:
            raise ApplicationError(str(err), type=CALENDAR_NOT_COVERED, non_retryable=True) from err
        if deadline.provisional:
            subject = activity.info().workflow_id
            log.warning(
                "deadline computed on the fallback (weekdays less statutory holidays): the official calendar is missing",
                extra={"subject": subject, "deadline": request.name, "due_date": str(deadline.due_date)},
            )
        return deadline


class CaseLinkActivities:
    def __init__(self, client: Client) -> None:
        self._client = client

    @implements(declared.join_case)
    async def join_case(self, request: JoinCaseRequest) -> None:
        # Signal-with-start: starts the case workflow if it is not running, and in either case delivers
        # the member. The case workflow ignores a member it already has, so a retry changes nothing.
        await self._client.start_workflow(
            CASE_WORKFLOW_TYPE,
            request.case,
            id=case_workflow_id(request.case.case_id),
            task_queue=request.task_queue,
            start_signal=Signals.COMPLAINT_JOINED,
            start_signal_args=[request.member],
        )


class NotificationActivities:
    def __init__(self, gateway: SmsGateway) -> None:
        self._gateway = gateway

    @implements(declared.notify_complainant)
    async def notify_complainant(self, message: Notification) -> None:
        await self._gateway.send(message)


class ServiceActivities:
    def __init__(self, cases: CasesApi, referrals: ReferralsApi, sanctions: SanctionsApi) -> None:
        self._cases = cases
        self._referrals = referrals
        self._sanctions = sanctions

    @implements(declared.notify_agency)
    async def notify_agency(self, notice: AgencyNotice) -> None:
        await self._cases.notify_agency(notice)

    @implements(declared.report_process)
    async def report_process(self, report: ProcessReport) -> None:
        await self._cases.report_process(report)

    @implements(declared.forward_complaint)
    async def forward_complaint(self, request: ForwardRequest) -> DocumentRef:
        return await self._cases.forward_complaint(request)

    @implements(declared.issue_order_to_pay)
    async def issue_order_to_pay(self, request: OrderToPayRequest) -> DocumentRef:
        return await self._cases.issue_order_to_pay(request)

    @implements(declared.decide_additional_compensation)
    async def decide_additional_compensation(self, request: CompensationRequest) -> DocumentRef:
        return await self._cases.decide_additional_compensation(request)

    @implements(declared.issue_letter)
    async def issue_letter(self, request: LetterRequest) -> DocumentRef:
        return await self._referrals.issue_letter(request)

    @implements(declared.make_referral)
    async def make_referral(self, request: ReferralRequest) -> DocumentRef:
        return await self._referrals.make_referral(request)

    @implements(declared.withdraw_referral)
    async def withdraw_referral(self, request: WithdrawReferralRequest) -> None:
        await self._referrals.withdraw_referral(request)

    @implements(declared.send_referral_supplement)
    async def send_referral_supplement(self, request: ReferralSupplementRequest) -> DocumentRef:
        return await self._referrals.send_referral_supplement(request)

    @implements(declared.department_terms)
    async def department_terms(self, request: DepartmentTermsRequest) -> DepartmentTerms:
        return await self._referrals.department_terms(request)

    @implements(declared.start_blacklist_procedure)
    async def start_blacklist_procedure(self, request: SanctionRequest) -> DocumentRef:
        return await self._sanctions.start_blacklist_procedure(request)

    @implements(declared.mark_for_publication)
    async def mark_for_publication(self, request: SanctionRequest) -> DocumentRef:
        return await self._sanctions.mark_for_publication(request)

    @implements(declared.report_correction)
    async def report_correction(self, request: SanctionRequest) -> DocumentRef:
        return await self._sanctions.report_correction(request)
