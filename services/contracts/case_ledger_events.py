"""The cases service's events about what only the ledger keeps, and how it regroups and reports: the inspector
assigned to a case, its parties (general contractor, subcontractors, project owner), a merge of two cases, a
split, and a periodic report produced. All version 1, on `Topics.CASES`; merges' and splits' reasons are
`AgencyText`, kept by the service and never published."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from services.contracts.cases_events import ActionRecorded, CasesEvent
from services.contracts.events import AgencyText


class _Model(BaseModel):
    """A part of an event (not an event itself)."""

    model_config = ConfigDict(extra="forbid")


class InspectorAssigned(ActionRecorded):
    """An inspector was assigned to the case."""

    TYPE: ClassVar[str] = "case.inspector_assigned"
    VERSION: ClassVar[int] = 1

    inspector: str


class Party(_Model):
    role: str = Field(description="general_contractor (总包), subcontractor (分包) or project_owner (建设单位).")
    name: str
    credit_code: str | None = None


class PartiesRecorded(ActionRecorded):
    """The general contractor, subcontractors and project owner were recorded."""

    TYPE: ClassVar[str] = "case.parties_recorded"
    VERSION: ClassVar[int] = 1

    contractors: list[Party]


class CaseMerged(CasesEvent):
    """An inspector merged two cases: the second one's complaints and records belong to the first from now on."""

    TYPE: ClassVar[str] = "case.merged"
    VERSION: ClassVar[int] = 1

    case_id: str = Field(description="The surviving case.")
    merged_case_id: str = Field(description="The case merged into it; its id is an alias from now on.")
    county: str
    actor: str
    reason: AgencyText = None
    processes_merged: list[str] = Field(
        default_factory=list,
        description="The merged case's processes whose complaints moved into `into_process_case_id` (not yet"
        " verified); the others stay beside it under the one ledger case.",
    )
    into_process_case_id: str | None = None


class CaseSplit(CasesEvent):
    """An inspector split complaints off a case into a new case."""

    TYPE: ClassVar[str] = "case.split"
    VERSION: ClassVar[int] = 1

    case_id: str = Field(description="The case the complaints left.")
    new_case_id: str
    complaint_ids: list[str]
    county: str
    actor: str
    reason: AgencyText = None


class ReportProduced(CasesEvent):
    """A periodic report on complaints and cases was produced."""

    TYPE: ClassVar[str] = "report.produced"
    VERSION: ClassVar[int] = 1

    report_id: str
    kind: str
    period_start: date
    period_end: date
    totals: dict[str, Any]


class CaseLedgerEvents:
    """Event type names of this module on `Topics.CASES` (each the `TYPE` of its class)."""

    INSPECTOR_ASSIGNED = InspectorAssigned.TYPE
    PARTIES_RECORDED = PartiesRecorded.TYPE
    MERGED = CaseMerged.TYPE
    SPLIT = CaseSplit.TYPE
    REPORT_PRODUCED = ReportProduced.TYPE
