"""The sanctions service's events of joint interviews (联合约谈) of employers with repeated wage arrears.

On `Topics.SANCTIONS`, subject the interview id (an interview concerns several cases). Payloads carry ids,
the employer (a company) by reference, name and credit code, department ids, dates and amounts; the notes
and the text of commitments are the agencies' own and stay in the service (they may name people). Never a
worker's data. Pure: pydantic only.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from services.contracts.events import EventPayload, Topics


class InterviewEvent(EventPayload):
    TOPIC: ClassVar[str] = Topics.SANCTIONS


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InvitationLetter(_Model):
    invitee: str = Field(description="'employer' or the invited department's id (the referrals directory's).")
    document_id: str
    document_number: str
    sha256: str


class InterviewScheduled(InterviewEvent):
    """The city office scheduled a joint interview of an employer; an invitation letter went to each invitee."""

    TYPE: ClassVar[str] = "interview.scheduled"
    VERSION: ClassVar[int] = 1

    interview_id: str
    employer_ref: str
    employer_name: str
    credit_code: str | None
    counties: list[str]
    case_ids: list[str]
    amount_owed: Decimal
    scheduled_for: datetime
    departments: list[str]
    letters: list[InvitationLetter]


class CommitmentTerms(_Model):
    n: int = Field(description="The commitment's number in the interview, from 1.")
    amount: Decimal | None = Field(description="The amount the employer undertook to pay, if any.")
    due_date: date | None


class InterviewHeld(InterviewEvent):
    """The interview was held: who came and the commitments made (their text stays in the service)."""

    TYPE: ClassVar[str] = "interview.held"
    VERSION: ClassVar[int] = 1

    interview_id: str
    employer_ref: str
    employer_attended: bool
    departments_attended: list[str]
    departments_absent: list[str]
    commitments: list[CommitmentTerms]
    held_at: datetime


class _CommitmentOutcome(InterviewEvent):
    interview_id: str
    employer_ref: str
    n: int
    amount: Decimal | None
    due_date: date | None
    recorded_at: datetime


class CommitmentKept(_CommitmentOutcome):
    """A commitment made at an interview was kept."""

    TYPE: ClassVar[str] = "interview.commitment_kept"
    VERSION: ClassVar[int] = 1


class CommitmentBroken(_CommitmentOutcome):
    """A commitment made at an interview was broken: a fact the blacklist criteria may weigh later."""

    TYPE: ClassVar[str] = "interview.commitment_broken"
    VERSION: ClassVar[int] = 1


class InterviewEvents:
    """Event type names of interviews on `Topics.SANCTIONS` (each the `TYPE` of its class)."""

    SCHEDULED = InterviewScheduled.TYPE
    HELD = InterviewHeld.TYPE
    COMMITMENT_KEPT = CommitmentKept.TYPE
    COMMITMENT_BROKEN = CommitmentBroken.TYPE
