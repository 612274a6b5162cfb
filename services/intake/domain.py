"""Intake's pure rules: what a valid complaint is, how identifiers are checked, masked and numbered.

No I/O here. Every failure names its field with a message in Chinese (for the worker) and English
(for clerks' systems), so the form and the API explain the same problem the same way.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import secrets
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat
from stdnum.exceptions import ValidationError as StdnumError

# Handan's county-level divisions (行政区划代码): where complaints of the default deployment belong.
# Configuration, not law: a deployment for another city passes its own list.
DEFAULT_COUNTIES: dict[str, str] = {
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

MAX_AMOUNT = Decimal("10000000")  # ¥10 million: beyond any single complaint; catches typing slips
MAX_WORKERS = 5000
STALE_AFTER_YEARS = 2  # violations older than this are not pursued (accepted, then rejected in writing)
Channel = Literal["qr_form", "clerk", "clue_import"]
MOBILE = re.compile(r"^1[3-9]\d{9}$")
SITE_ID = re.compile(r"^[A-Za-z0-9-]{3,40}$")

TEXT_LIMITS = {
    "worker_name": (2, 30),
    "employer_name": (2, 100),
    "project_name": (2, 100),
    "description": (10, 2000),
}


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str


class SubmissionInvalid(ValueError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


class ComplaintSubmissionIn(BaseModel):
    """What the agency API accepts as JSON; every rule is checked by `validate_submission` after this."""

    model_config = ConfigDict(extra="forbid")

    worker_name: str = Field(examples=["张三"], description="The complainant's name (stored encrypted)")
    id_number: str = Field(examples=["11010519491231002X"], description="Resident ID number, 18 characters")
    phone: str = Field(examples=["13800138000"], description="Mainland mobile number, 11 digits")
    bank_card: str | None = Field(None, examples=["6222021234567890128"], description="Optional, for payment")
    employer_name: str = Field(examples=["邯郸市某建筑劳务有限公司"])
    employer_credit_code: str | None = Field(None, examples=["91130400MA07XXXXXX"],
                                             description="Unified social credit code (18 chars) if known")
    site_id: str | None = Field(None, examples=["HD-2026-0001"], description="Registered site (from the QR code)")
    project_name: str = Field(examples=["丛台区某安置房项目"])
    county_code: str = Field(examples=["130403"], description="County code from the configured list")
    period_start: date = Field(examples=["2026-06-01"], description="First day owed")
    period_end: date = Field(examples=["2026-09-30"], description="Last day owed (not in the future)")
    amount_owed: Decimal = Field(examples=["18600.00"], description="Yuan, positive, at most 2 decimals")
    workers_affected: int = Field(1, examples=[12], description="How many workers are owed (1 for oneself)")
    description: str = Field(examples=["2026年6月至9月在该项目做钢筋工，工资一直未发放。"])
    confidential: bool = Field(False, description="Keep the complainant's identity from the employer")
    channel: Channel | None = Field(None, description="Set by the server; clerks need not send it")
    evidence: list[str] = Field(default_factory=list, description="sha256 of files uploaded to /v1/evidence")


class ComplaintSubmission(BaseModel):
    """A complaint that passed every rule. `stale_for_rejection`: the violation is over 2 years old."""

    model_config = ConfigDict(frozen=True)

    worker_name: str
    id_number: str
    phone: str
    bank_card: str | None
    employer_name: str
    employer_credit_code: str | None
    site_id: str | None
    project_name: str
    county_code: str
    period_start: date
    period_end: date
    amount_owed: Decimal
    workers_affected: int
    description: str
    confidential: bool
    channel: Channel
    stale_for_rejection: bool


def _text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    return unicodedata.normalize("NFKC", str(value)).strip() if value is not None else ""


def _check_length(errors: list[FieldError], name: str, value: str, label: str) -> None:
    low, high = TEXT_LIMITS[name]
    if not value:
        errors.append(FieldError(name, "required", f"请填写{label} / {name} is required"))
    elif len(value) < low:
        errors.append(FieldError(name, "too_short", f"{label}至少{low}个字 / at least {low} characters"))
    elif len(value) > high:
        errors.append(FieldError(name, "too_long", f"{label}最多{high}个字 / at most {high} characters"))


def check_id_number(value: str, today: date) -> tuple[str | None, FieldError | None]:
    compact = ric.compact(value).upper() if value else ""
    if not compact:
        return None, FieldError("id_number", "required", "请填写身份证号码 / the ID number is required")
    if len(compact) != 18:
        return None, FieldError("id_number", "length", "身份证号码应为18位 / an ID number has 18 characters")
    try:
        ric.validate(compact)
    except InvalidChecksum:
        return None, FieldError("id_number", "check_digit",
                                "身份证号码校验位不正确，请核对 / the ID number's check digit is wrong")
    except InvalidFormat:
        return None, FieldError("id_number", "format",
                                "身份证号码前17位应为数字 / the first 17 characters must be digits")
    except StdnumError:
        try:
            ric.get_birth_date(compact)
        except StdnumError:
            return None, FieldError("id_number", "birth_date",
                                    "身份证号码中的出生日期不正确 / the birth date in the ID number is not valid")
        return None, FieldError("id_number", "region",
                                "身份证号码前6位地区码不正确 / the region code of the ID number is not valid")
    if ric.get_birth_date(compact) > today:
        return None, FieldError("id_number", "birth_date",
                                "身份证号码中的出生日期晚于今天 / the birth date is in the future")
    return compact, None


def check_credit_code(value: str, field: str = "employer_credit_code") -> tuple[str | None, FieldError | None]:
    compact = uscc.compact(value).upper() if value else ""
    if not compact:
        return None, None
    try:
        return uscc.validate(compact), None
    except StdnumError:
        return None, FieldError(field, "invalid",
                                "统一社会信用代码不正确（18位，末位为校验码）/ not a valid unified social credit code")


def _parse_date(errors: list[FieldError], raw: Mapping[str, Any], name: str, label: str, today: date) -> date | None:
    value = raw.get(name)
    if value in (None, ""):
        errors.append(FieldError(name, "required", f"请填写{label} / {name} is required"))
        return None
    try:
        parsed = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
    except ValueError:
        errors.append(FieldError(name, "invalid", f"{label}格式应为 年-月-日 / use YYYY-MM-DD"))
        return None
    if parsed > today:
        errors.append(FieldError(name, "future", f"{label}不能晚于今天 / {name} cannot be in the future"))
        return None
    return parsed


def validate_submission(raw: Mapping[str, Any], *, counties: Mapping[str, str], today: date) -> ComplaintSubmission:
    """Check every rule; raise `SubmissionInvalid` listing each failing field."""
    errors: list[FieldError] = []
    texts = {name: _text(raw, name) for name in TEXT_LIMITS}
    for name, label in (("worker_name", "姓名"), ("employer_name", "用人单位名称"), ("project_name", "项目名称"),
                        ("description", "情况说明")):
        _check_length(errors, name, texts[name], label)

    id_number, error = check_id_number(_text(raw, "id_number"), today)
    if error:
        errors.append(error)

    phone = re.sub(r"[\s-]", "", _text(raw, "phone")).removeprefix("+86")
    if not MOBILE.match(phone):
        errors.append(FieldError("phone", "invalid", "请填写11位手机号码 / an 11-digit mainland mobile number"))

    bank_card = re.sub(r"\s", "", _text(raw, "bank_card")) or None
    if bank_card and not (bank_card.isdigit() and 12 <= len(bank_card) <= 19 and luhn.is_valid(bank_card)):
        errors.append(FieldError("bank_card", "invalid", "银行卡号不正确 / the bank card number is not valid"))

    credit_code, error = check_credit_code(_text(raw, "employer_credit_code"))
    if error:
        errors.append(error)

    site_id = _text(raw, "site_id") or None
    if site_id and not SITE_ID.match(site_id):
        errors.append(FieldError("site_id", "invalid", "项目编号不正确 / unknown site id"))

    county = _text(raw, "county_code")
    if county not in counties:
        errors.append(FieldError("county_code", "unknown", "请选择所在区县 / choose a county from the list"))

    amount: Decimal | None = None
    try:
        amount = Decimal(_text(raw, "amount_owed").replace(",", "").replace("元", ""))
        if not amount.is_finite() or amount <= 0:
            raise InvalidOperation
        if amount > MAX_AMOUNT:
            errors.append(FieldError("amount_owed", "too_large", "金额过大，请核对 / the amount is implausibly large"))
        elif amount.as_tuple().exponent < -2:  # type: ignore[operator]
            errors.append(FieldError("amount_owed", "precision", "金额最多保留两位小数 / at most 2 decimals"))
    except (InvalidOperation, ValueError):
        errors.append(FieldError("amount_owed", "invalid", "请填写被拖欠的金额（元）/ a positive amount in yuan"))
        amount = None

    workers_raw = _text(raw, "workers_affected") or "1"
    workers = int(workers_raw) if workers_raw.isdigit() else 0
    if not 1 <= workers <= MAX_WORKERS:
        errors.append(FieldError("workers_affected", "invalid", f"人数应在1到{MAX_WORKERS}之间 / 1 to {MAX_WORKERS}"))

    start = _parse_date(errors, raw, "period_start", "欠薪开始日期", today)
    end = _parse_date(errors, raw, "period_end", "欠薪结束日期", today)
    if start and end and start > end:
        errors.append(FieldError("period_end", "before_start", "结束日期不能早于开始日期 / the end is before the start"))

    channel = _text(raw, "channel") or "clerk"
    if channel not in ("qr_form", "clerk", "clue_import"):
        errors.append(FieldError("channel", "invalid", "unknown channel"))

    if errors:
        raise SubmissionInvalid(errors)
    assert id_number and amount is not None and start and end
    return ComplaintSubmission(
        worker_name=texts["worker_name"],
        id_number=id_number,
        phone=phone,
        bank_card=bank_card,
        employer_name=texts["employer_name"],
        employer_credit_code=credit_code,
        site_id=site_id,
        project_name=texts["project_name"],
        county_code=county,
        period_start=start,
        period_end=end,
        amount_owed=amount.quantize(Decimal("0.01")),
        workers_affected=workers,
        description=texts["description"],
        confidential=str(raw.get("confidential", "")).lower() in ("true", "1", "on", "yes"),
        channel=channel,  # type: ignore[arg-type]
        stale_for_rejection=is_stale(end, today),
    )


def is_stale(period_end: date, today: date) -> bool:
    """Over the 2-year limit: still accepted into the system, but marked for a written rejection."""
    try:
        limit = period_end.replace(year=period_end.year + STALE_AFTER_YEARS)
    except ValueError:  # 29 February
        limit = period_end.replace(year=period_end.year + STALE_AFTER_YEARS, day=28)
    return today > limit


def validate_site(raw: Mapping[str, Any], *, counties: Mapping[str, str]) -> dict[str, Any]:
    errors: list[FieldError] = []
    if raw.get("county_code") not in counties:
        errors.append(FieldError("county_code", "unknown", "请选择所在区县 / choose a county from the list"))
    site = dict(raw)
    for field in ("owner_credit_code", "general_contractor_credit_code"):
        code, error = check_credit_code(str(raw.get(field) or ""), field)
        if error:
            errors.append(error)
        site[field] = code
    if errors:
        raise SubmissionInvalid(errors)
    return site


# -- display and references -------------------------------------------------------------------------


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def mask_id_number(id_number: str) -> str:
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:] if len(id_number) > 8 else "****"


def mask_bank_card(card: str) -> str:
    return "**** " + card[-4:] if len(card) >= 4 else "****"


def mask_name(name: str) -> str:
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# Letters and digits a person reads out over the phone without confusion (no 0/O, 1/I/L).
READABLE = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_complaint_id(now: datetime, *, token: str | None = None) -> str:
    """TS-YYYYMMDD-XXXXXX: sortable by date, unguessable, no personal data."""
    suffix = token or "".join(secrets.choice(READABLE) for _ in range(6))
    return f"TS-{now:%Y%m%d}-{suffix}"


def new_tracking_code() -> str:
    """Eight readable characters shown as XXXX-XXXX: the worker's secret for following the complaint."""
    code = "".join(secrets.choice(READABLE) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


def normalise_employer_name(name: str) -> str:
    """One key for the spellings of one employer: full-width folded, spaces and punctuation dropped,
    the common legal-form variants written one way."""
    folded = unicodedata.normalize("NFKC", name).upper()
    folded = re.sub(r"[\s\W_]+", "", folded)
    for variant, canonical in (("有限责任公司", "有限公司"), ("股份有限公司", "股份公司")):
        folded = folded.replace(variant, canonical)
    return folded


def normalise_project_name(name: str) -> str:
    return re.sub(r"[\s\W_]+", "", unicodedata.normalize("NFKC", name).upper())


# -- clue import ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedClue:
    row: int
    submission: ComplaintSubmission | None
    errors: list[FieldError]


def parse_clues(
    stream: IO[str], fmt: Literal["jsonl", "csv"], *, counties: Mapping[str, str], today: date
) -> Iterator[ParsedClue]:
    """One result per row (1-based; CSV rows counted after the header), valid or with its errors."""
    rows: Iterator[tuple[int, Any]]
    if fmt == "csv":
        rows = enumerate(csv.DictReader(stream), start=1)
    else:
        rows = ((n, line) for n, line in enumerate(stream, start=1) if line.strip())
    for number, item in rows:
        if fmt == "jsonl":
            try:
                item = json.loads(item)
                if not isinstance(item, dict):
                    raise ValueError("not an object")
            except ValueError as exc:
                yield ParsedClue(number, None, [FieldError("row", "not_json", f"不是有效的 JSON 对象 / {exc}")])
                continue
        item = {**item, "channel": "clue_import"}
        try:
            yield ParsedClue(number, validate_submission(item, counties=counties, today=today), [])
        except SubmissionInvalid as invalid:
            yield ParsedClue(number, None, invalid.errors)


def clue_fingerprint(s: ComplaintSubmission) -> str:
    """The same clue imported twice has the same fingerprint (worker, employer, project, period)."""
    key = "|".join([
        s.id_number,
        normalise_employer_name(s.employer_name),
        s.site_id or normalise_project_name(s.project_name),
        s.period_start.isoformat(),
        s.period_end.isoformat(),
    ])
    return hashlib.sha256(key.encode()).hexdigest()
