"""Intake's pure rules: what a valid complaint is, how identifiers are checked, masked and numbered.

No I/O here. Every failure names its field with a message in Chinese (for the worker) and English
(for clerks' systems), written "中文 / English", so the form and the API explain the same problem the
same way. Whatever can be read leniently is (full-width digits, spaces in numbers, "18,600元", dates
written 2026/6/1): a worker on a cheap phone should not be refused for the way they type.

This module holds the configuration (counties, limits, labels), the field error and the models. The rest:
`field_checks.py` reads raw values and checks each field, `validation.py` checks a whole submission or site
registration, `identifiers.py` masks, numbers and normalises, `clue_parsing.py` reads a batch of clues.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field

from services.contracts.counties import HANDAN_COUNTIES
from services.contracts.intake_events import Channel
from services.contracts.owed_period import VIOLATION_LIMIT_YEARS

# The default deployment's counties (services/contracts/counties.py); a deployment for another city passes
# its own list.
DEFAULT_COUNTIES: dict[str, str] = dict(HANDAN_COUNTIES)

MAX_AMOUNT = Decimal("10000000")  # ¥10 million: beyond any single complaint; catches typing slips
MAX_WORKERS = 5000
# Violations older than this are not pursued: accepted into the system, marked, then rejected in writing.
STALE_AFTER_YEARS = VIOLATION_LIMIT_YEARS
EARLIEST_BIRTH_YEAR = 1900

CHANNELS: tuple[str, ...] = get_args(Channel)

MOBILE = re.compile(r"^1[3-9]\d{9}$")
SITE_ID = re.compile(r"^[A-Za-z0-9-]{3,40}$")

# (minimum, maximum) characters after trimming; a minimum of 0 means optional.
TEXT_LIMITS: dict[str, tuple[int, int]] = {
    "worker_name": (2, 30),
    "employer_name": (2, 100),
    "project_name": (2, 100),
    "description": (5, 2000),
}
SITE_TEXT_LIMITS: dict[str, tuple[int, int]] = {
    "name": (2, 100),
    "address": (2, 200),
    "owner_name": (0, 100),
    "general_contractor": (0, 100),
}
LABELS: dict[str, str] = {
    "worker_name": "姓名",
    "id_number": "身份证号码",
    "phone": "手机号码",
    "bank_card": "银行卡号",
    "employer_name": "用人单位名称",
    "employer_credit_code": "统一社会信用代码",
    "site_id": "项目编号",
    "project_name": "项目名称",
    "county_code": "所在区县",
    "period_start": "欠薪开始日期",
    "period_end": "欠薪结束日期",
    "amount_owed": "被拖欠金额",
    "workers_affected": "被拖欠人数",
    "description": "情况说明",
    "name": "项目名称",
    "address": "项目地址",
    "owner_name": "建设单位",
    "owner_credit_code": "建设单位统一社会信用代码",
    "general_contractor": "总包单位",
    "general_contractor_credit_code": "总包单位统一社会信用代码",
}

# First two digits of a resident ID number: provinces, plus 81/82/83 for the residence permits of
# Hong Kong, Macao and Taiwan residents, which use the same 18-character format.
ID_PROVINCES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    }
)


@dataclass(frozen=True)
class FieldError:
    """One failed rule: `message` is "中文 / English"; `zh` and `en` are its halves."""

    field: str
    code: str
    message: str

    @property
    def zh(self) -> str:
        return self._halves()[0]

    @property
    def en(self) -> str:
        return self._halves()[-1]

    def _halves(self) -> list[str]:
        return [part.strip() for part in re.split(r"\s*/\s+", self.message, maxsplit=1)]

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class SubmissionInvalid(ValueError):
    """Raised with every failing field at once, so the worker corrects everything in one go."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors

    def by_field(self) -> dict[str, str]:
        """The first message per field, in Chinese: what the form shows next to each field."""
        shown: dict[str, str] = {}
        for error in self.errors:
            shown.setdefault(error.field, error.zh)
        return shown


# -- the models ----------------------------------------------------------------------------------------


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class ComplaintSubmissionIn(BaseModel):
    """What the agency API accepts as JSON. Types are lenient on purpose: every rule is checked by
    `validate_submission`, so the caller gets the same named, bilingual errors as the worker's form."""

    model_config = ConfigDict(extra="forbid")

    worker_name: str = Field(examples=["张三"], description="The complainant's name (stored encrypted)")
    id_number: str = Field(examples=["11010519491231002X"], description="Resident ID number, 18 characters")
    phone: str = Field(examples=["13800138000"], description="Mainland mobile number, 11 digits")
    bank_card: str | None = Field(
        None, examples=["6222021234567890128"], description="Optional bank card for the payment (Luhn-checked)"
    )
    employer_name: str = Field(examples=["邯郸市某建筑劳务有限公司"], description="Who owes the wages")
    employer_credit_code: str | None = Field(
        None, examples=["91130400MA07ABCD12"], description="Unified social credit code (18 chars) if known"
    )
    site_id: str | None = Field(None, examples=["HD-2026-0001"], description="Registered site (from the QR code)")
    project_name: str = Field(examples=["丛台区某安置房项目"], description="Project or site name")
    county_code: str = Field(examples=["130403"], description="County code from the configured list")
    period_start: date | str = Field(examples=["2026-06-01"], description="First day owed (YYYY-MM-DD)")
    period_end: date | str = Field(examples=["2026-09-30"], description="Last day owed, not in the future")
    amount_owed: Decimal | str = Field(examples=["18600.00"], description="Yuan, positive, at most 2 decimals")
    # The default (1) is said in the description, not as the schema's `default`: a generated Java client types
    # the number-or-text field as a wrapper class, which cannot hold a literal default.
    workers_affected: int | str = Field(
        1,
        examples=[12],
        description="How many workers are owed (1 for oneself, when left out)",
        json_schema_extra=_without_default,
    )
    description: str = Field(
        examples=["2026年6月至9月在该项目做钢筋工，工资一直未发放。"],
        description="What happened, in the worker's words (5 to 2000 characters)",
    )
    confidential: bool = Field(False, description="Keep the complainant's identity from the employer")
    channel: Channel | None = Field(None, description="Set by the server; clerks need not send it")
    evidence: list[str] = Field(default_factory=list, description="sha256 of files uploaded to /v1/evidence")


class ComplaintSubmission(BaseModel):
    """A complaint that passed every rule, in normal form (compact identifiers, 2-decimal amount).

    `stale_for_rejection`: the owed period ended more than 2 years ago (`past_violation_limit`,
    services/contracts/owed_period.py); the complaint is accepted into the system and the process suggests
    a rejection in writing.
    """

    model_config = ConfigDict(frozen=True)

    worker_name: str
    id_number: str
    phone: str
    bank_card: str | None = None
    employer_name: str
    employer_credit_code: str | None = None
    site_id: str | None = None
    project_name: str
    county_code: str
    period_start: date
    period_end: date
    amount_owed: Decimal
    workers_affected: int = Field(ge=1)
    description: str
    confidential: bool = False
    channel: Channel
    stale_for_rejection: bool = False


class SiteRegistration(BaseModel):
    """A project site as the agency registers it; its QR poster opens the form with it prefilled."""

    model_config = ConfigDict(frozen=True)

    site_id: str
    name: str
    county_code: str
    address: str
    owner_name: str | None = None
    owner_credit_code: str | None = None
    general_contractor: str | None = None
    general_contractor_credit_code: str | None = None
