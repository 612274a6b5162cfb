"""The lifecycle configuration (defaults from domain.md §4), carried in every workflow input so runs replay
exactly: calendar, criminal thresholds, the periods of each stage, the handoff ladder, activity queues."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal, NamedTuple

from pydantic import AfterValidator, Field, field_validator, model_validator

from services.contracts.lifecycle._model import _Model
from services.contracts.lifecycle.enums import DayUnit, LetterKind, handoff_letter
from services.contracts.lifecycle.names import ACTIVITY_OWNERS
from services.contracts.owed_period import VIOLATION_LIMIT_YEARS


class CalendarYear(_Model):
    """One year's official calendar as announced by the State Council: public holidays and the make-up
    working days (调休) that fall on weekends. When present it replaces the package's data for that year.

    Whether an entry is plausibly the official one is checked where it enters, not here
    (services/contracts/official_calendar.py): this model is also decoded from recorded histories."""

    year: int = Field(ge=2000, le=2200)
    holidays: list[date] = Field(default_factory=list)
    make_up_workdays: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _dates_in_year(self) -> CalendarYear:
        for day in [*self.holidays, *self.make_up_workdays]:
            if day.year != self.year:
                raise ValueError(f"{day} is not in {self.year}")
        both = set(self.holidays) & set(self.make_up_workdays)
        if both:
            raise ValueError(f"days listed both as holiday and make-up working day: {sorted(both)}")
        return self


class CalendarConfig(_Model):
    years: list[CalendarYear] = Field(default_factory=list)
    # What to do with a date covered neither by `years` nor by the calendar package:
    # "weekdays": Monday-Friday less the public holidays fixed by law (no make-up working days), with a
    # logged warning and the deadline marked provisional;
    # "fail": refuse to compute (the workflow waits, visibly, for a calendar update).
    fallback: Literal["weekdays", "fail"] = "weekdays"

    @field_validator("years")
    @classmethod
    def _one_entry_per_year(cls, years: list[CalendarYear]) -> list[CalendarYear]:
        seen = [y.year for y in years]
        if len(seen) != len(set(seen)):
            raise ValueError("each year may be configured once")
        return years


class CriminalThreshold(_Model):
    """The province's figure for "数额较大" (法释〔2013〕3号 art. 3): either one worker owed at least
    `per_worker_amount` for at least `min_months_owed` months, or at least `min_workers` workers owed
    `aggregate_amount` in total."""

    per_worker_amount: Decimal = Field(gt=0)
    min_months_owed: int = Field(3, ge=1)
    min_workers: int = Field(10, ge=1)
    aggregate_amount: Decimal = Field(gt=0)


def default_criminal_thresholds() -> dict[str, CriminalThreshold]:
    # Provinces whose figures are confirmed (domain.md §4). Hebei's is not: a Hebei deployment must
    # configure it explicitly.
    return {
        "henan": CriminalThreshold(per_worker_amount=Decimal(8000), aggregate_amount=Decimal(40000)),
        "hunan": CriminalThreshold(per_worker_amount=Decimal(6000), aggregate_amount=Decimal(40000)),
        "guizhou": CriminalThreshold(per_worker_amount=Decimal(10000), aggregate_amount=Decimal(50000)),
        "liaoning": CriminalThreshold(per_worker_amount=Decimal(10000), aggregate_amount=Decimal(50000)),
    }


class Period(NamedTuple):
    """A period in working days, under the name its deadline has in a workflow's state."""

    name: str
    working_days: int


class AcceptanceConfig(_Model):
    decision_working_days: int = Field(5, ge=1)
    reminder_working_days_before: int = Field(1, ge=0)  # 0: no reminder
    more_info_wait_working_days: int = Field(10, ge=1)
    violation_limit_years: int = Field(VIOLATION_LIMIT_YEARS, ge=1)  # 劳动保障监察条例 art. 20

    def periods(self, round_: int) -> tuple[Period, Period | None]:
        """The acceptance decision's period of round `round_` (受理期限, counted again from the day the
        complainant completes what was asked for) and the inspector's reminder before it (None: no reminder).
        Both count from the round's start; the complaint workflow waits on them and the intake worker computes
        round 1's before it starts the workflow (services/contracts/acceptance_deadlines.py)."""
        suffix = "" if round_ == 1 else f"#{round_}"
        decision = Period(f"acceptance{suffix}", self.decision_working_days)
        before = self.reminder_working_days_before
        if not 0 < before < self.decision_working_days:
            return decision, None
        return decision, Period(f"acceptance{suffix}.reminder", self.decision_working_days - before)


class InvestigationConfig(_Model):
    limit_working_days: int = Field(60, ge=1)
    extension_working_days: int = Field(30, ge=1)
    warning_working_days_before: list[int] = Field(default_factory=lambda: [10, 3])

    @field_validator("warning_working_days_before")
    @classmethod
    def _positive(cls, values: list[int]) -> list[int]:
        if any(v < 1 for v in values):
            raise ValueError("warnings are given at least one working day before the limit")
        return sorted(set(values), reverse=True)


class LadderRung(_Model):
    """One rung of the overdue-handoff ladder: the letter issued, and how long the department then has
    before the next rung."""

    kind: Annotated[LetterKind, AfterValidator(handoff_letter)]
    wait_working_days: int = Field(ge=1)


