"""Intake's field checks (the rules of `domain.py`, one field at a time): a raw value read leniently — text in
the writer's characters, identifiers and numbers folded to ASCII — and each field checked, returning its normal
form or the `FieldError` that names it. A whole submission is checked in `validation.py`."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

from services.intake.domain import (
    EARLIEST_BIRTH_YEAR,
    ID_PROVINCES,
    LABELS,
    MAX_AMOUNT,
    MAX_WORKERS,
    MOBILE,
    TEXT_LIMITS,
    FieldError,
)

# -- reading raw values --------------------------------------------------------------------------------

# Control characters (PostgreSQL refuses NUL in text) and invisible marks that make equal texts differ.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\u2060\ufeff]")


def raw_value(raw: Mapping[str, Any], name: str) -> Any:
    """The field's value as sent, or None when it is missing or blank."""
    value = raw.get(name)
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def free_text(value: Any, *, multiline: bool = False) -> str:
    """Text in the writer's own characters (NFC keeps full-width punctuation as typed)."""
    if value is None:
        return ""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n"))
    if multiline:
        return "\n".join(line.strip() for line in text.split("\n")).strip()
    return re.sub(r"\s+", " ", text).strip()


def folded_ascii(value: Any, drop: str = r"\s") -> str:
    """An identifier or number as typed: full-width folded to ASCII (NFKC), invisible marks and the
    characters matching `drop` (by default, whitespace) removed."""
    if value is None:
        return ""
    return re.sub(drop, "", _INVISIBLE.sub("", unicodedata.normalize("NFKC", str(value))))


def length_error(name: str, value: str, limits: tuple[int, int]) -> FieldError | None:
    """The error of a text outside its (shortest, longest) limits, or None; an empty text only when required."""
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
    name = free_text(unicodedata.normalize("NFKC", str(value)) if value is not None else None)
    error = length_error("worker_name", name, TEXT_LIMITS["worker_name"])
    if error is None and not _NAME.match(name):
        error = FieldError("worker_name", "invalid_chars", "姓名只能包含汉字或字母 / the name may contain letters only")
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
    compact = folded_ascii(value, r"[\s-]").upper()
    if not compact:
        return None, FieldError(field, "required", "请填写身份证号码 / the ID number is required")
    if len(compact) != 18:
        return None, FieldError(
            field, "length", "身份证号码应为18位（旧的15位号码已停用） / an ID number has 18 characters"
        )
    if not compact[:17].isdigit() or not (compact[17].isdigit() or compact[17] == "X"):
        return None, FieldError(
            field, "format", "身份证号码前17位应为数字，最后一位是数字或X / 17 digits then a digit or X"
        )
    if compact[17] != ric.calc_check_digit(compact):
        return None, FieldError(
            field, "check_digit", "身份证号码有误（校验位不对），请逐位核对 / the ID number's check digit is wrong"
        )
    # The permanent residence ID of foreigners (2023 format) starts with 9, then the province.
    province = compact[1:3] if compact[0] == "9" else compact[:2]
    if province not in ID_PROVINCES:
        return None, FieldError(
            field, "region", "身份证号码前两位地区码不正确 / the region code of the ID number is not valid"
        )
    try:
        birth = ric.get_birth_date(compact)
    except StdnumError:
        birth = None
    if birth is None or birth.year < EARLIEST_BIRTH_YEAR:
        return None, FieldError(
            field, "birth_date", "身份证号码中的出生日期不存在 / the birth date in the ID number is not a real date"
        )
    if birth > today:
        return None, FieldError(
            field,
            "birth_date_future",
            "身份证号码中的出生日期晚于今天 / the birth date in the ID number is in the future",
        )
    return compact, None


def check_phone(value: Any) -> tuple[str | None, FieldError | None]:
    phone = folded_ascii(value, r"[\s()-]")
    for prefix in ("+86", "0086", "86"):
        if phone.startswith(prefix) and len(phone) == len(prefix) + 11:
            phone = phone[len(prefix) :]
    if not phone:
        return None, FieldError("phone", "required", "请填写手机号码 / the mobile number is required")
    if not MOBILE.match(phone):
        return None, FieldError(
            "phone", "invalid", "请填写11位手机号码（1开头） / an 11-digit mainland mobile number starting with 1"
        )
    return phone, None


def check_credit_code(value: Any, field: str = "employer_credit_code") -> tuple[str | None, FieldError | None]:
    """A unified social credit code (GB 32100) when one is given; empty means not known."""
    compact = folded_ascii(value, r"[\s-]").upper()
    if not compact:
        return None, None
    label = LABELS.get(field, "统一社会信用代码")
    try:
        return uscc.validate(compact), None
    except InvalidLength:
        return None, FieldError(field, "length", f"{label}应为18位 / a credit code has 18 characters")
    except InvalidChecksum:
        return None, FieldError(
            field, "check_digit", f"{label}有误（末位校验码不对），请核对 / the credit code's check character is wrong"
        )
    except (InvalidFormat, StdnumError):
        return None, FieldError(
            field, "format", f"{label}格式不正确 / not a unified social credit code (digits and letters, no I O S V Z)"
        )


def check_bank_card(value: Any) -> tuple[str | None, FieldError | None]:
    card = folded_ascii(value, r"[\s-]")
    if not card:
        return None, None
    if not card.isdigit() or not 12 <= len(card) <= 19:
        return None, FieldError(
            "bank_card", "format", "银行卡号应为12到19位数字；不确定可以不填 / 12 to 19 digits; may be left empty"
        )
    if not luhn.is_valid(card):
        return None, FieldError(
            "bank_card",
            "check_digit",
            "银行卡号有误，请核对；不确定可以不填 / the card number does not check; may be left empty",
        )
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
            amount = Decimal(re.sub(r"(?i)rmb|[,¥元圆]", "", folded_ascii(value)))
    except (InvalidOperation, ValueError):
        return None, invalid
    if not amount.is_finite():
        return None, invalid
    if amount <= 0:
        return None, FieldError(field, "not_positive", "金额应大于0 / the amount must be more than 0")
    if amount > maximum:
        return None, FieldError(
            field,
            "too_large",
            f"金额超过{maximum:,.0f}元，请核对 / the amount is implausibly large (over {maximum:,.0f})",
        )
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
        text = folded_ascii(value).removesuffix("人")
        count = int(text) if text.isdigit() else None
    if count is None or not 1 <= count <= MAX_WORKERS:
        return None, FieldError(
            field, "invalid", f"人数应为1到{MAX_WORKERS}之间的整数 / a whole number from 1 to {MAX_WORKERS}"
        )
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
        match = _DATE.match(folded_ascii(value))
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
    text = folded_ascii(value)
    if text in counties:
        return text, None
    by_name = {name: code for code, name in counties.items()}
    if text in by_name:
        return by_name[text], None
    if not text:
        return None, FieldError("county_code", "required", "请选择所在区县 / choose a county")
    return None, FieldError(
        "county_code", "unknown", "请从列表中选择所在区县 / choose a county from the configured list"
    )
