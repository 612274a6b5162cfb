"""Intake's pure rules: what a valid complaint is, how identifiers are checked, masked and numbered.

No I/O here. Every failure names its field with a message in Chinese (for the worker) and English
(for clerks' systems), written "中文 / English", so the form and the API explain the same problem the
same way. Whatever can be read leniently is (full-width digits, spaces in numbers, "18,600元", dates
written 2026/6/1): a worker on a cheap phone should not be refused for the way they type.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field
from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

from services.common import crypto
from services.contracts.intake_events import Channel
from services.contracts.owed_period import VIOLATION_LIMIT_YEARS, past_violation_limit

# Handan's county-level divisions (县级行政区划代码): where complaints of the default deployment belong.
# Configuration, not law: a deployment for another city passes its own list, and the functional zones
# (经济技术开发区, 冀南新区) can be added to it with the codes the bureau uses for them.
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
ID_PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43",
    "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
})


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
    bank_card: str | None = Field(None, examples=["6222021234567890128"],
                                  description="Optional bank card for the payment (Luhn-checked)")
    employer_name: str = Field(examples=["邯郸市某建筑劳务有限公司"], description="Who owes the wages")
    employer_credit_code: str | None = Field(None, examples=["91130400MA07ABCD12"],
                                             description="Unified social credit code (18 chars) if known")
    site_id: str | None = Field(None, examples=["HD-2026-0001"], description="Registered site (from the QR code)")
    project_name: str = Field(examples=["丛台区某安置房项目"], description="Project or site name")
    county_code: str = Field(examples=["130403"], description="County code from the configured list")
    period_start: date | str = Field(examples=["2026-06-01"], description="First day owed (YYYY-MM-DD)")
    period_end: date | str = Field(examples=["2026-09-30"], description="Last day owed, not in the future")
    amount_owed: Decimal | str = Field(examples=["18600.00"], description="Yuan, positive, at most 2 decimals")
    # The default (1) is said in the description, not as the schema's `default`: a generated Java client types
    # the number-or-text field as a wrapper class, which cannot hold a literal default.
    workers_affected: int | str = Field(1, examples=[12], description="How many workers are owed (1 for oneself, "
                                        "when left out)", json_schema_extra=_without_default)
    description: str = Field(examples=["2026年6月至9月在该项目做钢筋工，工资一直未发放。"],
                             description="What happened, in the worker's words (5 to 2000 characters)")
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


# -- reading raw values --------------------------------------------------------------------------------

# Control characters (PostgreSQL refuses NUL in text) and invisible marks that make equal texts differ.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\u2060\ufeff]")


def _present(raw: Mapping[str, Any], name: str) -> Any:
    value = raw.get(name)
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _free_text(value: Any, *, multiline: bool = False) -> str:
    """Text in the writer's own characters (NFC keeps full-width punctuation as typed)."""
    if value is None:
        return ""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n"))
    if multiline:
        return "\n".join(line.strip() for line in text.split("\n")).strip()
    return re.sub(r"\s+", " ", text).strip()


def _ascii(value: Any, drop: str = r"\s") -> str:
    """An identifier or number as typed: full-width folded to ASCII (NFKC), invisible marks and the
    characters matching `drop` (by default, whitespace) removed."""
    if value is None:
        return ""
    return re.sub(drop, "", _INVISIBLE.sub("", unicodedata.normalize("NFKC", str(value))))


def _length_error(name: str, value: str, limits: tuple[int, int]) -> FieldError | None:
    low, high = limits
    label = LABELS.get(name, name)
    if not value:
        return FieldError(name, "required", f"请填写{label} / {name} is required") if low else None
    if len(value) < low:
        return FieldError(name, "too_short", f"{label}至少{low}个字 / {name}: at least {low} characters")
    if len(value) > high:
        return FieldError(name, "too_long", f"{label}最多{high}个字 / {name}: at most {high} characters")
    return None


# Names are letters of any script, with the separators of transliterated minority names (买买提·艾力).
_NAME = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ ·•.'-])*$")


