"""The rules of the project register (在建项目台账): what a valid project is, checked field by field.

`validate_project(raw, today=...)` takes a project as the API's JSON or an import row gives it (nested:
`owner`, `general_contractor`, `subcontractors`, `wage_account`, `deposit`) and answers a `ProjectDraft`, or
raises `ProjectInvalid` naming every failing field at once (`field`, `code`, `message` "中文 / English"), so a
clerk corrects a whole row in one go. Pure: no I/O, no clock (`today` is passed in).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

from services.common.errors import Invalid
from services.contracts.monitoring_events import (
    Company,
    DepositForm,
    DepositStatus,
    ProjectFacts,
    WageAccount,
    WageDeposit,
)

# The counties of Handan (行政区划代码 → name): a project is registered in one of them.
COUNTIES: dict[str, str] = {
    "130402": "邯山区",
    "130403": "丛台区",
    "130404": "复兴区",
    "130406": "峰峰矿区",
    "130407": "肥乡区",
    "130408": "永年区",
    "130423": "临漳县",
    "130424": "成安县",
    "130425": "大名县",
    "130426": "涉县",
    "130427": "磁县",
    "130430": "邱县",
    "130431": "鸡泽县",
    "130432": "广平县",
    "130433": "馆陶县",
    "130434": "魏县",
    "130435": "曲周县",
    "130481": "武安市",
}

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


# -- reading raw values --------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _code_text(value: Any) -> str:
    """An identifier as typed (a spreadsheet may hold a county code as the number 130402.0)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _text(value)


def _required_text(
    raw: Mapping[str, Any], field: str, label: str, errors: list[FieldError], max_length: int = 200
) -> str:
    text = re.sub(r"\s+", " ", _text(raw.get(field)))
    if not text:
        errors.append(FieldError(field, "required", f"请填写{label} / {field} is required"))
    elif len(text) > max_length:
        errors.append(FieldError(field, "too_long", f"{label}不超过{max_length}字 / at most {max_length} characters"))
    return text


def check_credit_code(value: Any, field: str) -> tuple[str | None, FieldError | None]:
    """A unified social credit code (GB 32100): 18 characters, its check character right."""
    compact = re.sub(r"[\s-]", "", _text(value)).upper()
    if not compact:
        return None, FieldError(
            field, "required", "请填写统一社会信用代码 / the unified social credit code is required"
        )
    try:
        return uscc.validate(compact), None
    except InvalidLength:
        return None, FieldError(field, "length", "统一社会信用代码应为18位 / a credit code has 18 characters")
    except InvalidChecksum:
        return None, FieldError(
            field, "check_digit", "统一社会信用代码有误（末位校验码不对） / the credit code's check character is wrong"
        )
    except (InvalidFormat, StdnumError):
        return None, FieldError(field, "format", "统一社会信用代码格式不正确 / not a unified social credit code")


def check_date(value: Any, field: str, label: str, *, required: bool = True) -> tuple[date | None, FieldError | None]:
    """A calendar date: ISO `2026-03-01`, `2026/3/1`, or a spreadsheet's date cell."""
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    text = _text(value)
    if not text:
        return None, (FieldError(field, "required", f"请填写{label} / {field} is required") if required else None)
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    try:
        if match:
            return date(*(int(part) for part in match.groups())), None
    except ValueError:
        pass
    return None, FieldError(field, "date", f"{label}应为日期，如 2026-03-01 / a date such as 2026-03-01")


