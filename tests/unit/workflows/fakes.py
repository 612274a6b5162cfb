"""Stand-ins for the owning services and the SMS gateway, registered under the real activity names.

Each records what it was asked and answers a repeated idempotency key with the same document id, the way
the real services promise to, so tests can check that every letter, referral and listing exists once.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.contracts.lifecycle import (
    ActivityNames,
    AgencyNotice,
    CompensationRequest,
    DepartmentTerms,
    DepartmentTermsRequest,
    DocumentRef,
    ForwardRequest,
    LetterKind,
    LetterRequest,
    Notification,
    OrderToPayRequest,
    ReferralRequest,
    ReferralSupplementRequest,
    SanctionRequest,
    WithdrawReferralRequest,
)
from services.contracts.process_reports import ProcessReport


class FakeServices:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self._ids: dict[str, str] = {}
        # Activity names a service refuses for good (4xx) until removed from here.
        self.refusing: set[str] = set()
        self.reports: dict[str, dict[int, ProcessReport]] = {}
        # The referrals service's directory: departments with their own response days and ladder. One not in
        # it is answered `found=False` (the workflow keeps its own setting).
        self.directory: dict[str, DepartmentTerms] = {}

    def _document(self, name: str, request: Any, prefix: str) -> DocumentRef:
        self.calls.append((name, request))
        if name in self.refusing:
            raise ApplicationError(f"{name} refused: employer_ref unknown", type="ServiceRefused", non_retryable=True)
        key = request.idempotency_key
        if key not in self._ids:
            self._ids[key] = f"{prefix}-{len(self._ids) + 1}"
        return DocumentRef(id=self._ids[key])

    def requests(self, name: str) -> list[Any]:
        return [request for called, request in self.calls if called == name]

    def distinct(self, name: str) -> list[Any]:
        """Requests with distinct idempotency keys, in order: what the real service would have created."""
        seen: dict[str, Any] = {}
        for request in self.requests(name):
            seen.setdefault(request.idempotency_key, request)
        return list(seen.values())

    def letters(self) -> list[LetterKind]:
        return [r.kind for r in self.distinct(ActivityNames.ISSUE_LETTER)]

    def notices(self) -> list[str]:
        return [n.kind for n in self.distinct(ActivityNames.NOTIFY_AGENCY)]

    def key_counts(self) -> Counter[str]:
        return Counter(request.idempotency_key for _, request in self.calls)

    @activity.defn(name=ActivityNames.NOTIFY_AGENCY)
    async def notify_agency(self, notice: AgencyNotice) -> None:
        self._document(ActivityNames.NOTIFY_AGENCY, notice, "NOTICE")

    @activity.defn(name=ActivityNames.REPORT_PROCESS)
    async def report_process(self, report: ProcessReport) -> None:
        self.calls.append((ActivityNames.REPORT_PROCESS, report))
        self.reports.setdefault(report.workflow_id, {})[report.seq] = report

    def last_report(self, workflow_id: str) -> ProcessReport:
        """The report of the highest seq: what the ledger keeps of this workflow."""
        reports = self.reports[workflow_id]
        return reports[max(reports)]

    @activity.defn(name=ActivityNames.FORWARD_COMPLAINT)
    async def forward_complaint(self, request: ForwardRequest) -> DocumentRef:
        return self._document(ActivityNames.FORWARD_COMPLAINT, request, "FWD")

    @activity.defn(name=ActivityNames.ISSUE_ORDER_TO_PAY)
    async def issue_order_to_pay(self, request: OrderToPayRequest) -> DocumentRef:
        return self._document(ActivityNames.ISSUE_ORDER_TO_PAY, request, "ORDER")

    @activity.defn(name=ActivityNames.DECIDE_ADDITIONAL_COMPENSATION)
    async def decide_additional_compensation(self, request: CompensationRequest) -> DocumentRef:
        return self._document(ActivityNames.DECIDE_ADDITIONAL_COMPENSATION, request, "COMP")

    @activity.defn(name=ActivityNames.ISSUE_LETTER)
    async def issue_letter(self, request: LetterRequest) -> DocumentRef:
        return self._document(ActivityNames.ISSUE_LETTER, request, "LETTER")

    @activity.defn(name=ActivityNames.MAKE_REFERRAL)
    async def make_referral(self, request: ReferralRequest) -> DocumentRef:
        return self._document(ActivityNames.MAKE_REFERRAL, request, "REF")

    @activity.defn(name=ActivityNames.WITHDRAW_REFERRAL)
    async def withdraw_referral(self, request: WithdrawReferralRequest) -> None:
        self._document(ActivityNames.WITHDRAW_REFERRAL, request, "WDR")

    @activity.defn(name=ActivityNames.SEND_REFERRAL_SUPPLEMENT)
    async def send_referral_supplement(self, request: ReferralSupplementRequest) -> DocumentRef:
        return self._document(ActivityNames.SEND_REFERRAL_SUPPLEMENT, request, "SUPP")

    @activity.defn(name=ActivityNames.DEPARTMENT_TERMS)
    async def department_terms(self, request: DepartmentTermsRequest) -> DepartmentTerms:
        self.calls.append((ActivityNames.DEPARTMENT_TERMS, request))
        known = self.directory.get(request.department)
        return known or DepartmentTerms(department=request.department, found=False, response_days=0)

    @activity.defn(name=ActivityNames.START_BLACKLIST_PROCEDURE)
    async def start_blacklist_procedure(self, request: SanctionRequest) -> DocumentRef:
        return self._document(ActivityNames.START_BLACKLIST_PROCEDURE, request, "BL")

    @activity.defn(name=ActivityNames.MARK_FOR_PUBLICATION)
    async def mark_for_publication(self, request: SanctionRequest) -> DocumentRef:
        return self._document(ActivityNames.MARK_FOR_PUBLICATION, request, "PUB")

    @activity.defn(name=ActivityNames.REPORT_CORRECTION)
    async def report_correction(self, request: SanctionRequest) -> DocumentRef:
        return self._document(ActivityNames.REPORT_CORRECTION, request, "CORR")

    def activities(self) -> list[Any]:
        return [
            self.notify_agency,
            self.report_process,
            self.forward_complaint,
            self.issue_order_to_pay,
            self.decide_additional_compensation,
            self.issue_letter,
            self.make_referral,
            self.withdraw_referral,
            self.send_referral_supplement,
            self.department_terms,
            self.start_blacklist_procedure,
            self.mark_for_publication,
            self.report_correction,
        ]


class FakeSms:
    def __init__(self) -> None:
        self.messages: list[Notification] = []

    @activity.defn(name=ActivityNames.NOTIFY_COMPLAINANT)
    async def notify_complainant(self, message: Notification) -> None:
        self.messages.append(message)

    def templates(self, complaint_id: str | None = None) -> list[str]:
        seen: dict[str, str] = {}
        for m in self.messages:
            if complaint_id is None or m.complaint_id == complaint_id:
                seen.setdefault(m.idempotency_key, m.template)
        return list(seen.values())
