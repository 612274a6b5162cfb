"""The project register's (在建项目台账) configuration and models: the counties, the industry departments and
the names an import may write for them, the limits, the fields of a project in order, the field error and
`ProjectInvalid`, and `ProjectDraft`, a valid project, with `merge_patch` (a PATCH's fields over the project).

The rules themselves are in two modules beside it: `field_checks.py` reads a raw value and checks one field
(a credit code, a date, an amount, a choice), and `project_validation.py` checks a whole project,
`validate_project(raw, today=...)`, naming every failing field at once (`field`, `code`, `message` "中文 /
English"), so a clerk corrects a whole row in one go. Pure: no I/O, no clock (`today` is passed in).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from services.common.errors import Invalid
from services.contracts.counties import HANDAN_COUNTIES
from services.contracts.monitoring_events import (
    Company,
    DepositForm,
    DepositStatus,
    ProjectFacts,
    WageAccount,
    WageDeposit,
)

# The counties a project is registered in (services/contracts/counties.py).
COUNTIES: dict[str, str] = dict(HANDAN_COUNTIES)

# The industry departments a project answers to (行业主管部门), by the referrals service's department ids
# (services/referrals/departments.toml): the handoffs and letters about a project go to that department.
DEPARTMENTS: dict[str, str] = {
    "housing": "住房和城乡建设局",
    "transport": "交通运输局",
    "water": "水利局",
    "development": "发展和改革委员会",
}
# What an import file may write instead of an id.
DEPARTMENT_NAMES = {
    "住建": "housing",
    "住房和城乡建设": "housing",
    "交通": "transport",
    "交通运输": "transport",
    "水利": "water",
    "发改": "development",
    "发展和改革": "development",
}
DEPOSIT_FORM_NAMES = {
    "现金": DepositForm.CASH,
    "银行保函": DepositForm.BANK_GUARANTEE,
    "保函": DepositForm.BANK_GUARANTEE,
    "保险": DepositForm.INSURANCE,
    "工资保证保险": DepositForm.INSURANCE,
}
DEPOSIT_STATUS_NAMES = {
    "应存": DepositStatus.REQUIRED,
    "未存储": DepositStatus.REQUIRED,
    "已存储": DepositStatus.LODGED,
    "免缴": DepositStatus.EXEMPT,
    "已动用": DepositStatus.DRAWN,
    "已返还": DepositStatus.RETURNED,
}

PROJECT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,59}$")
# An intake site id, as its QR poster carries it.
SITE_ID = re.compile(r"^[A-Za-z0-9-]{3,40}$")
MAX_CONTRACT_VALUE = Decimal("1000000000000")  # ¥1 trillion: beyond any project; catches typing slips
MAX_SUBCONTRACTORS = 100
MAX_SITES = 50
# The fields of a project, in the order the API and the import name them.
FIELDS = (
    "code",
    "county",
    "name",
    "owner",
    "general_contractor",
    "subcontractors",
    "contract_value",
    "start_date",
    "planned_end_date",
    "department",
    "wage_account",
    "deposit",
    "site_ids",
)


@dataclass(frozen=True)
class FieldError:
    """One failed rule: `message` is "中文 / English"."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class ProjectInvalid(Invalid):
    """A project breaks the register's rules; `errors` names every failing field."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(
            "Invalid project",
            "; ".join(f"{e.field}: {e.message}" for e in errors),
            errors=[e.as_dict() for e in errors],
        )
        self.field_errors = errors


@dataclass(frozen=True)
class ProjectDraft:
    """A valid project, not yet (or as it stands) in the register."""

    code: str
    county: str
    name: str
    owner: Company
    general_contractor: Company
    subcontractors: list[Company]
    contract_value: Decimal
    start_date: date
    planned_end_date: date
    department: str
    wage_account: WageAccount | None
    deposit: WageDeposit | None
    site_ids: list[str]

    def facts(self, project_id: str, version: int) -> ProjectFacts:
        return ProjectFacts(project_id=project_id, version=version, **self.fields())

    def fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}

    def as_json(self) -> dict[str, Any]:
        """The project in the API's shape (amounts as strings, dates ISO)."""
        return self.facts("-", 0).model_dump(mode="json", exclude={"project_id", "version"})

    def changed_from(self, before: ProjectDraft) -> list[str]:
        """The fields whose value differs from `before`'s."""
        return [name for name in FIELDS if getattr(self, name) != getattr(before, name)]


def draft_of(facts: ProjectFacts) -> ProjectDraft:
    return ProjectDraft(**{name: getattr(facts, name) for name in FIELDS})


def merge_patch(current: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """`current` (the API's shape) with the top-level fields `patch` names replaced; null clears an optional one
    (the account, the deposit, the lists). A field not of a project is refused."""
    unknown = sorted(set(patch) - set(FIELDS))
    if unknown:
        raise ProjectInvalid(
            [FieldError(name, "unknown_field", "没有这个字段 / not a field of a project") for name in unknown]
        )
    return {**current, **patch}
