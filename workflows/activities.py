"""The lifecycle's activities: classes constructed with their dependencies, one method per stable name.

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
    ActivityNames,
    AgencyNotice,
    CompensationRequest,
    Deadline,
    DeadlineRequest,
    DocumentRef,
    ForwardRequest,
    JoinCaseRequest,
    LetterRequest,
    Notification,
    OrderToPayRequest,
    ReferralRequest,
    SanctionRequest,
    Signals,
    WithdrawReferralRequest,
    case_workflow_id,
)
from services.contracts.process_reports import ProcessReport
from services.contracts.working_days import (
    CalendarNotCovered,
    PackageCalendar,
    compute_deadline,
    installed_package,
)
from workflows.base import CALENDAR_NOT_COVERED
from workflows.clients import CasesApi, ReferralsApi, SanctionsApi, SmsGateway

log = logging.getLogger(__name__)


class CalendarActivities:
    def __init__(self, package: PackageCalendar | None = None) -> None:
        self._package = package or installed_package()

    @activity.defn(name=ActivityNames.COMPUTE_DEADLINE)
    async def compute_deadline(self, request: DeadlineRequest) -> Deadline:
        try:
            deadline = compute_deadline(request, self._package)
        except CalendarNotCovered as err:
            raise ApplicationError(str(err), type=CALENDAR_NOT_COVERED, non_retryable=True) from err
        if deadline.provisional:
            subject = activity.info().workflow_id
            log.warning(
                "deadline computed on the Monday-Friday fallback: the official calendar is missing",
                extra={"subject": subject, "deadline": request.name, "due_date": str(deadline.due_date)},
            )
        return deadline


class CaseLinkActivities:
    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn(name=ActivityNames.JOIN_CASE)
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

    @activity.defn(name=ActivityNames.NOTIFY_COMPLAINANT)
    async def notify_complainant(self, message: Notification) -> None:
        await self._gateway.send(message)


class ServiceActivities:
    def __init__(self, cases: CasesApi, referrals: ReferralsApi, sanctions: SanctionsApi) -> None:
        self._cases = cases
        self._referrals = referrals
        self._sanctions = sanctions

    @activity.defn(name=ActivityNames.NOTIFY_AGENCY)
    async def notify_agency(self, notice: AgencyNotice) -> None:
        await self._cases.notify_agency(notice)

    @activity.defn(name=ActivityNames.REPORT_PROCESS)
    async def report_process(self, report: ProcessReport) -> None:
        await self._cases.report_process(report)

    @activity.defn(name=ActivityNames.FORWARD_COMPLAINT)
    async def forward_complaint(self, request: ForwardRequest) -> DocumentRef:
        return await self._cases.forward_complaint(request)

    @activity.defn(name=ActivityNames.ISSUE_ORDER_TO_PAY)
    async def issue_order_to_pay(self, request: OrderToPayRequest) -> DocumentRef:
        return await self._cases.issue_order_to_pay(request)

    @activity.defn(name=ActivityNames.DECIDE_ADDITIONAL_COMPENSATION)
    async def decide_additional_compensation(self, request: CompensationRequest) -> DocumentRef:
        return await self._cases.decide_additional_compensation(request)

    @activity.defn(name=ActivityNames.ISSUE_LETTER)
    async def issue_letter(self, request: LetterRequest) -> DocumentRef:
        return await self._referrals.issue_letter(request)

    @activity.defn(name=ActivityNames.MAKE_REFERRAL)
    async def make_referral(self, request: ReferralRequest) -> DocumentRef:
        return await self._referrals.make_referral(request)

    @activity.defn(name=ActivityNames.WITHDRAW_REFERRAL)
    async def withdraw_referral(self, request: WithdrawReferralRequest) -> None:
        await self._referrals.withdraw_referral(request)

    @activity.defn(name=ActivityNames.START_BLACKLIST_PROCEDURE)
    async def start_blacklist_procedure(self, request: SanctionRequest) -> DocumentRef:
        return await self._sanctions.start_blacklist_procedure(request)

    @activity.defn(name=ActivityNames.MARK_FOR_PUBLICATION)
    async def mark_for_publication(self, request: SanctionRequest) -> DocumentRef:
        return await self._sanctions.mark_for_publication(request)

    @activity.defn(name=ActivityNames.REPORT_CORRECTION)
    async def report_correction(self, request: SanctionRequest) -> DocumentRef:
        return await self._sanctions.report_correction(request)