def check_worker_name(value: Any) -> tuple[str, FieldError | None]:
    name = _free_text(unicodedata.normalize("NFKC", str(value)) if value is not None else None)
    error = _length_error("worker_name", name, TEXT_LIMITS["worker_name"])
    if error is None and not _NAME.match(name):
        error = FieldError("worker_name", "invalid_chars",
                           "姓名只能包含汉字或字母 / the name may contain letters only")
    return name, error


def check_id_number(value: Any, *, today: date, field: str = "id_number") -> tuple[str | None, FieldError | None]:
    """A resident ID number (GB 11643): 18 characters, the check character, a real birth date not in the
    future, a known province.

    stdnum's full `ric.validate` also checks the 6-digit region against the birth year, but the region is
    where the number was first issued, which can be years after birth (late household registration, a
    county created later), and Hong Kong, Macao and Taiwan residence permits fail it. Refusing a real
    worker's number costs far more than the inspector's check of identity, so the region is checked to
    the province only.
    """
    compact = _ascii(value, r"[\s-]").upper()
    if not compact:
        return None, FieldError(field, "required", "请填写身份证号码 / the ID number is required")
    if len(compact) != 18:
        return None, FieldError(field, "length",
                                "身份证号码应为18位（旧的15位号码已停用） / an ID number has 18 characters")
    if not compact[:17].isdigit() or not (compact[17].isdigit() or compact[17] == "X"):
        return None, FieldError(field, "format",
                                "身份证号码前17位应为数字，最后一位是数字或X / 17 digits then a digit or X")
    if compact[17] != ric.calc_check_digit(compact):
        return None, FieldError(field, "check_digit",
                                "身份证号码有误（校验位不对），请逐位核对 / the ID number's check digit is wrong")
    # The permanent residence ID of foreigners (2023 format) starts with 9, then the province.
    province = compact[1:3] if compact[0] == "9" else compact[:2]
    if province not in ID_PROVINCES:
        return None, FieldError(field, "region",
                                "身份证号码前两位地区码不正确 / the region code of the ID number is not valid")
    try:
        birth = ric.get_birth_date(compact)
    except StdnumError:
        birth = None
    if birth is None or birth.year < EARLIEST_BIRTH_YEAR:
        return None, FieldError(field, "birth_date",
                                "身份证号码中的出生日期不存在 / the birth date in the ID number is not a real date")
    if birth > today:
        return None, FieldError(field, "birth_date_future",
                                "身份证号码中的出生日期晚于今天 / the birth date in the ID number is in the future")
    return compact, None


def check_phone(value: Any) -> tuple[str | None, FieldError | None]:
    phone = _ascii(value, r"[\s()-]")
    for prefix in ("+86", "0086", "86"):
        if phone.startswith(prefix) and len(phone) == len(prefix) + 11:
            phone = phone[len(prefix):]
    if not phone:
        return None, FieldError("phone", "required", "请填写手机号码 / the mobile number is required")
    if not MOBILE.match(phone):
        return None, FieldError("phone", "invalid",
                                "请填写11位手机号码（1开头） / an 11-digit mainland mobile number starting with 1")
    return phone, None


def check_credit_code(value: Any, field: str = "employer_credit_code") -> tuple[str | None, FieldError | None]:
    """A unified social credit code (GB 32100) when one is given; empty means not known."""
    compact = _ascii(value, r"[\s-]").upper()
    if not compact:
        return None, None
    label = LABELS.get(field, "统一社会信用代码")
    try:
        return uscc.validate(compact), None
    except InvalidLength:
        return None, FieldError(field, "length", f"{label}应为18位 / a credit code has 18 characters")
    except InvalidChecksum:
        return None, FieldError(field, "check_digit",
                                f"{label}有误（末位校验码不对），请核对 / the credit code's check character is wrong")
    except (InvalidFormat, StdnumError):
        return None, FieldError(field, "format",
                                f"{label}格式不正确 / not a unified social credit code (digits and letters, no I O S V Z)")


def check_bank_card(value: Any) -> tuple[str | None, FieldError | None]:
    card = _ascii(value, r"[\s-]")
    if not card:
        return None, None
    if not card.isdigit() or not 12 <= len(card) <= 19:
        return None, FieldError("bank_card", "format",
                                "银行卡号应为12到19位数字；不确定可以不填 / 12 to 19 digits; may be left empty")
    if not luhn.is_valid(card):
        return None, FieldError("bank_card", "check_digit",
                                "银行卡号有误，请核对；不确定可以不填 / the card number does not check; may be left empty")
    return card, None


