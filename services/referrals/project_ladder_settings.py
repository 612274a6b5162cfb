"""The ladder against projects as configuration (`[project_ladder]` in departments.toml, beside the handoff
ladder's settings): which checks of the monitoring service's early warnings climb it, how long after a warning
its first letter comes, and its rungs — each a letter kind, whom it goes to, the working days it gives before
the next rung, and the bodies copied. Validated with the rest of the file at start-up (services/referrals/
departments.py checks the escalation bodies named here against `[bureau.escalation]`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.contracts.monitoring_events import WarningCheck
from services.contracts.referrals_events import LetterKind
from services.referrals.project_letter_rules import DEPARTMENT, GENERAL_CONTRACTOR, PROJECT_LETTER_KINDS


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectRungSetting(_Config):
    kind: LetterKind
    # `general_contractor`, `department` (the project's industry department) or a key of [bureau.escalation].
    to: str = Field(min_length=1)
    # The working days the letter gives before the next rung (the date it states).
    wait_working_days: int = Field(ge=1, le=90)
    # Keys of [bureau.escalation] that receive a copy (抄送).
    copy_to: list[str] = Field(default_factory=list)

    @field_validator("kind")
    @classmethod
    def _a_project_letter(cls, kind: LetterKind) -> LetterKind:
        if kind not in PROJECT_LETTER_KINDS:
            known = ", ".join(k.value for k in PROJECT_LETTER_KINDS)
            raise ValueError(f"{kind.value} is not a letter of the ladder against projects ({known})")
        return kind


def default_project_rungs() -> list[ProjectRungSetting]:
    """警示函 to the general contractor, 交办函 and 督办函 to the industry department, 问责建议函 about it, and the
    问题移交单 to the discipline inspection and supervision commission (the seed report's 四函两单; the waits are
    the handoff ladder's, to be confirmed by the bureau)."""
    return [
        ProjectRungSetting(kind=LetterKind.WARNING_LETTER, to=GENERAL_CONTRACTOR, wait_working_days=5),
        ProjectRungSetting(kind=LetterKind.HANDOFF, to=DEPARTMENT, wait_working_days=10),
        ProjectRungSetting(kind=LetterKind.SUPERVISION, to=DEPARTMENT, wait_working_days=5, copy_to=["superior"]),
        ProjectRungSetting(
            kind=LetterKind.ACCOUNTABILITY_RECOMMENDATION,
            to=DEPARTMENT,
            wait_working_days=5,
            copy_to=["superior", "discipline"],
        ),
        ProjectRungSetting(kind=LetterKind.ISSUE_TRANSFER, to="discipline", wait_working_days=10),
    ]


class ProjectLadderSettings(_Config):
    # The checks whose open warnings climb the ladder (all by default: each watches a part of the guarantee
    # system, 农民工工资支付保障制度).
    checks: list[WarningCheck] = Field(default_factory=lambda: list(WarningCheck))
    # Working days from the warning to the first letter: the time to put it right unprompted.
    first_wait_working_days: int = Field(3, ge=0, le=60)
    rungs: list[ProjectRungSetting] = Field(default_factory=default_project_rungs, min_length=1)

    @field_validator("rungs")
    @classmethod
    def _distinct(cls, rungs: list[ProjectRungSetting]) -> list[ProjectRungSetting]:
        kinds = [r.kind for r in rungs]
        if len(kinds) != len(set(kinds)):
            raise ValueError("each letter kind may appear once on the ladder against projects")
        return rungs

    def escalation_keys(self) -> set[str]:
        """The [bureau.escalation] entries the rungs name, as recipients or copies."""
        recipients = {r.to for r in self.rungs if r.to not in (GENERAL_CONTRACTOR, DEPARTMENT)}
        return recipients | {key for r in self.rungs for key in r.copy_to}

    def rung(self, kind: LetterKind) -> ProjectRungSetting | None:
        return next((r for r in self.rungs if r.kind is kind), None)