def default_ladder() -> list[LadderRung]:
    return [
        LadderRung(kind=LetterKind.REMINDER, wait_working_days=3),
        LadderRung(kind=LetterKind.SUPERVISION, wait_working_days=5),
        LadderRung(kind=LetterKind.WARNING_LETTER, wait_working_days=5),
        LadderRung(kind=LetterKind.ACCOUNTABILITY_RECOMMENDATION, wait_working_days=5),
        LadderRung(kind=LetterKind.ACCOUNTABILITY_TRANSFER, wait_working_days=10),
    ]


class HandoffConfig(_Model):
    response_working_days: int = Field(10, ge=1)
    ladder: list[LadderRung] = Field(default_factory=default_ladder)

    @field_validator("ladder")
    @classmethod
    def _distinct_rungs(cls, ladder: list[LadderRung]) -> list[LadderRung]:
        kinds = [r.kind for r in ladder]
        if LetterKind.HANDOFF in kinds:
            raise ValueError("the handoff letter itself is not a ladder rung")
        if len(kinds) != len(set(kinds)):
            raise ValueError("each letter kind may appear once on the ladder")
        return ladder


class OrderConfig(_Model):
    pay_days: int = Field(7, ge=1)
    pay_unit: DayUnit = DayUnit.CALENDAR
    service_reminder_working_days: int = Field(3, ge=1)
    # 加付赔偿金: 50%-100% of the amount owed, set per decision; this is the rate proposed.
    additional_compensation_rate: Decimal = Field(Decimal("0.5"), ge=Decimal("0.5"), le=Decimal("1.0"))
    request_early_procuratorate: bool = True
    # A payment dated on or before the deadline but recorded after it: the refusal steps wait this many
    # working days after the deadline for such a record before they run (0: they run at once).
    late_record_grace_working_days: int = Field(1, ge=0)


class ReferralApprovalConfig(_Model):
    """A criminal referral goes out only on the bureau head's approval (国务院令第310号 art. 5: a case team
    of at least two writes the report; the head approves or refuses within 3 days)."""

    # The case team is reminded when its report is not in after this many working days.
    report_working_days: int = Field(3, ge=1)
    # The head's decision: a reminder at `reminder_days`, and at `decision_days` (art. 5: 3 days) the lapse
    # goes to the supervising office.
    reminder_days: int = Field(2, ge=1)
    decision_days: int = Field(3, ge=1)
    decision_unit: DayUnit = DayUnit.CALENDAR

    @model_validator(mode="after")
    def _reminder_first(self) -> ReferralApprovalConfig:
        if self.reminder_days >= self.decision_days:
            raise ValueError("the reminder comes before the decision is due")
        return self


class PublicationConfig(_Model):
    """The quarterly publication of major violations (人社部令第29号 art. 5): arrears of at least this amount
    are published whether or not they reach the criminal threshold (those referred to the judiciary are
    published whatever the amount). The case workflow marks such cases; the sanctions service drafts the
    quarter's list by the same figure."""

    large_arrears_amount: Decimal = Field(Decimal("100000"), gt=0)


class CallbackConfig(_Model):
    callback_working_days: int = Field(5, ge=1)
    # After the first period the inspector is reminded; after this many more it is recorded as missed.
    grace_working_days: int = Field(5, ge=1)


class ActivityQueues(_Model):
    """Task queue per activity owner; None means the workflow's own task queue (the lifecycle worker)."""

    notify: str | None = None
    cases: str | None = None
    referrals: str | None = None
    sanctions: str | None = None

    def for_activity(self, activity_name: str) -> str | None:
        owner = ACTIVITY_OWNERS.get(activity_name, "lifecycle")
        return None if owner == "lifecycle" else getattr(self, owner)


class LifecycleConfig(_Model):
    province: str = Field(description="Province whose criminal threshold applies, e.g. 'henan'.")
    acceptance: AcceptanceConfig = Field(default_factory=AcceptanceConfig)
    investigation: InvestigationConfig = Field(default_factory=InvestigationConfig)
    handoff: HandoffConfig = Field(default_factory=HandoffConfig)
    order: OrderConfig = Field(default_factory=OrderConfig)
    callback: CallbackConfig = Field(default_factory=CallbackConfig)
    publication: PublicationConfig = Field(default_factory=PublicationConfig)
    referral_approval: ReferralApprovalConfig = Field(default_factory=ReferralApprovalConfig)
    criminal_thresholds: dict[str, CriminalThreshold] = Field(default_factory=default_criminal_thresholds)
    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    # Compressed clock: one working (or calendar) day lasts this many seconds of wall time; 0 = real time.
    working_day_seconds: float = Field(0.0, ge=0)
    activity_queues: ActivityQueues = Field(default_factory=ActivityQueues)
    # Continue-as-new once the history holds this many events (or when the server suggests it).
    continue_as_new_after_events: int = Field(4000, ge=100)
    search_attributes: bool = True
    # A passed deadline computed without the official calendar for its year, whose expiry has legal
    # consequences (refusal to pay, closure for missing information), waits for the official calendar or an
    # inspector's confirmation. (Not on a compressed clock, whose legal dates run years ahead in minutes.)
    hold_provisional_expiry: bool = True

    @model_validator(mode="after")
    def _province_has_threshold(self) -> LifecycleConfig:
        if self.province not in self.criminal_thresholds:
            raise ValueError(
                f"no criminal threshold configured for province {self.province!r}; add it under criminal_thresholds"
            )
        return self

    @property
    def threshold(self) -> CriminalThreshold:
        return self.criminal_thresholds[self.province]