def check_amount(
    value: Any, field: str, label: str, *, maximum: Decimal, allow_zero: bool = False
) -> tuple[Decimal | None, FieldError | None]:
    """An amount in yuan, to the fen: digits, an optional point and two decimals, thousands commas allowed."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, float):
        value = repr(value)
    text = re.sub(r"[,，\s]", "", _text(value)).removeprefix("¥").removeprefix("￥").removesuffix("元")
    if not text:
        return None, FieldError(field, "required", f"请填写{label} / {field} is required")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None, FieldError(field, "amount", f"{label}应为金额（元） / an amount in yuan")
    if not amount.is_finite():
        return None, FieldError(field, "amount", f"{label}应为金额（元） / an amount in yuan")
    if amount < 0 or (amount == 0 and not allow_zero):
        return None, FieldError(field, "amount", f"{label}应大于零 / must be more than zero")
    if amount > maximum:
        return None, FieldError(field, "too_large", f"{label}超出合理范围 / more than {maximum} yuan")
    if amount != amount.quantize(Decimal("0.01")):
        return None, FieldError(field, "amount", f"{label}最多精确到分 / at most two decimals")
    return amount.quantize(Decimal("0.01")), None


def _choice(
    value: Any, field: str, label: str, ids: Mapping[str, Any], names: Mapping[str, Any]
) -> tuple[Any, FieldError | None]:
    text = _code_text(value)
    if not text:
        return None, FieldError(field, "required", f"请填写{label} / {field} is required")
    if text in ids:
        return ids[text], None
    if text in names:
        return names[text], None
    return None, FieldError(field, "unknown", f"{label}不在可选范围内 / one of {', '.join(ids)}")


def _company(raw: Any, field: str, label: str, errors: list[FieldError]) -> Company | None:
    if not isinstance(raw, Mapping):
        errors.append(FieldError(field, "required", f"请填写{label}名称及统一社会信用代码 / {field} is required"))
        return None
    found: list[FieldError] = []
    name = _required_text(raw, "name", f"{label}名称", found)
    code, code_error = check_credit_code(raw.get("credit_code"), f"{field}.credit_code")
    errors.extend(FieldError(f"{field}.{e.field}", e.code, e.message) for e in found)
    if code_error:
        errors.append(code_error)
    if found or code is None:
        return None
    return Company(name=name, credit_code=code)


def _subcontractors(raw: Any, errors: list[FieldError]) -> list[Company]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        errors.append(FieldError("subcontractors", "format", "分包单位应为列表 / a list of companies"))
        return []
    if len(raw) > MAX_SUBCONTRACTORS:
        errors.append(
            FieldError(
                "subcontractors", "too_many", f"分包单位至多{MAX_SUBCONTRACTORS}家 / at most {MAX_SUBCONTRACTORS}"
            )
        )
        return []
    companies: list[Company] = []
    for index, item in enumerate(raw):
        company = _company(item, f"subcontractors[{index}]", "分包单位", errors)
        if company is None:
            continue
        if any(c.credit_code == company.credit_code for c in companies):
            errors.append(
                FieldError(
                    f"subcontractors[{index}].credit_code",
                    "duplicate",
                    "同一分包单位列了两次 / the same subcontractor twice",
                )
            )
            continue
        companies.append(company)
    return companies


def _wage_account(raw: Any, today: date, errors: list[FieldError]) -> WageAccount | None:
    if raw in (None, "") or (isinstance(raw, Mapping) and not any(_text(v) for v in raw.values())):
        return None
    if not isinstance(raw, Mapping):
        errors.append(FieldError("wage_account", "format", "专用账户应写开户银行和开户日期 / bank and opened_on"))
        return None
    found: list[FieldError] = []
    bank = _required_text(raw, "bank", "专用账户开户银行", found)
    opened_on, error = check_date(raw.get("opened_on"), "opened_on", "专用账户开户日期")
    if error:
        found.append(error)
    elif opened_on is not None and opened_on > today:
        found.append(FieldError("opened_on", "future", "开户日期不能晚于今天 / cannot be after today"))
    errors.extend(FieldError(f"wage_account.{e.field}", e.code, e.message) for e in found)
    if found or opened_on is None:
        return None
    return WageAccount(bank=bank, opened_on=opened_on)


def _deposit(raw: Any, errors: list[FieldError]) -> WageDeposit | None:
    if raw in (None, "") or (isinstance(raw, Mapping) and not any(_text(v) for v in raw.values())):
        return None
    if not isinstance(raw, Mapping):
        errors.append(FieldError("deposit", "format", "工资保证金应写金额、形式和状态 / amount, form and status"))
        return None
    found: list[FieldError] = []
    status, error = _choice(
        raw.get("status"), "status", "保证金状态", {s.value: s for s in DepositStatus}, DEPOSIT_STATUS_NAMES
    )
    if error:
        found.append(error)
    form, error = _choice(raw.get("form"), "form", "保证金形式", {f.value: f for f in DepositForm}, DEPOSIT_FORM_NAMES)
    if error:
        found.append(error)
    # An exempt project lodges nothing: its amount may be zero.
    amount, error = check_amount(
        raw.get("amount"), "amount", "保证金金额", maximum=MAX_CONTRACT_VALUE, allow_zero=status is DepositStatus.EXEMPT
    )
    if error:
        found.append(error)
    errors.extend(FieldError(f"deposit.{e.field}", e.code, e.message) for e in found)
    if found or amount is None:
        return None
    return WageDeposit(amount=amount, form=form, status=status)


def _site_ids(raw: Any, errors: list[FieldError]) -> list[str]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        errors.append(FieldError("site_ids", "format", "二维码点位应为列表 / a list of site ids"))
        return []
    sites: list[str] = []
    for item in raw:
        site = _code_text(item)
        if not SITE_ID.match(site):
            errors.append(
                FieldError("site_ids", "format", f"二维码点位编号{site!r}格式不正确 / not a site id: {site!r}")
            )
        elif site not in sites:
            sites.append(site)
    if len(sites) > MAX_SITES:
        errors.append(FieldError("site_ids", "too_many", f"二维码点位至多{MAX_SITES}个 / at most {MAX_SITES}"))
    return sites


def validate_project(raw: Mapping[str, Any], *, today: date) -> ProjectDraft:
    """The project `raw` describes, or `ProjectInvalid` with every failing field."""
    errors: list[FieldError] = []
    code = _code_text(raw.get("code"))
    if not code:
        errors.append(FieldError("code", "required", "请填写项目编号 / code is required"))
    elif not PROJECT_CODE.match(code):
        errors.append(
            FieldError("code", "format", "项目编号为3到60位字母、数字或连字符 / 3 to 60 letters, digits or '-'")
        )
    county, county_error = _choice(
        raw.get("county"), "county", "所在区县", {c: c for c in COUNTIES}, {name: c for c, name in COUNTIES.items()}
    )
    if county_error:
        errors.append(county_error)
    name = _required_text(raw, "name", "项目名称", errors)
    owner = _company(raw.get("owner"), "owner", "建设单位", errors)
    contractor = _company(raw.get("general_contractor"), "general_contractor", "总包单位", errors)
    subcontractors = _subcontractors(raw.get("subcontractors"), errors)
    value, error = check_amount(raw.get("contract_value"), "contract_value", "合同金额", maximum=MAX_CONTRACT_VALUE)
    if error:
        errors.append(error)
    start, error = check_date(raw.get("start_date"), "start_date", "开工日期")
    if error:
        errors.append(error)
    end, error = check_date(raw.get("planned_end_date"), "planned_end_date", "计划竣工日期")
    if error:
        errors.append(error)
    if start is not None and end is not None and end <= start:
        errors.append(
            FieldError(
                "planned_end_date",
                "before_start",
                "计划竣工日期应晚于开工日期 / the planned end must come after the start",
            )
        )
    department, error = _choice(
        raw.get("department"), "department", "行业主管部门", {d: d for d in DEPARTMENTS}, DEPARTMENT_NAMES
    )
    if error:
        errors.append(error)
    account = _wage_account(raw.get("wage_account"), today, errors)
    deposit = _deposit(raw.get("deposit"), errors)
    sites = _site_ids(raw.get("site_ids"), errors)
    if errors:
        raise ProjectInvalid(errors)
    assert owner and contractor and value is not None and start and end and county and department
    return ProjectDraft(
        code=code,
        county=county,
        name=name,
        owner=owner,
        general_contractor=contractor,
        subcontractors=subcontractors,
        contract_value=value,
        start_date=start,
        planned_end_date=end,
        department=department,
        wage_account=account,
        deposit=deposit,
        site_ids=sites,
    )


def merge_patch(current: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """`current` (the API's shape) with the top-level fields `patch` names replaced; null clears an optional one
    (the account, the deposit, the lists). A field not of a project is refused."""
    unknown = sorted(set(patch) - set(FIELDS))
    if unknown:
        raise ProjectInvalid(
            [FieldError(name, "unknown_field", "没有这个字段 / not a field of a project") for name in unknown]
        )
    return {**current, **patch}
