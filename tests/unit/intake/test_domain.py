"""Intake's rules, one by one: identifiers, amounts, dates, counties, texts, masking, numbering, clues."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from services.intake import domain

TODAY = date(2026, 11, 28)
COUNTIES = domain.DEFAULT_COUNTIES


def id_number(region: str = "130402", birth: date = date(1990, 3, 7), seq: str = "451") -> str:
    body = f"{region}{birth:%Y%m%d}{seq}"
    return body + ric.calc_check_digit(body + "0")


def credit_code(body: str = "91130400MA07ABCD1") -> str:
    return body + uscc.calc_check_digit(body)


def valid(**overrides: Any) -> dict[str, Any]:
    raw = {
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


def errors_of(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(domain.SubmissionInvalid) as caught:
        domain.validate_submission(raw, counties=COUNTIES, today=TODAY)
    return {e.field: e.code for e in caught.value.errors}


def test_a_valid_complaint_passes_normalised() -> None:
    s = domain.validate_submission(valid(id_number=id_number()[:-1] + id_number()[-1].lower(), phone="139 1234 5678"),
                                   counties=COUNTIES, today=TODAY)
    assert s.amount_owed == Decimal("18600.00") and s.workers_affected == 3
    assert s.phone == "13912345678" and s.id_number == id_number().upper()
    assert s.channel == "clerk" and not s.stale_for_rejection


@pytest.mark.parametrize(
    "value,code",
    [
        ("", "required"),
        ("1304021990030745", "length"),
        (id_number()[:-1] + ("0" if id_number()[-1] != "0" else "1"), "check_digit"),
        ("13040219901307451" + "0", "birth_date"),  # month 13
        ("13040220990307451" + "0", "birth_date"),  # born in 2099
        ("1304021990030745A" + "0", "format"),
    ],
)
def test_resident_id_numbers(value: str, code: str) -> None:
    if code == "birth_date" and value[:17].isdigit():
        value = value[:17] + ric.calc_check_digit(value[:17] + "0")
    assert errors_of(valid(id_number=value))["id_number"] == code


@given(st.dates(min_value=date(1940, 1, 1), max_value=date(2008, 12, 31)), st.integers(100, 999))
def test_every_well_formed_id_number_of_a_real_birth_date_validates(birth: date, seq: int) -> None:
    # 东城区 (110101) has kept its code through all these years (the check knows when codes existed).
    s = domain.validate_submission(valid(id_number=id_number("110101", birth, str(seq))), counties=COUNTIES, today=TODAY)
    assert s.id_number.endswith(ric.calc_check_digit(s.id_number))


@pytest.mark.parametrize("phone", ["1234", "12912345678", "139123456789", "abc", ""])
def test_mobile_numbers(phone: str) -> None:
    assert errors_of(valid(phone=phone))["phone"] == "invalid"


def test_credit_code_is_optional_but_checked_when_given() -> None:
    domain.validate_submission(valid(employer_credit_code=""), counties=COUNTIES, today=TODAY)
    wrong = credit_code()[:-1] + ("0" if credit_code()[-1] != "0" else "1")
    assert errors_of(valid(employer_credit_code=wrong))["employer_credit_code"] == "invalid"


def test_bank_card_checked_by_luhn_when_given() -> None:
    s = domain.validate_submission(valid(bank_card="6222 0212 3456 7890 128"), counties=COUNTIES, today=TODAY)
    assert s.bank_card == "6222021234567890128"
    assert errors_of(valid(bank_card="6222021234567890127"))["bank_card"] == "invalid"


@pytest.mark.parametrize(
    "amount,code",
    [("0", "invalid"), ("-5", "invalid"), ("abc", "invalid"), ("10000000.01", "too_large"), ("12.345", "precision"),
     ("NaN", "invalid")],
)
def test_amounts(amount: str, code: str) -> None:
    assert errors_of(valid(amount_owed=amount))["amount_owed"] == code


def test_amount_with_separators_and_unit_is_read() -> None:
    s = domain.validate_submission(valid(amount_owed="18,600元"), counties=COUNTIES, today=TODAY)
    assert s.amount_owed == Decimal("18600.00")


def test_dates_cannot_be_in_the_future_or_reversed() -> None:
    assert errors_of(valid(period_end="2026-11-29"))["period_end"] == "future"
    assert errors_of(valid(period_start="2026-10-01", period_end="2026-09-30"))["period_end"] == "before_start"
    assert errors_of(valid(period_start="30/09/2026"))["period_start"] == "invalid"


def test_violations_older_than_two_years_are_accepted_but_marked() -> None:
    old = domain.validate_submission(valid(period_start="2024-01-01", period_end="2024-11-27"),
                                     counties=COUNTIES, today=TODAY)
    assert old.stale_for_rejection
    recent = domain.validate_submission(valid(period_start="2024-01-01", period_end="2024-11-28"),
                                        counties=COUNTIES, today=TODAY)
    assert not recent.stale_for_rejection


def test_county_must_be_configured() -> None:
    assert errors_of(valid(county_code="110101"))["county_code"] == "unknown"


@pytest.mark.parametrize(
    "field,value,code",
    [("worker_name", "", "required"), ("worker_name", "张", "too_short"), ("description", "太短", "too_short"),
     ("description", "长" * 2001, "too_long"), ("employer_name", "公" * 101, "too_long")],
)
def test_text_lengths(field: str, value: str, code: str) -> None:
    assert errors_of(valid(**{field: value}))[field] == code


def test_workers_affected_bounds() -> None:
    assert errors_of(valid(workers_affected="0"))["workers_affected"] == "invalid"
    assert errors_of(valid(workers_affected="5001"))["workers_affected"] == "invalid"


def test_every_failing_field_is_reported_at_once() -> None:
    fields = errors_of(valid(phone="1", amount_owed="0", county_code="x", worker_name=""))
    assert {"phone", "amount_owed", "county_code", "worker_name"} <= set(fields)


def test_masking_hides_the_middle() -> None:
    assert domain.mask_phone("13912345678") == "139****5678"
    assert domain.mask_id_number(id_number()) == "1304" + "*" * 10 + id_number()[-4:]
    assert domain.mask_bank_card("6222021234567890128") == "**** 0128"
    assert domain.mask_name("王五") == "王*" and domain.mask_name("欧阳小明") == "欧**明"


def test_complaint_ids_and_tracking_codes_are_readable_and_distinct() -> None:
    complaint_id = domain.new_complaint_id(datetime(2026, 11, 28, 9, 0))
    assert complaint_id.startswith("TS-20261128-") and len(complaint_id) == 18
    codes = {domain.new_tracking_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(len(c) == 9 and c[4] == "-" and not set(c) & set("01IOL") for c in codes)


def test_employer_names_normalise_to_one_key() -> None:
    key = domain.normalise_employer_name
    assert key("邯郸市 某建筑劳务有限责任公司") == key("邯郸市某建筑劳务有限公司") == key("邯郸市某建筑劳务（有限公司）")
    assert key("ＡＢＣ建筑有限公司") == key("abc建筑有限公司")


def test_clue_import_gives_a_result_per_row_and_fingerprints_repeat() -> None:
    rows = [valid(), valid(phone="1"), valid()]
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n[1,2]\n"
    parsed = list(domain.parse_clues(io.StringIO(lines), "jsonl", counties=COUNTIES, today=TODAY))
    assert [p.row for p in parsed] == [1, 2, 3, 4]
    assert parsed[0].submission and parsed[0].submission.channel == "clue_import"
    assert parsed[1].errors[0].field == "phone" and parsed[3].errors[0].code == "not_json"
    assert parsed[2].submission is not None
    assert domain.clue_fingerprint(parsed[0].submission) == domain.clue_fingerprint(parsed[2].submission)


def test_clue_import_reads_csv() -> None:
    header = list(valid())
    out = io.StringIO()
    out.write(",".join(header) + "\n")
    out.write(",".join(str(valid()[h]) for h in header) + "\n")
    parsed = list(domain.parse_clues(io.StringIO(out.getvalue()), "csv", counties=COUNTIES, today=TODAY))
    assert len(parsed) == 1 and parsed[0].submission is not None
