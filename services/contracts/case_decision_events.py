"""The cases service's events for the requests that wait on a second person, and for the confirmations of a
date or of totals: an extension of the investigation limit requested, approved or refused; the case team's
criminal referral report and the bureau head's decision; a proposed withdrawal of the police referral and its
decision; a provisional deadline's date confirmed; the case's totals confirmed anew. Each is an inspector's
action (`ActionRecorded`, in `cases_events.py`, with the process right after it); the people's reasons and
notes are `AgencyText`, kept by the service and never published. All version 1, on `Topics.CASES`."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from services.contracts.cases_events import ActionRecorded, EvidenceView
from services.contracts.events import AgencyText


class ExtensionRequested(ActionRecorded):
    """An extension of the investigation period was requested."""

    TYPE: ClassVar[str] = "case.extension_requested"
    VERSION: ClassVar[int] = 1

    request_id: str
    reason: AgencyText = None


class ExtensionApproved(ActionRecorded):
    """An extension of the investigation period was approved."""

    TYPE: ClassVar[str] = "case.extension_approved"
    VERSION: ClassVar[int] = 1

    request_id: str
    reason: AgencyText = None


class ExtensionRefused(ActionRecorded):
    """The city office refused a pending extension request: the investigation limit stands, and the county may
    ask again while it has not passed."""

    TYPE: ClassVar[str] = "case.extension_refused"
    VERSION: ClassVar[int] = 1

    request_id: str
    reason: AgencyText = None


class ReferralReportSubmitted(ActionRecorded):
    """The case team submitted its criminal referral report for the bureau head's approval."""

    TYPE: ClassVar[str] = "case.referral_report_submitted"
    VERSION: ClassVar[int] = 1

    team: list[str]
    subjective_element: str = Field(description="transferred_assets, absconded or able_but_refused.")
    evidence: list[EvidenceView] = Field(default_factory=list)
    # Added later (events recorded before it read as without): what the bureau head reads before deciding.
    facts: str = Field("", description="The facts of the suspected offence, as the case team wrote them.")


class ReferralApprovalDecided(ActionRecorded):
    """The bureau head approved the criminal referral, or refused it with the reason."""

    TYPE: ClassVar[str] = "case.referral_approval_decided"
    VERSION: ClassVar[int] = 1

    approved: bool
    reason: AgencyText = None


class ReferralWithdrawalProposed(ActionRecorded):
    """An inspector proposed to withdraw the police referral: the wages and the additional compensation are
    both paid, and the police have not decided."""

    TYPE: ClassVar[str] = "case.referral_withdrawal_proposed"
    VERSION: ClassVar[int] = 1

    reason: AgencyText = None


class ReferralWithdrawalDecided(ActionRecorded):
    """The bureau head approved the proposed withdrawal of the police referral, or refused it with the reason."""

    TYPE: ClassVar[str] = "case.referral_withdrawal_decided"
    VERSION: ClassVar[int] = 1

    approved: bool
    reason: AgencyText = None


class DeadlineConfirmed(ActionRecorded):
    """An inspector confirmed the date of a provisional deadline (one computed without the official calendar
    for its year), so that its expiry may have its legal consequences."""

    TYPE: ClassVar[str] = "case.deadline_confirmed"
    VERSION: ClassVar[int] = 1

    deadline: str
    note: AgencyText = None


class FiguresConfirmed(ActionRecorded):
    """The inspector confirmed the case's totals anew after a complaint joined the verified case."""

    TYPE: ClassVar[str] = "case.figures_confirmed"
    VERSION: ClassVar[int] = 1

    confirmed_amount: Decimal
    confirmed_workers: int
    notes: AgencyText = None


class CaseDecisionEvents:
    """Event type names of this module on `Topics.CASES` (each the `TYPE` of its class)."""

    EXTENSION_REQUESTED = ExtensionRequested.TYPE
    EXTENSION_APPROVED = ExtensionApproved.TYPE
    EXTENSION_REFUSED = ExtensionRefused.TYPE
    REFERRAL_REPORT_SUBMITTED = ReferralReportSubmitted.TYPE
    REFERRAL_APPROVAL_DECIDED = ReferralApprovalDecided.TYPE
    REFERRAL_WITHDRAWAL_PROPOSED = ReferralWithdrawalProposed.TYPE
    REFERRAL_WITHDRAWAL_DECIDED = ReferralWithdrawalDecided.TYPE
    DEADLINE_CONFIRMED = DeadlineConfirmed.TYPE
    FIGURES_CONFIRMED = FiguresConfirmed.TYPE
