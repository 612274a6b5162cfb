"""The departments as configuration: who receives handoffs and referrals, their contact, response deadline
and ladder settings, the bureau's document number prefixes, and the ladder against projects
(`[project_ladder]`, services/referrals/project_ladder_settings.py). Loaded from TOML into typed settings
once at start-up; a wrong file stops the process with a message naming the entry."""

from __future__ import annotations

import hashlib
import json
import tomllib
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from services.contracts.lifecycle import (
    DayUnit,
    DepartmentTerms,
    LadderRung,
    LetterKind,
    ReferralKind,
    handoff_letter,
)
from services.contracts.referrals_events import (
    DepartmentsConfigured,
    DirectoryEntry,
)
from services.referrals.project_ladder_settings import ProjectLadderSettings


class DepartmentKind(StrEnum):
    INDUSTRY_REGULATOR = "industry_regulator"  # 住建、交通运输、水利、市场监管、发改、行政审批、税务 …
    COUNTY_HRSS = "county_hrss"  # 县区人社局
    POLICE = "police"
    PROCURATORATE = "procuratorate"
    COURT = "court"
    ARBITRATION = "arbitration"
    LEGAL_AID = "legal_aid"


# The body that receives each kind of referral.
REFERRAL_RECEIVER: dict[ReferralKind, DepartmentKind] = {
    ReferralKind.POLICE: DepartmentKind.POLICE,
    ReferralKind.PROCURATORATE: DepartmentKind.PROCURATORATE,
    ReferralKind.ARBITRATION: DepartmentKind.ARBITRATION,
    ReferralKind.LEGAL_AID: DepartmentKind.LEGAL_AID,
}


# The kinds a case is handed off to (交办): the industry regulators and the county HRSS offices. The others
# receive referrals, not handoffs.
HANDOFF_RECEIVERS = frozenset({DepartmentKind.INDUSTRY_REGULATOR, DepartmentKind.COUNTY_HRSS})


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Config):
    office: str = Field(min_length=1)
    phone: str = ""
    address: str = ""


class RungSetting(_Config):
    kind: LetterKind
    wait_working_days: int = Field(ge=1)
    # Keys of `[bureau.escalation]` that receive a copy (抄送) of this rung's letter.
    copy_to: list[str] = Field(default_factory=list)


def default_ladder() -> list[RungSetting]:
    return [
        RungSetting(kind=LetterKind.REMINDER, wait_working_days=3),
        RungSetting(kind=LetterKind.SUPERVISION, wait_working_days=5),
        RungSetting(kind=LetterKind.WARNING_LETTER, wait_working_days=5, copy_to=["superior"]),
        RungSetting(
            kind=LetterKind.ACCOUNTABILITY_RECOMMENDATION, wait_working_days=5, copy_to=["superior", "discipline"]
        ),
        RungSetting(kind=LetterKind.ACCOUNTABILITY_TRANSFER, wait_working_days=10, copy_to=["discipline"]),
    ]


def _distinct_ladder(ladder: list[RungSetting]) -> list[RungSetting]:
    kinds = [r.kind for r in ladder]
    if LetterKind.HANDOFF in kinds:
        raise ValueError("the handoff letter itself is not a ladder rung")
    for kind in kinds:
        handoff_letter(kind)
    if len(kinds) != len(set(kinds)):
        raise ValueError("each letter kind may appear once on the ladder")
    return ladder


class AwardLimit(_Config):
    """The limit an arbitration body has to make its award, counted in calendar days from its acceptance
    (劳动争议调解仲裁法 art. 43: 45 days, extendable once by at most 15 with the chair's approval), and the
    ladder of follow-up letters once it has passed without an award."""

    days: int = Field(45, ge=1, le=180)
    extension_days: int = Field(15, ge=0, le=90)
    ladder: list[RungSetting] = Field(
        default_factory=lambda: [
            RungSetting(kind=LetterKind.REMINDER, wait_working_days=3),
            RungSetting(kind=LetterKind.SUPERVISION, wait_working_days=5),
        ]
    )

    _distinct = field_validator("ladder")(_distinct_ladder)


