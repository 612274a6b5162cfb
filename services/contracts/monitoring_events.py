"""The monitoring service's contract: the events of the project register (在建项目台账) and of its monthly
feeds (payroll and attendance).

Events on `Topics.MONITORING`, keyed by the project id, so one project's changes stay in order on one
partition. Each register event carries the project as it stands after the change (`ProjectFacts`): companies
by name and unified social credit code, amounts, dates, the responsible department's id and the QR poster
sites. No person is named in a project's record, so nothing in these events is personal data. The feeds'
events carry a month's counts and totals only: no worker, not even by keyed reference; so do the early
warnings the monthly checks raise (`project.warning_raised`, `project.warning_resolved`).

Pure: pydantic and the events module, nothing done on import.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from services.contracts.events import EventPayload, Topics


class DepositForm(StrEnum):
    """How a wage deposit (工资保证金) is lodged."""

    CASH = "cash"  # 现金存储
    BANK_GUARANTEE = "bank_guarantee"  # 银行保函
    INSURANCE = "insurance"  # 工程担保公司保函 / 工资保证保险


class DepositStatus(StrEnum):
    """Where a project's wage deposit stands."""

    REQUIRED = "required"  # due, not lodged yet
    LODGED = "lodged"  # 已存储
    EXEMPT = "exempt"  # 免缴 (a contractor without arrears, as the measures allow)
    DRAWN = "drawn"  # 已动用, to be topped up
    RETURNED = "returned"  # 已返还 after completion


class MonitoringEvent(EventPayload):
    TOPIC: ClassVar[str] = Topics.MONITORING


class _Model(BaseModel):
    """A part of an event (not an event itself)."""

    model_config = ConfigDict(extra="forbid")


class Company(_Model):
    name: str = Field(description="The company's registered name.")
    credit_code: str = Field(description="Unified social credit code (统一社会信用代码, GB 32100).")


class WageAccount(_Model):
    """The project's dedicated wage account (农民工工资专用账户)."""

    bank: str = Field(description="The bank (and branch) holding the account.")
    opened_on: date = Field(description="When the account was opened.")


class WageDeposit(_Model):
    """The project's wage deposit (工资保证金)."""

    amount: Decimal = Field(description="Amount in yuan.")
    form: DepositForm
    status: DepositStatus


class ProjectFacts(_Model):
    """A project as the register holds it after the change."""

    project_id: str
    code: str = Field(description="The project's own code (e.g. its construction permit number); unique.")
    county: str = Field(description="County code (行政区划代码), e.g. '130402'.")
    name: str
    owner: Company = Field(description="建设单位.")
    general_contractor: Company = Field(description="施工总承包单位.")
    subcontractors: list[Company] = Field(default_factory=list, description="分包单位.")
    contract_value: Decimal = Field(description="Contract value in yuan.")
    start_date: date
    planned_end_date: date
    department: str = Field(description="The industry department responsible (the referrals service's id).")
    wage_account: WageAccount | None = Field(None, description="None: no dedicated wage account recorded.")
    deposit: WageDeposit | None = Field(None, description="None: no wage deposit recorded.")
    site_ids: list[str] = Field(default_factory=list, description="The intake sites of its QR posters.")
    version: int = Field(description="1 when registered, one more at each change.")


class ProjectRegistered(MonitoringEvent):
    """A project under construction was entered in the register (by hand or by an import)."""

    TYPE: ClassVar[str] = "project.registered"
    VERSION: ClassVar[int] = 1
    project: ProjectFacts
    source: str = Field(description="`api` or `import`.")


class ProjectUpdated(MonitoringEvent):
    """A registered project was changed; `changed` names the fields that differ from the version before."""

    TYPE: ClassVar[str] = "project.updated"
    VERSION: ClassVar[int] = 1
    project: ProjectFacts
    changed: list[str]
    source: str = Field(description="`api` or `import`.")


class _FeedReceived(MonitoringEvent):
    project_id: str
    county: str = Field(description="The project's county code, e.g. '130402'.")
    month: str = Field(description="The month the feed is for, `YYYY-MM`.")
    version: int = Field(description="1 for the month's first file, one more each time a corrected file replaces it.")
    replaced: bool = Field(description="True: a corrected file replaced the month's earlier one.")
    workers: int = Field(description="Workers the file names (each once).")


