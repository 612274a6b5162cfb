"""Made-up identifiers for tests: check characters computed, never a real person's or company's number."""

from __future__ import annotations

from datetime import date
from typing import Any

from stdnum import luhn
from stdnum.cn import ric, uscc

TODAY = date(2026, 11, 28)


def id_number(region: str = "130402", birth: date = date(1990, 3, 7), seq: int = 451) -> str:
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def wrong_check(number: str, alphabet: str = "0123456789X") -> str:
    """The same number with a different (so wrong) last character."""
    return number[:-1] + next(c for c in alphabet if c != number[-1])


def credit_code(body: str = "91130400MA07ABCD1") -> str:
    return body + uscc.calc_check_digit(body)


def bank_card(body: str = "622202123456789012") -> str:
    return body + luhn.calc_check_digit(body)


def submission(**overrides: Any) -> dict[str, Any]:
    """A valid complaint as a form or a clerk sends it: strings everywhere."""
    raw: dict[str, Any] = {
        "worker_name": "王五",
        "id_number": id_number(),
        "phone": "13912345678",
        "employer_name": "邯郸市某建筑劳务有限公司",
        "employer_credit_code": credit_code(),
        "project_name": "邯山区某安置房项目",
        "county_code": "130402",
        "period_start": "2026-06-01",
        "period_end": "2026-09-30",
        "amount_owed": "18600",
        "workers_affected": "3",
        "description": "六月到九月在该项目做钢筋工，工资一直没有发放。",
    }
    raw.update(overrides)
    return raw