def check_amount(value: Any, *, maximum: Decimal = MAX_AMOUNT) -> tuple[Decimal | None, FieldError | None]:
    """Yuan: positive, at most 2 decimals, at most `maximum`. Reads "18,600元" and "¥18600"."""
    field = "amount_owed"
    if value is None or value == "":
        return None, FieldError(field, "required", "请填写被拖欠的金额（元） / the amount owed is required")
    invalid = FieldError(field, "invalid", "金额应为数字，例如 18600 或 18600.50 / a number of yuan, e.g. 18600.50")
    if isinstance(value, bool):
        return None, invalid
    try:
        if isinstance(value, Decimal | int):
            amount = Decimal(value)
        elif isinstance(value, float):
            amount = Decimal(repr(value))
        else:
            amount = Decimal(re.sub(r"(?i)rmb|[,¥元圆]", "", _ascii(value)))
    except (InvalidOperation, ValueError):
        return None, invalid
    if not amount.is_finite():
        return None, invalid
    if amount <= 0:
        return None, FieldError(field, "not_positive", "金额应大于0 / the amount must be more than 0")
    if amount > maximum:
        return None, FieldError(field, "too_large",
                                f"金额超过{maximum:,.0f}元，请核对 / the amount is implausibly large (over {maximum:,.0f})")
    if amount != amount.quantize(Decimal("0.01")):
        return None, FieldError(field, "precision", "金额最多保留两位小数（分） / at most 2 decimals")
    return amount.quantize(Decimal("0.01")), None


def check_workers_affected(value: Any) -> tuple[int | None, FieldError | None]:
    field = "workers_affected"
    if value is None or value == "":
        return 1, None  # one's own complaint
    if isinstance(value, bool):
        count = None
    elif isinstance(value, int):
        count = value
    else:
        text = _ascii(value).removesuffix("人")
        count = int(text) if text.isdigit() else None
    if count is None or not 1 <= count <= MAX_WORKERS:
        return None, FieldError(field, "invalid",
                                f"人数应为1到{MAX_WORKERS}之间的整数 / a whole number from 1 to {MAX_WORKERS}")
    return count, None


_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def check_date(value: Any, *, field: str, today: date) -> tuple[date | None, FieldError | None]:
    label = LABELS.get(field, field)
    if value is None or value == "":
        return None, FieldError(field, "required", f"请填写{label} / {field} is required")
    parsed: date | None = None
    if isinstance(value, datetime):
        parsed = value.date()
    elif isinstance(value, date):
        parsed = value
    else:
        match = _DATE.match(_ascii(value))
        if match:
            try:
                parsed = date(*(int(part) for part in match.groups()))
            except ValueError:
                parsed = None
    if parsed is None:
        return None, FieldError(field, "invalid", f"{label}应为 年-月-日，例如 2026-06-01 / use YYYY-MM-DD")
    if parsed > today:
        return None, FieldError(field, "future", f"{label}不能晚于今天 / {field} cannot be in the future")
    return parsed, None


def check_county(value: Any, counties: Mapping[str, str]) -> tuple[str | None, FieldError | None]:
    """A configured county, by code or, for imported clues, by its exact name."""
    text = _ascii(value)
    if text in counties:
        return text, None
    by_name = {name: code for code, name in counties.items()}
    if text in by_name:
        return by_name[text], None
    if not text:
        return None, FieldError("county_code", "required", "请选择所在区县 / choose a county")
    return None, FieldError("county_code", "unknown",
                            "请从列表中选择所在区县 / choose a county from the configured list")


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return _ascii(value).lower() in ("true", "1", "on", "yes", "y", "是", "保密")


# -- the one entry point -------------------------------------------------------------------------------