class Department(_Config):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,39}$")
    name: str = Field(min_length=2)
    kind: DepartmentKind
    county: str | None = Field(None, pattern=r"^\d{6}$")
    contact: Contact
    # Working days the department has to answer; 0: the same working day (legal-aid green channel).
    response_working_days: int | None = Field(None, ge=0, le=90)
    # Or calendar days, where the law counts days (arbitration: 5 days to accept, art. 29); the period's last
    # day, if a rest day, moves to the next working day. A department has one or the other.
    response_calendar_days: int | None = Field(None, ge=1, le=90)
    ladder: list[RungSetting] = Field(default_factory=default_ladder)
    # Arbitration only: the award limit after acceptance, followed up like the answer.
    award: AwardLimit | None = None

    _distinct = field_validator("ladder")(_distinct_ladder)

    @model_validator(mode="after")
    def _one_response_period(self) -> Department:
        if (self.response_working_days is None) == (self.response_calendar_days is None):
            raise ValueError(f"department {self.id}: give response_working_days or response_calendar_days (one)")
        if self.award is not None and self.kind is not DepartmentKind.ARBITRATION:
            raise ValueError(f"department {self.id}: only an arbitration body has an award limit")
        if self.kind in HANDOFF_RECEIVERS and self.response_period()[0] < 1:
            raise ValueError(f"department {self.id}: a department taking handoffs needs at least one day")
        return self

    def response_period(self) -> tuple[int, DayUnit]:
        """How long the department has to answer: days and their unit."""
        if self.response_calendar_days is not None:
            return self.response_calendar_days, DayUnit.CALENDAR
        assert self.response_working_days is not None
        return self.response_working_days, DayUnit.WORKING

    def rung(self, kind: LetterKind) -> RungSetting | None:
        return next((r for r in self.ladder if r.kind.value == kind.value), None)

    def terms(self) -> DepartmentTerms:
        """What the case workflow needs of a department it hands a case off to: its own deadlines."""
        days, unit = self.response_period()
        return DepartmentTerms(
            department=self.id,
            response_days=days,
            response_unit=unit,
            ladder=[LadderRung(kind=r.kind, wait_working_days=r.wait_working_days) for r in self.ladder],
        )


class Bureau(_Config):
    name: str
    office: str
    city: str
    prefixes: dict[LetterKind, str]
    escalation: dict[str, str] = Field(default_factory=dict)
    counties: dict[str, str] = Field(default_factory=dict)

    def county_name(self, code: str) -> str:
        return self.counties.get(code, code)

    @field_validator("prefixes")
    @classmethod
    def _every_kind(cls, prefixes: dict[LetterKind, str]) -> dict[LetterKind, str]:
        missing = [k.value for k in LetterKind if not prefixes.get(k)]
        if missing:
            raise ValueError(f"document number prefixes missing for: {', '.join(missing)}")
        if len(set(prefixes.values())) != len(prefixes):
            raise ValueError("each letter kind needs its own document number prefix")
        return prefixes


class DepartmentsConfig(_Config):
    bureau: Bureau
    departments: list[Department] = Field(min_length=1)
    # The letters an early warning of a project climbs while it stays open (四函两单 against projects).
    project_ladder: ProjectLadderSettings = Field(default_factory=ProjectLadderSettings)

    @model_validator(mode="after")
    def _consistent(self) -> DepartmentsConfig:
        ids = [d.id for d in self.departments]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"department ids must be unique: {', '.join(duplicates)}")
        for department in self.departments:
            for rung in [*department.ladder, *(department.award.ladder if department.award else [])]:
                unknown = [k for k in rung.copy_to if k not in self.bureau.escalation]
                if unknown:
                    raise ValueError(
                        f"department {department.id}: rung {rung.kind.value} copies to unknown "
                        f"[bureau.escalation] entries {unknown}"
                    )
        for kind in REFERRAL_RECEIVER.values():
            if not any(d.kind is kind for d in self.departments):
                raise ValueError(f"no department of kind {kind.value} is configured")
        unknown_bodies = sorted(self.project_ladder.escalation_keys() - set(self.bureau.escalation))
        if unknown_bodies:
            raise ValueError(f"project_ladder: unknown [bureau.escalation] entries {unknown_bodies}")
        return self

    def directory(self) -> DepartmentsConfigured:
        """What other services need to know of the departments, with a hash that changes with it."""
        entries = [
            DirectoryEntry(
                id=d.id, name=d.name, kind=d.kind.value, county=d.county, takes_handoffs=d.kind in HANDOFF_RECEIVERS
            )
            for d in self.departments
        ]
        canonical = json.dumps([e.model_dump() for e in entries], sort_keys=True, ensure_ascii=False)
        return DepartmentsConfigured(config_sha256=hashlib.sha256(canonical.encode()).hexdigest(), departments=entries)

    def get(self, department_id: str) -> Department | None:
        return next((d for d in self.departments if d.id == department_id), None)

    def receiver(self, target: ReferralKind) -> Department:
        """The body that receives referrals of `target` (the first configured of its kind)."""
        kind = REFERRAL_RECEIVER[target]
        return next(d for d in self.departments if d.kind is kind)


class DepartmentsConfigError(ValueError):
    pass


def load_departments(path: Path) -> DepartmentsConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DepartmentsConfigError(f"{path}: cannot read the departments file: {exc}") from exc
    try:
        return DepartmentsConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise DepartmentsConfigError(f"{path}: {problems}") from None
