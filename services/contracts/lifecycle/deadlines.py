"""A deadline: what the calendar activity is asked (`DeadlineRequest`) and what it answers (`Deadline`), kept in
a workflow's state under the deadline's name."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from services.contracts.lifecycle._model import _Model
from services.contracts.lifecycle.configuration import CalendarConfig
from services.contracts.lifecycle.enums import DayUnit


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
    provisional: bool = Field(
        False, description="Computed on the fallback (weekdays less statutory holidays) for some dates."
    )
    calendar_note: str | None = None
    outcome: Literal["pending", "met", "expired", "superseded"] = "pending"