def validate_submission(
    raw: Mapping[str, Any],
    *,
    counties: Mapping[str, str],
    today: date,
    stale_after_years: int = STALE_AFTER_YEARS,
) -> ComplaintSubmission:
    """Check every rule; raise `SubmissionInvalid` listing each failing field (in form order).

    `today` is the China Standard Time date (`services/contracts/legal_time.py`): no date may lie after it,
    and the violation limit is judged on it.
    """
    errors: list[FieldError] = []

    def keep(result: tuple[Any, FieldError | None]) -> Any:
        value, error = result
        if error is not None:
            errors.append(error)
        return value

    worker_name = keep(check_worker_name(_present(raw, "worker_name")))
    id_number = keep(check_id_number(_present(raw, "id_number"), today=today))
    phone = keep(check_phone(_present(raw, "phone")))
    bank_card = keep(check_bank_card(_present(raw, "bank_card")))

    texts = {
        name: _free_text(_present(raw, name), multiline=name == "description")
        for name in ("employer_name", "project_name", "description")
    }
    for name in ("employer_name", "project_name"):
        keep((None, _length_error(name, texts[name], TEXT_LIMITS[name])))
    credit_code = keep(check_credit_code(_present(raw, "employer_credit_code")))

    site_id = _ascii(_present(raw, "site_id")) or None
    if site_id and not SITE_ID.match(site_id):
        errors.append(FieldError("site_id", "invalid", "项目编号不正确，请重新扫码 / not a valid site id"))
    county = keep(check_county(_present(raw, "county_code"), counties))

    start = keep(check_date(_present(raw, "period_start"), field="period_start", today=today))
    end = keep(check_date(_present(raw, "period_end"), field="period_end", today=today))
    if start and end and start > end:
        errors.append(FieldError("period_end", "before_start",
                                 "结束日期不能早于开始日期 / the end of the period is before its start"))
    amount = keep(check_amount(_present(raw, "amount_owed")))
    workers = keep(check_workers_affected(_present(raw, "workers_affected")))
    keep((None, _length_error("description", texts["description"], TEXT_LIMITS["description"])))

    channel = _ascii(_present(raw, "channel")) or "clerk"
    if channel not in CHANNELS:
        errors.append(FieldError("channel", "invalid",
                                 f"提交渠道不正确 / channel must be one of {', '.join(CHANNELS)}"))

    if errors:
        raise SubmissionInvalid(errors)
    assert end is not None  # for the type checker: no errors means every value was read
    return ComplaintSubmission(
        worker_name=worker_name,
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
        amount_owed=amount,
        workers_affected=workers,
        description=texts["description"],
        confidential=_truthy(raw.get("confidential")),
        channel=channel,  # type: ignore[arg-type]
        # `today` is the China date (`Intake.today`), as the workflow judges the same limit on receipt.
        stale_for_rejection=past_violation_limit(end, today, years=stale_after_years),
    )


def validate_site_registration(raw: Mapping[str, Any], *, counties: Mapping[str, str]) -> SiteRegistration:
    errors: list[FieldError] = []
    site_id = _ascii(_present(raw, "site_id"))
    if not SITE_ID.match(site_id):
        errors.append(FieldError("site_id", "invalid",
                                 "项目编号为3到40位字母、数字或短横线 / 3 to 40 letters, digits or dashes"))
    texts = {name: _free_text(_present(raw, name)) for name in SITE_TEXT_LIMITS}
    for name, limits in SITE_TEXT_LIMITS.items():
        error = _length_error(name, texts[name], limits)
        if error:
            errors.append(error)
    county, error = check_county(_present(raw, "county_code"), counties)
    if error:
        errors.append(error)
    codes: dict[str, str | None] = {}
    for field in ("owner_credit_code", "general_contractor_credit_code"):
        codes[field], error = check_credit_code(_present(raw, field), field)
        if error:
            errors.append(error)
    if errors:
        raise SubmissionInvalid(errors)
    return SiteRegistration(
        site_id=site_id,
        name=texts["name"],
        county_code=county or "",
        address=texts["address"],
        owner_name=texts["owner_name"] or None,
        general_contractor=texts["general_contractor"] or None,
        **codes,
    )


def validate_site(raw: Mapping[str, Any], *, counties: Mapping[str, str]) -> dict[str, Any]:
    """`validate_site_registration` as the plain dict the store writes."""
    return validate_site_registration(raw, counties=counties).model_dump()


# -- display and references ----------------------------------------------------------------------------


