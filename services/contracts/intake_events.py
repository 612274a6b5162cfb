"""The events the intake service publishes on `Topics.INTAKE_COMPLAINTS`.

Every envelope's `subject` is the complaint id (an employer link's: the employer ref of the name it links).
A complaint's event carries the facts its case is built from and keyed references to the complainant
(`person_ref`, `phone_ref`, made with the service's reference key) and a masked phone number: never a
worker's name, ID number, phone number or bank card in clear.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field

from services.contracts.events import AgencyText, EventPayload, Topics

# How a complaint came in: the worker's own form (the QR code on a site's poster), a clerk, a clue import.
Channel = Literal["qr_form", "clerk", "clue_import"]


class IntakeEvent(EventPayload):
    TOPIC: ClassVar[str] = Topics.INTAKE_COMPLAINTS


class ComplaintSubmitted(IntakeEvent):
    """A complaint was filed: the facts its case is built from, no personal data in clear."""

    TYPE: ClassVar[str] = "complaint.submitted"
    VERSION: ClassVar[int] = 1

    complaint_id: str
    channel: Channel
    site_id: str | None = Field(description="The registered site the poster named, if the form was opened from one.")
    county_code: str = Field(description="County code (行政区划代码), e.g. '130402'.")
    project_name: str
    employer_name: str = Field(description="As the complainant wrote it (a company, not a person).")
    employer_name_key: str = Field(description="The employer's name in normal form: what a case is matched on.")
    employer_credit_code: str | None = Field(description="Unified social credit code (统一社会信用代码), if given.")
    # Added later, with defaults: complaints published before carry neither and keep the case they had.
    employer_matched_credit_code: str | None = Field(
        None,
        description="For an employer named without a credit code: the code intake's employer register holds "
        "for the same normalised name in the county (services/contracts/cases.py "
        "`identify_employer`); the complaint's case is grouped by it.",
    )
    employer_match: Literal["linked", "learnt"] | None = Field(
        None, description="How the matched code was found: an inspector's link, or complaints that gave both."
    )
    period_start: date = Field(description="First day of the period whose wages are owed.")
    period_end: date = Field(description="Last day of the period whose wages are owed.")
    amount_owed: Decimal = Field(description="Wages owed as claimed, in yuan.")
    workers_affected: int
    confidential: bool = Field(description="The complainant asked that the employer not learn who complained.")
    stale_for_rejection: bool = Field(
        description="The period ended more than two years ago (accepted, then rejected in writing)."
    )
    person_ref: str = Field(description="Keyed reference of the complainant's ID number.")
    phone_ref: str = Field(description="Keyed reference of the complainant's phone: what SMS notices are sent to.")
    phone_masked: str = Field(description="The phone number masked, e.g. 139****5678.")
    evidence_count: int = Field(description="Files attached to the complaint (kept by intake).")
    submitted_at: datetime


class EmployerLinked(IntakeEvent):
    """An inspector linked an employer named without a credit code to a credit code (one county): complaints
    naming it by that name from now on join the credit code's cases. Keyed by the name's employer ref.
    Complaints already grouped under the name stay where they are (the cases service merges cases). The
    inspector's reason stays in intake's `employer_links` (the `POST /v1/employers/links` answer shows it)."""

    TYPE: ClassVar[str] = "employer.linked"
    VERSION: ClassVar[int] = 1

    county_code: str
    employer_name: str = Field(description="The name as the inspector wrote it (a company, not a person).")
    employer_name_key: str = Field(description="The name in normal form: what is matched.")
    name_ref: str = Field(description="The employer ref complaints naming it by name alone had (E-N…).")
    credit_code: str
    employer_ref: str = Field(description="The employer ref complaints naming it now get (E-<credit code>).")
    linked_by: str = Field(description="The inspector's client id.")
    reason: AgencyText = None
    linked_at: datetime


class IntakeEvents:
    """Event type names on `Topics.INTAKE_COMPLAINTS`."""

    COMPLAINT_SUBMITTED = ComplaintSubmitted.TYPE
    EMPLOYER_LINKED = EmployerLinked.TYPE
