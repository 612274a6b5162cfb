"""The project register's field checks (the rules of `domain.py`, one field at a time): a raw value read as the
API's JSON or an import's cell gives it — text trimmed, an identifier a spreadsheet stored as a number read
back as typed — and each field checked, returning its normal form or the `FieldError` that names it. The
monthly feeds check their amounts with the same `check_amount` (services/monitoring/feed_rows.py). A whole
project is checked in `project_validation.py`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

from services.monitoring.domain import FieldError

# -- reading raw values --------------------------------------------------------------------------------


def plain_text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def code_text(value: Any) -> str:
    """An identifier as typed (a spreadsheet may hold a county code as the number 130402.0)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return plain_text(value)


def required_text(
    raw: Mapping[str, Any], field: str, label: str, errors: list[FieldError], max_length: int = 200
) -> str:
    text = re.sub(r"\s+", " ", plain_text(raw.get(field)))
    if not text:
        errors.append(FieldError(field, "required", f"请填写{label} / {field} is required"))
    elif len(text) > max_length:
        errors.append(FieldError(field, "too_long", f"{label}不超过{max_length}字 / at most {max_length} characters"))
    return text


def check_credit_code(value: Any, field: str) -> tuple[str | None, FieldError | None]:
    """A unified social credit code (GB 32100): 18 characters, its check character right."""
    compact = re.sub(r"[\s-]", "", plain_text(value)).upper()
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
    text = plain_text(value)
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
    text = re.sub(r"[,，\s]", "", plain_text(value)).removeprefix("¥").removeprefix("￥").removesuffix("元")
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


def check_choice(
    value: Any, field: str, label: str, ids: Mapping[str, Any], names: Mapping[str, Any]
) -> tuple[Any, FieldError | None]:
    text = code_text(value)
    if not text:
        return None, FieldError(field, "required", f"请填写{label} / {field} is required")
    if text in ids:
        return ids[text], None
    if text in names:
        return names[text], None
    return None, FieldError(field, "unknown", f"{label}不在可选范围内 / one of {', '.join(ids)}")
