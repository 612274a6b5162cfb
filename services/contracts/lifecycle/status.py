"""Deadlines, the timeline, and what the workflows answer to the status query."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from services.contracts.lifecycle._model import _Model
from services.contracts.lifecycle.configuration import CalendarConfig
from services.contracts.lifecycle.enums import (
    CaseStage,
    Classification,
    ClosureReason,
    ComplaintStage,
    DayUnit,
    PoliceDecision,
    Satisfaction,
    Status,
    VerificationOutcome,
)

# ---------------------------------------------------------------------------------------------------------
# Deadlines and timeline
# ---------------------------------------------------------------------------------------------------------


class DeadlineRequest(_Model):
    name: str
    legal_start: datetime = Field(description="The legal instant the period counts from.")
    wall_start: datetime = Field(description="Workflow time when the timer starts (compressed clock).")
    amount: int = Field(ge=0)
    unit: DayUnit
    calendar: CalendarConfig
    working_day_seconds: float = Field(0.0, ge=0)


class Deadline(_Model):
    name: str
    legal_start: datetime
    amount: int
    unit: DayUnit
    due_date: date = Field(description="The last legal day of the period (China Standard Time).")
    due_at: datetime = Field(description="End of the due date, the legal instant the period expires.")
    fire_at: datetime = Field(description="When the timer fires: due_at, or earlier on a compressed clock.")
    provisional: bool = Field(False, description="Computed on the fallback (weekdays less statutory holidays) for some dates.")
    calendar_note: str | None = None
    outcome: Literal["pending", "met", "expired", "superseded"] = "pending"


class TimelineEntry(_Model):
    at: datetime = Field(description="Legal instant of the event (on a compressed clock: the legal date).")
    kind: str
    text: str = Field(description="Plain-language description (Chinese), with identifiers only.")


# ---------------------------------------------------------------------------------------------------------
# Query results
# ---------------------------------------------------------------------------------------------------------


class ComplaintStatus(_Model):
    complaint_id: str
    case_id: str
    county: str
    stage: ComplaintStage
    status: Status
    overdue: bool
    deadlines: dict[str, Deadline]
    next_deadline: datetime | None
    case_stage: CaseStage | None
    closure_reason: ClosureReason | None
    satisfaction: Satisfaction | None
    timeline: list[TimelineEntry]


class ThresholdAssessment(_Model):
    reached: bool
    basis: str
    outstanding: Decimal
    workers: int


class CaseStatus(_Model):
    case_id: str
    county: str
    stage: CaseStage
    status: Status
    classification: Classification | None
    outcome: VerificationOutcome | None
    members: list[str]
    workers: int
    amount_owed: Decimal
    amount_paid: Decimal
    outstanding: Decimal
    deadlines: dict[str, Deadline]
    next_deadline: datetime | None
    investigation_overdue: bool
    extension_approved: bool
    overdue: bool = Field(False, description="services/contracts/process_reports.py `is_overdue`.")
    letters: dict[str, str] = Field(description="Letter kind -> document id, in the order issued.")
    order_id: str | None
    served: bool
    threshold: ThresholdAssessment | None
    compensation_decision_id: str | None
    referrals: dict[str, str] = Field(description="Referral target -> referral id.")
    police_referral_withdrawn: bool
    police_decision: PoliceDecision | None
    blacklist_procedure_id: str | None
    publication_id: str | None
    closure_reason: ClosureReason | None
    timeline: list[TimelineEntry]
