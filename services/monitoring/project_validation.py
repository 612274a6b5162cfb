"""A whole project checked against the register's rules (`domain.py`): `validate_project(raw, today=...)` takes a
project as the API's JSON or an import row gives it (nested: `owner`, `general_contractor`, `subcontractors`,
`wage_account`, `deposit`) and answers a `ProjectDraft`, or raises `ProjectInvalid` naming every failing field
at once. Each part — a company, the subcontractors, the wage account, the deposit, the QR poster sites — is
checked here from the single fields' checks of `field_checks.py`. Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from services.contracts.monitoring_events import (
    Company,
    DepositForm,
    DepositStatus,
    WageAccount,
    WageDeposit,
)
from services.monitoring.domain import (
    COUNTIES,
    DEPARTMENT_NAMES,
    DEPARTMENTS,
    DEPOSIT_FORM_NAMES,
    DEPOSIT_STATUS_NAMES,
    MAX_CONTRACT_VALUE,
    MAX_SITES,
    MAX_SUBCONTRACTORS,
    PROJECT_CODE,
    SITE_ID,
    FieldError,
    ProjectDraft,
    ProjectInvalid,
)
from services.monitoring.field_checks import (
    check_amount,
    check_choice,
    check_credit_code,
    check_date,
    code_text,
    plain_text,
    required_text,
)


def _company(raw: Any, field: str, label: str, errors: list[FieldError]) -> Company | None:
    if not isinstance(raw, Mapping):
        errors.append(FieldError(field, "required", f"请填写{label}名称及统一社会信用代码 / {field} is required"))
        return None
    found: list[FieldError] = []
    name = required_text(raw, "name", f"{label}名称", found)
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
    if raw in (None, "") or (isinstance(raw, Mapping) and not any(plain_text(v) for v in raw.values())):
        return None
    if not isinstance(raw, Mapping):
        errors.append(FieldError("wage_account", "format", "专用账户应写开户银行和开户日期 / bank and opened_on"))
        return None
    found: list[FieldError] = []
    bank = required_text(raw, "bank", "专用账户开户银行", found)
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
    if raw in (None, "") or (isinstance(raw, Mapping) and not any(plain_text(v) for v in raw.values())):
        return None
    if not isinstance(raw, Mapping):
        errors.append(FieldError("deposit", "format", "工资保证金应写金额、形式和状态 / amount, form and status"))
        return None
    found: list[FieldError] = []
    status, error = check_choice(
        raw.get("status"), "status", "保证金状态", {s.value: s for s in DepositStatus}, DEPOSIT_STATUS_NAMES
    )
    if error:
        found.append(error)
    form, error = check_choice(
        raw.get("form"), "form", "保证金形式", {f.value: f for f in DepositForm}, DEPOSIT_FORM_NAMES
    )
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
        site = code_text(item)
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
    code = code_text(raw.get("code"))
    if not code:
        errors.append(FieldError("code", "required", "请填写项目编号 / code is required"))
    elif not PROJECT_CODE.match(code):
        errors.append(
            FieldError("code", "format", "项目编号为3到60位字母、数字或连字符 / 3 to 60 letters, digits or '-'")
        )
    county, county_error = check_choice(
        raw.get("county"), "county", "所在区县", {c: c for c in COUNTIES}, {name: c for c, name in COUNTIES.items()}
    )
    if county_error:
        errors.append(county_error)
    name = required_text(raw, "name", "项目名称", errors)
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
    department, error = check_choice(
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