def mask_phone(phone: str) -> str:
    """139****5678"""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def mask_id_number(id_number: str) -> str:
    """1304**********1234: the region's start and the last four; the birth date is hidden."""
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:] if len(id_number) > 8 else "****"


def mask_bank_card(card: str) -> str:
    """**** 0128"""
    return "**** " + card[-4:] if len(card) >= 8 else "****"


def mask_name(name: str) -> str:
    """张* for two characters, 张*三 for three, 欧**明 for four: first and last shown."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def keyed_reference(value: str, key: bytes, *, prefix: str = "pref") -> str:
    """A stable pseudonym for a phone or ID number in events: HMAC-SHA256 under the deployment's key.

    Delegates to the one implementation the services share, so intake's references match everyone's.
    It is written in base32 rather than hex: a hex digest can hold a run of digits that reads like a
    phone number, which the leak checks rightly refuse.
    """
    return crypto.keyed_reference(value, key, prefix=prefix)


# -- numbering -----------------------------------------------------------------------------------------

# Letters and digits a person reads out over the phone without confusion (no 0/O, 1/I/L).
READABLE = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
COMPLAINT_ID = re.compile(rf"^TS-\d{{8}}-[{READABLE}]{{6}}$")
TRACKING_CODE = re.compile(rf"^[{READABLE}]{{4}}-[{READABLE}]{{4}}$")


def new_complaint_id(now: datetime, *, choose: Callable[[str], str] = secrets.choice) -> str:
    """TS-YYYYMMDD-XXXXXX: sorts by date, carries no personal data, its suffix cannot be guessed."""
    return f"TS-{now:%Y%m%d}-{''.join(choose(READABLE) for _ in range(6))}"


def new_tracking_code(*, choose: Callable[[str], str] = secrets.choice) -> str:
    """Eight readable characters shown as XXXX-XXXX (about 40 bits): the worker's secret for following
    the complaint, easy to read out over the phone."""
    code = "".join(choose(READABLE) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


def normalise_complaint_id(value: str) -> str | None:
    """A complaint number as typed (lower case, spaces, full-width) in normal form, or None."""
    compact = re.sub(r"[\s\-_]", "", unicodedata.normalize("NFKC", value or "")).upper()
    if len(compact) != 16 or not compact.startswith("TS"):
        return None
    candidate = f"TS-{compact[2:10]}-{compact[10:]}"
    return candidate if COMPLAINT_ID.match(candidate) else None


def normalise_tracking_code(value: str) -> str | None:
    """A tracking code as typed ("k7qm 3zpa", without the dash) as XXXX-XXXX, or None."""
    compact = re.sub(r"[\s\-_]", "", unicodedata.normalize("NFKC", value or "")).upper()
    candidate = f"{compact[:4]}-{compact[4:]}"
    return candidate if len(compact) == 8 and TRACKING_CODE.match(candidate) else None


# -- matching names ------------------------------------------------------------------------------------

# Legal-form spellings that name the same kind of company (公司法: 有限责任公司 may call itself 有限公司).
LEGAL_FORM_VARIANTS: tuple[tuple[str, str], ...] = (
    ("有限责任公司", "有限公司"),
    ("股份有限公司", "股份公司"),
    ("有限公司有限公司", "有限公司"),
)


def normalise_employer_name(name: str) -> str:
    """One key for the spellings of one employer: full-width folded, case folded, spaces and
    punctuation dropped, the legal-form variants written one way."""
    folded = unicodedata.normalize("NFKC", name or "").upper()
    folded = re.sub(r"[\s\W_]+", "", folded)
    for variant, canonical in LEGAL_FORM_VARIANTS:
        folded = folded.replace(variant, canonical)
    return folded


def normalise_project_name(name: str) -> str:
    return re.sub(r"[\s\W_]+", "", unicodedata.normalize("NFKC", name or "").upper())


# -- clue import ---------------------------------------------------------------------------------------

# Column names other platforms use for our fields (CSV headers or JSON keys).
CLUE_FIELD_ALIASES: dict[str, str] = {
    "姓名": "worker_name",
    "投诉人": "worker_name",
    "投诉人姓名": "worker_name",
    "身份证号": "id_number",
    "身份证号码": "id_number",
    "公民身份号码": "id_number",
    "手机号": "phone",
    "手机号码": "phone",
    "联系电话": "phone",
    "银行卡号": "bank_card",
    "用人单位": "employer_name",
    "用人单位名称": "employer_name",
    "欠薪单位": "employer_name",
    "被投诉单位": "employer_name",
    "统一社会信用代码": "employer_credit_code",
    "项目编号": "site_id",
    "项目名称": "project_name",
    "区县代码": "county_code",
    "所在区县": "county_code",
    "区县": "county_code",
    "欠薪开始日期": "period_start",
    "欠薪结束日期": "period_end",
    "欠薪金额": "amount_owed",
    "拖欠金额": "amount_owed",
    "涉及人数": "workers_affected",
    "欠薪人数": "workers_affected",
    "情况说明": "description",
    "投诉内容": "description",
    "是否保密": "confidential",
}


@dataclass(frozen=True)
class ParsedClue:
    """One row of an import: `row` is 1-based (JSON lines: the line; CSV: the record after the header)."""

    row: int
    submission: ComplaintSubmission | None
    errors: list[FieldError]


def _rename_columns(item: Mapping[Any, Any]) -> dict[str, Any]:
    renamed: dict[str, Any] = {}
    for key, value in item.items():
        if key is None:
            continue
        name = str(key).strip().lstrip("\ufeff")
        renamed[CLUE_FIELD_ALIASES.get(name, name)] = value
    return renamed


def _csv_rows(stream: IO[str]) -> Iterator[tuple[int, dict[str, Any] | FieldError]]:
    reader = csv.DictReader(stream)
    number = 0
    while True:
        number += 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # The reader cannot resynchronise after a broken record: report it and stop.
            yield number, FieldError("row", "not_csv", f"不是有效的 CSV 记录 / not a valid CSV record: {exc}")
            return
        if None in record:
            yield number, FieldError("row", "columns", "这一行的列数多于表头 / more columns than the header")
            continue
        yield number, record


def _jsonl_rows(stream: IO[str]) -> Iterator[tuple[int, dict[str, Any] | FieldError]]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line, parse_float=Decimal)  # amounts stay exact
        except ValueError as exc:
            yield number, FieldError("row", "not_json", f"不是有效的 JSON 对象 / not a JSON object: {exc}")
            continue
        if not isinstance(item, dict):
            yield number, FieldError("row", "not_json", "不是有效的 JSON 对象 / not a JSON object")
            continue
        yield number, item


def parse_clues(
    stream: IO[str] | Iterable[str],
    fmt: Literal["jsonl", "csv"],
    *,
    counties: Mapping[str, str],
    today: date,
    stale_after_years: int = STALE_AFTER_YEARS,
) -> Iterator[ParsedClue]:
    """One result per row, valid or with its errors, read lazily from `stream` (text)."""
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"unknown clue format {fmt!r}: use 'jsonl' or 'csv'")
    rows = _csv_rows(stream) if fmt == "csv" else _jsonl_rows(stream)  # type: ignore[arg-type]
    for number, item in rows:
        if isinstance(item, FieldError):
            yield ParsedClue(number, None, [item])
            continue
        fields = {**_rename_columns(item), "channel": "clue_import"}
        try:
            submission = validate_submission(fields, counties=counties, today=today,
                                             stale_after_years=stale_after_years)
        except SubmissionInvalid as invalid:
            yield ParsedClue(number, None, invalid.errors)
        else:
            yield ParsedClue(number, submission, [])


def clue_fingerprint(s: ComplaintSubmission, *, key: bytes | None = None) -> str:
    """The same clue imported twice has the same fingerprint: worker, employer, site, owed period.

    Pass the deployment's reference key: an unkeyed hash of an ID number can be reversed by trying every
    possible number, and the fingerprint is stored beside the clue.
    """
    material = "|".join([
        s.id_number.upper(),
        normalise_employer_name(s.employer_name),
        s.site_id or normalise_project_name(s.project_name),
        s.period_start.isoformat(),
        s.period_end.isoformat(),
    ]).encode()
    if key:
        return hmac.new(key, b"clue|" + material, hashlib.sha256).hexdigest()
    return hashlib.sha256(material).hexdigest()