class PayrollReceived(_FeedReceived):
    """A project's payroll of a month (the bank's file of payments from its dedicated wage account) was
    imported, or a corrected file replaced it. Counts and amounts only: no worker is named."""

    TYPE: ClassVar[str] = "payroll.received"
    VERSION: ClassVar[int] = 1
    total_paid: Decimal = Field(description="Yuan paid to the workers in the month, in all.")


class AttendanceReceived(_FeedReceived):
    """A project's attendance roster of a month (the real-name system's record of who worked, and how many
    days) was imported, or a corrected file replaced it. Counts only: no worker is named."""

    TYPE: ClassVar[str] = "attendance.received"
    VERSION: ClassVar[int] = 1
    days_worked: Decimal = Field(description="Days worked in the month by all the roster's workers.")


class WarningCheck(StrEnum):
    """The monthly checks of a project (services/monitoring/checks.py); each failed one is an early warning."""

    PAYROLL_RECEIVED = "payroll_received"  # the month's payroll received by the check day
    ROSTER_PAID = "roster_paid"  # every worker on the month's roster paid
    PAY_IN_LINE = "pay_in_line"  # pay in line with days worked
    DEPOSIT = "deposit"  # the wage deposit in place and not below the required amount
    WAGE_ACCOUNT = "wage_account"  # the dedicated wage account opened before work started


class WarningLevel(StrEnum):
    """An early warning's level (预警等级), escalating while the same check keeps failing month after month."""

    YELLOW = "yellow"  # 黄色预警
    ORANGE = "orange"  # 橙色预警
    RED = "red"  # 红色预警


class WarningResolution(StrEnum):
    """How an early warning was resolved."""

    CHECK_PASSED = "check_passed"  # the same check passed for the month, or a later one
    INSPECTOR = "inspector"  # an inspector of the county resolved it, with a note


class ProjectWarningRaised(MonitoringEvent):
    """A monthly check of a project failed: an early warning (预警). Its facts are counts and amounts only:
    no worker is named, not even by keyed reference."""

    TYPE: ClassVar[str] = "project.warning_raised"
    VERSION: ClassVar[int] = 1
    warning_id: str = Field(description="`WRN-…`; one per project, month and check.")
    project_id: str
    county: str = Field(description="The project's county code, e.g. '130402'.")
    month: str = Field(description="The month checked, `YYYY-MM`.")
    check: WarningCheck
    level: WarningLevel
    facts: dict[str, str | int | bool | None] = Field(
        description="What the check found: counts, amounts (yuan, as strings) and dates."
    )


class ProjectWarningResolved(MonitoringEvent):
    """An early warning was resolved: its check passed again, or an inspector resolved it."""

    TYPE: ClassVar[str] = "project.warning_resolved"
    VERSION: ClassVar[int] = 1
    warning_id: str
    project_id: str
    county: str
    month: str = Field(description="The month the warning was raised for, `YYYY-MM`.")
    check: WarningCheck
    resolution: WarningResolution
    passed_month: str | None = Field(None, description="check_passed: the month whose check passed, `YYYY-MM`.")


class MonitoringEvents:
    """Event type names on `Topics.MONITORING` (each the `TYPE` of its class)."""

    PROJECT_REGISTERED = ProjectRegistered.TYPE
    PROJECT_UPDATED = ProjectUpdated.TYPE
    PAYROLL_RECEIVED = PayrollReceived.TYPE
    ATTENDANCE_RECEIVED = AttendanceReceived.TYPE
    WARNING_RAISED = ProjectWarningRaised.TYPE
    WARNING_RESOLVED = ProjectWarningResolved.TYPE


# Every family of this topic's events is registered with this module (`services/contracts/events.py` registers a
# class when it is defined): a consumer of the topic that imports only this module — the referrals service's
# ladder against projects, the cases service's register — knows every event on it (the payouts' and funds' too)
# and sets none aside as unknown. Imported last, as the family extends the classes above.
from services.contracts import guarantee_funds  # noqa: E402

FAMILIES = (guarantee_funds,)
