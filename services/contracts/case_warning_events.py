"""The cases service's events about early-warning cases (预警案件): a case opened on a project's early warning, a
later warning of the project recorded against it, a complaint about the project placed in it, and a complaint's
own case process moved into its process.

The monitoring service raises the warnings (`project.warning_raised`, services/contracts/monitoring_events.py);
the cases service decides which case each one, and each complaint filed about the project while the case is
open, belongs to, and says so here. The case id is derived from the project (`early_warning_case_id`,
services/contracts/cases.py). Counts, ids and codes only: a warning names no worker, nor does any of these.
All version 1, on `Topics.CASES`, keyed by the ledger case id.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from services.contracts.cases_events import CasesEvent


class EarlyWarningCaseOpened(CasesEvent):
    """A ledger case was opened on a project's early warning (预警案件): an inspector verifies it like any case.
    Its employer is the project's general contractor, who pays the project's workers (总包代发)."""

    TYPE: ClassVar[str] = "case.early_warning_opened"
    VERSION: ClassVar[int] = 1

    case_id: str
    county: str
    employer_ref: str = Field(description="The general contractor's employer reference.")
    employer_name: str
    employer_credit_code: str
    project_ref: str = Field(description="The registered project's reference (`P-R…`).")
    project_id: str = Field(description="The monitoring register's project id.")
    project_name: str
    warning_id: str = Field(description="The warning the case was opened on.")
    month: str = Field(description="The month the warning was raised for, `YYYY-MM`.")
    check: str = Field(description="The monthly check that failed (payroll_received, roster_paid, …).")
    level: str = Field(description="yellow, orange or red.")


class CaseWarningRecorded(CasesEvent):
    """A later early warning of a project was recorded against the project's open early-warning case (no second
    case is opened while one is open)."""

    TYPE: ClassVar[str] = "case.warning_recorded"
    VERSION: ClassVar[int] = 1

    case_id: str
    county: str
    project_id: str
    warning_id: str
    month: str = Field(description="`YYYY-MM`.")
    check: str
    level: str


class ComplaintRouted(CasesEvent):
    """A complaint filed at a site of a project with an open early-warning case was placed in that case, instead
    of the case its employer and site would have opened (`own_case_id`)."""

    TYPE: ClassVar[str] = "case.complaint_routed"
    VERSION: ClassVar[int] = 1

    case_id: str = Field(description="The early-warning case the complaint joins.")
    complaint_id: str
    own_case_id: str = Field(description="The case derived from the complaint's employer and site.")
    project_id: str
    county: str


class ProcessMerged(CasesEvent):
    """A complaint's own case process, not yet verified, handed its complaints over to the early-warning case's
    process of the same project and closed as merged (the cases worker asked it, as a merge of two cases does)."""

    TYPE: ClassVar[str] = "case.process_merged"
    VERSION: ClassVar[int] = 1

    case_id: str = Field(description="The early-warning case (ledger case and process).")
    process_case_id: str = Field(description="The process merged into it (`case:<id>` closed as merged).")
    into_process_case_id: str
    county: str


class CaseWarningEvents:
    """Event type names of this module on `Topics.CASES` (each the `TYPE` of its class)."""

    EARLY_WARNING_OPENED = EarlyWarningCaseOpened.TYPE
    WARNING_RECORDED = CaseWarningRecorded.TYPE
    COMPLAINT_ROUTED = ComplaintRouted.TYPE
    PROCESS_MERGED = ProcessMerged.TYPE
