"""The vocabulary of the lifecycle: stages, decisions, outcomes, closure reasons, letters and units."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    OPEN = "open"  # being handled
    CLOSED = "closed"  # closed with a reason; the complainant's call-back may still be pending
    COMPLETED = "completed"  # nothing left to do


class ComplaintStage(StrEnum):
    AWAITING_ACCEPTANCE = "awaiting_acceptance"  # 受理: 5 working days
    AWAITING_INFORMATION = "awaiting_information"  # 补正
    IN_CASE = "in_case"  # accepted; the case workflow investigates
    CALLBACK = "callback"  # closed; 回访 pending
    DONE = "done"


class CaseStage(StrEnum):
    VERIFICATION = "verification"  # 核实 and classification
    HANDOFF = "handoff"  # 交办 to a department, with its escalation ladder
    SERVICE = "service"  # order to pay issued, waiting to be served (送达)
    PAYMENT = "payment"  # order served, its deadline running
    REFUSAL = "refusal"  # deadline passed unpaid: compensation, referral, blacklist, publication
    CLOSED = "closed"


class AcceptanceDecisionKind(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    REQUEST_MORE_INFO = "request_more_info"
    FORWARD = "forward"


class RejectionReason(StrEnum):
    VIOLATION_TOO_OLD = "violation_too_old"  # older than the 2-year limit
    NOT_LABOUR_INSPECTION_MATTER = "not_labour_inspection_matter"
    OTHER = "other"


class VerificationOutcome(StrEnum):
    WAGE_ARREARS = "wage_arrears"
    PROJECT_PAYMENT_DISPUTE = "project_payment_dispute"
    QUANTITY_DISPUTE = "quantity_dispute"
    LABOUR_DISPUTE = "labour_dispute"
    UNFOUNDED = "unfounded"
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"
    ALREADY_PAID = "already_paid"
    FORWARDED = "forwarded"
    # An early-warning case no complaint joined: the inspection found no wages owed (核查未发现欠薪); it closes
    # with the reason of the same name (services/contracts/lifecycle/case_origin.py).
    NO_ARREARS_FOUND = "no_arrears_found"


class Classification(StrEnum):
    """The track a verified case follows (search attribute `AnxinClassification`)."""

    WAGE_ARREARS = "wage_arrears"  # order to pay and, on refusal, escalation
    NON_WAGE_DISPUTE = "non_wage_dispute"  # handoff to the responsible department
    ARBITRATION = "arbitration"  # labour dispute: referred to arbitration
    NO_VIOLATION = "no_violation"  # unfounded, no arrears found, or already paid
    ADMINISTRATIVE = "administrative"  # duplicate, withdrawn, forwarded


CLASSIFICATION_OF: dict[VerificationOutcome, Classification] = {
    VerificationOutcome.WAGE_ARREARS: Classification.WAGE_ARREARS,
    VerificationOutcome.PROJECT_PAYMENT_DISPUTE: Classification.NON_WAGE_DISPUTE,
    VerificationOutcome.QUANTITY_DISPUTE: Classification.NON_WAGE_DISPUTE,
    VerificationOutcome.LABOUR_DISPUTE: Classification.ARBITRATION,
    VerificationOutcome.UNFOUNDED: Classification.NO_VIOLATION,
    VerificationOutcome.ALREADY_PAID: Classification.NO_VIOLATION,
    VerificationOutcome.DUPLICATE: Classification.ADMINISTRATIVE,
    VerificationOutcome.WITHDRAWN: Classification.ADMINISTRATIVE,
    VerificationOutcome.FORWARDED: Classification.ADMINISTRATIVE,
    VerificationOutcome.NO_ARREARS_FOUND: Classification.NO_VIOLATION,
}


class ClosureReason(StrEnum):
    """Why a complaint or a case was closed: a fixed list whose values are added to, never renamed."""

    PAID_IN_FULL = "paid_in_full"  # resolved: wages paid after the order
    REJECTED = "rejected"
    FORWARDED = "forwarded"
    INFORMATION_NOT_SUPPLIED = "information_not_supplied"
    UNFOUNDED = "unfounded"
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"
    ALREADY_PAID = "already_paid"
    HANDED_OFF = "handed_off"  # the responsible department answered the handoff
    REFERRED_TO_ARBITRATION = "referred_to_arbitration"
    REFERRED_TO_POLICE = "referred_to_police"
    ADMINISTRATIVE_DECISION = "administrative_decision"  # compensation/decision issued, enforcement elsewhere
    MERGED = "merged"  # its complaints moved to another case's process (a merge before verification)
    # An early-warning case the inspection found no wages owed in (核查未发现欠薪): nobody complained, so it is not
    # "unfounded". Case workflows that verified before this reason existed closed such a case as `unfounded`.
    NO_ARREARS_FOUND = "no_arrears_found"


# Verification outcomes that close the case at once, and with which reason.
CLOSING_OUTCOMES: dict[VerificationOutcome, ClosureReason] = {
    VerificationOutcome.UNFOUNDED: ClosureReason.UNFOUNDED,
    VerificationOutcome.DUPLICATE: ClosureReason.DUPLICATE,
    VerificationOutcome.WITHDRAWN: ClosureReason.WITHDRAWN,
    VerificationOutcome.ALREADY_PAID: ClosureReason.ALREADY_PAID,
    VerificationOutcome.FORWARDED: ClosureReason.FORWARDED,
    VerificationOutcome.NO_ARREARS_FOUND: ClosureReason.NO_ARREARS_FOUND,
}


class LetterKind(StrEnum):
    """Every document the bureau issues through the referrals service: the handoff letter and the rungs of the
    overdue-handoff ladder (四函两单, local practice) that a case workflow asks for, and the forms and referral
    letters the service issues with a referral. The values are on the wire (events, API, stored rows, workflow
    histories): never rename one."""

    HANDOFF = "handoff"  # 交办函
    REMINDER = "reminder"  # 催办函
    SUPERVISION = "supervision"  # 督办函
    WARNING_LETTER = "warning_letter"  # 警示函
    ACCOUNTABILITY_RECOMMENDATION = "accountability_recommendation"  # 问责建议函
    ACCOUNTABILITY_TRANSFER = "accountability_transfer"  # 问责移交单
    ISSUE_TRANSFER = "issue_transfer"  # 问题移交单 (issued with the accountability transfer form)
    CRIMINAL_REFERRAL = "criminal_referral"  # 涉嫌犯罪案件移送书
    PROCURATORATE_REQUEST = "procuratorate_request"  # 商请提前介入函
    ARBITRATION_REFERRAL = "arbitration_referral"  # 仲裁速裁转办单
    LEGAL_AID_REFERRAL = "legal_aid_referral"  # 法律援助转介函
    SUPPLEMENTARY_NOTICE = "supplementary_notice"  # 补充材料函 (to a body a case was referred to)


# The letters of a handoff: the handoff letter and its ladder. These are the only letters a case workflow asks
# for by kind (a ladder configuration naming any other is refused); the others come with a referral.
HANDOFF_LETTERS: frozenset[LetterKind] = frozenset(
    {
        LetterKind.HANDOFF,
        LetterKind.REMINDER,
        LetterKind.SUPERVISION,
        LetterKind.WARNING_LETTER,
        LetterKind.ACCOUNTABILITY_RECOMMENDATION,
        LetterKind.ACCOUNTABILITY_TRANSFER,
    }
)


def handoff_letter(kind: LetterKind) -> LetterKind:
    """`kind` when it is a letter of a handoff, else ValueError (for the models that name one)."""
    if kind not in HANDOFF_LETTERS:
        raise ValueError(f"{kind.value} is not a letter of a handoff: the other documents come with a referral")
    return kind


class ServiceMethod(StrEnum):
    IN_PERSON = "in_person"  # 直接送达: signed receipt
    POSTING = "posting"  # 张贴送达: posted at the site or office, with photo or video


class EvidenceKind(StrEnum):
    RECEIPT = "receipt"
    PHOTO = "photo"
    VIDEO = "video"
    BANK_RECORD = "bank_record"
    SIGNED_STATEMENT = "signed_statement"
    OTHER = "other"


class ReferralKind(StrEnum):
    """Every body a case is referred to. A case workflow refers to arbitration, the police and the
    procuratorate; the referrals service also refers to legal aid on its own. The values are on the wire."""

    POLICE = "police"
    PROCURATORATE = "procuratorate"  # request for early involvement (提前介入)
    ARBITRATION = "arbitration"
    LEGAL_AID = "legal_aid"


class SanctionKind(StrEnum):
    BLACKLIST_PROCEDURE = "blacklist_procedure"
    PUBLICATION = "publication"
    CORRECTION = "correction"  # wages paid after refusal


class ListingGround(StrEnum):
    """Why an employer may be listed (人社部令第45号 art. 5): after an unpaid order to pay, either …"""

    CRIMINAL_THRESHOLD = "criminal_threshold"  # … the arrears reach the refusal-to-pay offence's figure
    MASS_INCIDENT = "mass_incident"  # … or caused a mass or extreme incident


class PoliceDecision(StrEnum):
    CASE_OPENED = "case_opened"  # 立案
    DECLINED = "declined"  # 不予立案


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"
    NOT_REACHED = "not_reached"


class PaymentPurpose(StrEnum):
    """What an employer's payment settles: the wages owed, or the additional compensation (加付赔偿金) decided
    after the refusal (劳动合同法 art. 85). Only wages count against the amount owed."""

    WAGES = "wages"
    COMPENSATION = "compensation"


class SubjectiveElement(StrEnum):
    """What shows the employer meant not to pay (拒不支付劳动报酬罪, 刑法 art. 276-1 and 法释〔2013〕3号 art. 2):
    the case team names one, with evidence, in its referral report."""

    TRANSFERRED_ASSETS = "transferred_assets"  # 转移财产
    ABSCONDED = "absconded"  # 逃匿
    ABLE_BUT_REFUSED = "able_but_refused"  # 有能力支付而不支付


class Office(StrEnum):
    """Recipients of internal notices."""

    INSPECTOR = "inspector"  # the county inspector handling the complaint or case
    BUREAU_HEAD = "bureau_head"  # the bureau's head (正职负责人), who approves a criminal referral
    SUPERVISING_OFFICE = "supervising_office"  # 根治欠薪办
    DEPARTMENT = "department"  # the department a case was handed off to


class DayUnit(StrEnum):
    WORKING = "working"
    CALENDAR = "calendar"
