"""Intake's validation rules, one by one: identifiers, amounts, dates, counties, texts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from services.intake import domain, validation
from tests.unit.intake.factories import TODAY, bank_card, credit_code, id_number, submission, wrong_check

COUNTIES = domain.DEFAULT_COUNTIES


def validate(**overrides: Any) -> domain.ComplaintSubmission:
    return validation.validate_submission(submission(**overrides), counties=COUNTIES, today=TODAY)


def errors_of(**overrides: Any) -> dict[str, domain.FieldError]:
    with pytest.raises(domain.SubmissionInvalid) as caught:
        validate(**overrides)
    return {e.field: e for e in caught.value.errors}


def code_of(field: str, **overrides: Any) -> str:
    return errors_of(**overrides)[field].code


def test_a_valid_complaint_passes_in_normal_form() -> None:
    s = validate(
        id_number=f" {id_number()[:6]} {id_number()[6:14]} {id_number()[14:]} ",
        phone="+86 139-1234-5678",
        amount_owed="18,600元",
        workers_affected="３",
        employer_credit_code=credit_code().lower(),
        confidential="on",
    )
    assert s.id_number == id_number() and s.phone == "13912345678"
    assert s.amount_owed == Decimal("18600.00") and s.workers_affected == 3
    assert s.employer_credit_code == credit_code() and s.confidential
    assert s.channel == "clerk" and not s.stale_for_rejection and s.bank_card is None


def test_the_id_numbers_x_check_character_is_accepted_in_either_case() -> None:
    body = "11010519491231002"  # GB 11643's own example number
    assert ric.calc_check_digit(body + "0") == "X"
    assert validate(id_number=body + "x").id_number == body + "X"


@pytest.mark.parametrize(
    "value,code",
    [
        ("", "required"),
        ("130402900307451", "length"),  # an old 15-digit number
        (id_number() + "1", "length"),
        ("1304021990030745A0", "format"),
        (wrong_check(id_number()), "check_digit"),
        (id_number(region="000402"), "region"),
        (id_number(birth=date(1990, 3, 7)).replace("19900307", "19901307")[:-1] + "0", "birth_date"),
    ],
)
def test_resident_id_numbers_are_refused_with_the_reason(value: str, code: str) -> None:
    if code == "birth_date":  # month 13, with a correct check digit so that the date is what fails
        value = value[:17] + ric.calc_check_digit(value[:17] + "0")
    assert code_of("id_number", id_number=value) == code


@pytest.mark.parametrize("birth_digits", ["19900230", "19000000", "18991231"])
def test_an_impossible_birth_date_is_refused(birth_digits: str) -> None:
    body = f"130402{birth_digits}451"
    assert code_of("id_number", id_number=body + ric.calc_check_digit(body + "0")) == "birth_date"


def test_a_birth_date_after_today_is_refused() -> None:
    error = errors_of(id_number=id_number(birth=date(2026, 11, 29)))["id_number"]
    assert error.code == "birth_date_future" and "晚于今天" in error.message
    validate(id_number=id_number(birth=TODAY))  # born today: a valid number, however unlikely


@given(
    province=st.sampled_from(sorted(domain.ID_PROVINCES)),
    rest_of_region=st.integers(0, 9999),
    birth=st.dates(min_value=date(1930, 1, 1), max_value=TODAY),
    seq=st.integers(0, 999),
)
def test_every_well_formed_id_number_validates(province: str, rest_of_region: int, birth: date, seq: int) -> None:
    number = id_number(f"{province}{rest_of_region:04d}", birth, seq)
    assert validate(id_number=number).id_number == number


@given(
    birth=st.dates(min_value=date(1930, 1, 1), max_value=TODAY),
    seq=st.integers(0, 999),
    position=st.integers(0, 16),
    delta=st.integers(1, 9),
)
def test_a_single_mistyped_digit_never_passes(birth: date, seq: int, position: int, delta: int) -> None:
    number = id_number("130402", birth, seq)
    typo = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    with pytest.raises(domain.SubmissionInvalid):
        validate(id_number=typo)


def test_residence_permits_of_hong_kong_macao_and_taiwan_residents_validate() -> None:
    for region in ("810000", "820000", "830000"):
        validate(id_number=id_number(region))


@pytest.mark.parametrize(
    "phone", ["13800138000", "199 0000 1111", "+8615012345678", "0086-18612345678", "１３９１２３４５６７８"]
)
def test_mainland_mobile_numbers_are_read_as_typed(phone: str) -> None:
    assert domain.MOBILE.match(validate(phone=phone).phone)


@pytest.mark.parametrize(
    "phone,code",
    [
        ("", "required"),
        ("1234", "invalid"),
        ("12912345678", "invalid"),
        ("139123456789", "invalid"),
        ("0310-1234567", "invalid"),
        ("abc", "invalid"),
    ],
)
def test_other_phone_numbers_are_refused(phone: str, code: str) -> None:
    error = errors_of(phone=phone)["phone"]
    assert error.code == code and "手机号码" in error.message


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=10, max_size=10))
def test_generated_credit_codes_validate(tail: str) -> None:
    code = credit_code("91130400" + tail[:9])
    assert validate(employer_credit_code=code).employer_credit_code == code


def test_the_credit_code_is_optional_but_checked_when_given() -> None:
    assert validate(employer_credit_code="").employer_credit_code is None
    assert validate(employer_credit_code=None).employer_credit_code is None
    assert code_of("employer_credit_code", employer_credit_code=wrong_check(credit_code(), uscc._alphabet)) == (
        "check_digit"
    )
    assert code_of("employer_credit_code", employer_credit_code="9113040") == "length"
    assert code_of("employer_credit_code", employer_credit_code="91130400MA07ABCDIO") == "format"


def test_the_bank_card_is_optional_and_luhn_checked() -> None:
    assert validate(bank_card="").bank_card is None
    card = bank_card()
    assert validate(bank_card=f"{card[:4]} {card[4:8]} {card[8:12]} {card[12:]}").bank_card == card
    assert code_of("bank_card", bank_card=wrong_check(card, "0123456789")) == "check_digit"
    assert code_of("bank_card", bank_card="6222-02AB") == "format"
    assert code_of("bank_card", bank_card="12345678901") == "format"  # too short for a card


@pytest.mark.parametrize(
    "amount,code",
    [
        ("", "required"),
        ("0", "not_positive"),
        ("-5", "not_positive"),
        ("0.00", "not_positive"),
        ("abc", "invalid"),
        ("NaN", "invalid"),
        ("Infinity", "invalid"),
        ("10000000.01", "too_large"),
        ("1e9", "too_large"),
        ("12.345", "precision"),
        (True, "invalid"),
    ],
)
def test_amounts_are_refused_with_the_reason(amount: Any, code: str) -> None:
    assert code_of("amount_owed", amount_owed=amount) == code


@pytest.mark.parametrize(
    "amount,expected",
    [
        ("18600", "18600.00"),
        ("18,600元", "18600.00"),
        ("￥1,234.5", "1234.50"),
        ("１２００", "1200.00"),
        (Decimal("0.01"), "0.01"),
        (9600, "9600.00"),
        (18600.5, "18600.50"),
        ("10000000", "10000000.00"),
        ("12.340", "12.34"),
    ],
)
def test_amounts_are_read_leniently_and_kept_exact(amount: Any, expected: str) -> None:
    assert validate(amount_owed=amount).amount_owed == Decimal(expected)


@given(st.decimals(min_value=Decimal("0.01"), max_value=domain.MAX_AMOUNT, places=2))
def test_every_amount_in_range_with_two_decimals_is_accepted(amount: Decimal) -> None:
    assert validate(amount_owed=str(amount)).amount_owed == amount


def test_dates_are_read_in_the_usual_ways() -> None:
    s = validate(period_start="2026/6/1", period_end="2026年9月30日")
    assert (s.period_start, s.period_end) == (date(2026, 6, 1), date(2026, 9, 30))
    s = validate(period_start=date(2026, 6, 1), period_end=datetime(2026, 9, 30, 18, 0))
    assert s.period_end == date(2026, 9, 30)


@pytest.mark.parametrize(
    "overrides,field,code",
    [
        ({"period_start": ""}, "period_start", "required"),
        ({"period_start": "30/09/2026"}, "period_start", "invalid"),
        ({"period_start": "2026-02-30"}, "period_start", "invalid"),
        ({"period_end": "2026-11-29"}, "period_end", "future"),
        ({"period_start": "2026-12-01", "period_end": "2026-11-01"}, "period_start", "future"),
        ({"period_start": "2026-10-01", "period_end": "2026-09-30"}, "period_end", "before_start"),
    ],
)
def test_dates_are_refused_with_the_reason(overrides: dict[str, str], field: str, code: str) -> None:
    assert code_of(field, **overrides) == code


def test_a_period_ending_today_is_accepted() -> None:
    assert validate(period_end=TODAY.isoformat()).period_end == TODAY


def test_violations_older_than_two_years_are_accepted_but_marked_for_rejection() -> None:
    old = validate(period_start="2024-01-01", period_end="2024-11-27")
    assert old.stale_for_rejection
    assert not validate(period_start="2024-01-01", period_end="2024-11-28").stale_for_rejection
    # The limit is configuration: a three-year deployment does not mark it.
    longer = validation.validate_submission(
        submission(period_start="2024-01-01", period_end="2024-11-27"),
        counties=COUNTIES,
        today=TODAY,
        stale_after_years=3,
    )
    assert not longer.stale_for_rejection


def test_the_two_year_limit_from_a_29_february() -> None:
    # The rule itself is services/contracts/owed_period.py (tests/unit/test_owed_period.py); intake applies it.
    def stale_on(today: date) -> bool:
        raw = submission(period_start="2024-01-01", period_end="2024-02-29")
        return validation.validate_submission(raw, counties=COUNTIES, today=today).stale_for_rejection

    assert not stale_on(date(2026, 2, 28))
    assert stale_on(date(2026, 3, 1))


def test_the_county_comes_from_the_configured_list() -> None:
    assert code_of("county_code", county_code="110101") == "unknown"
    assert code_of("county_code", county_code="") == "required"
    assert validate(county_code="武安市").county_code == "130481"  # imported clues may name it
    other_city = {"130102": "长安区"}
    s = validation.validate_submission(submission(county_code="130102"), counties=other_city, today=TODAY)
    assert s.county_code == "130102"


def test_the_handan_list_is_complete_and_well_formed() -> None:
    assert len(COUNTIES) == 18 and all(code.startswith("1304") and len(code) == 6 for code in COUNTIES)
    assert {"邯山区", "丛台区", "复兴区", "峰峰矿区", "肥乡区", "永年区", "武安市", "涉县"} <= set(COUNTIES.values())


@pytest.mark.parametrize(
    "field,value,code",
    [
        ("worker_name", "", "required"),
        ("worker_name", "张", "too_short"),
        ("worker_name", "张" * 31, "too_long"),
        ("worker_name", "张三3", "invalid_chars"),
        ("worker_name", "<b>张三</b>", "invalid_chars"),
        ("employer_name", "", "required"),
        ("employer_name", "公" * 101, "too_long"),
        ("project_name", "项", "too_short"),
        ("description", "太短", "too_short"),
        ("description", "长" * 2001, "too_long"),
    ],
)
def test_text_lengths_and_names(field: str, value: str, code: str) -> None:
    error = errors_of(**{field: value})[field]
    assert error.code == code and " / " in error.message


def test_names_of_every_kind_are_accepted() -> None:
    for name in ("欧阳小明", "买买提·艾力", "Li Ming", "阿依古丽•吐尔逊"):
        assert validate(worker_name=name).worker_name == name


def test_texts_are_trimmed_and_cleaned_of_invisible_characters() -> None:
    s = validate(employer_name="  邯郸市某建筑\u200b劳务有限公司 ", description="第一行\x00\r\n第二行，工资没发。  ")
    assert s.employer_name == "邯郸市某建筑劳务有限公司"
    assert s.description == "第一行\n第二行，工资没发。"  # the worker's full-width comma is kept


@pytest.mark.parametrize("value", ["0", "5001", "2.5", "abc", True])
def test_workers_affected_is_a_whole_number_in_range(value: Any) -> None:
    assert code_of("workers_affected", workers_affected=value) == "invalid"


def test_workers_affected_defaults_to_one() -> None:
    assert validate(workers_affected="").workers_affected == 1
    assert validate(workers_affected="12人").workers_affected == 12


def test_the_channel_and_site_are_checked() -> None:
    assert validate(channel="qr_form", site_id="HD-2026-0001").channel == "qr_form"
    assert code_of("channel", channel="fax") == "invalid"
    assert code_of("site_id", site_id="../etc") == "invalid"


def test_every_failing_field_is_reported_at_once_in_both_languages() -> None:
    with pytest.raises(domain.SubmissionInvalid) as caught:
        validate(phone="1", amount_owed="0", county_code="x", worker_name="", id_number=wrong_check(id_number()))
    errors = caught.value.errors
    assert {"phone", "amount_owed", "county_code", "worker_name", "id_number"} <= {e.field for e in errors}
    for error in errors:
        assert error.zh and error.en and error.zh != error.en
        assert error.as_dict() == {"field": error.field, "code": error.code, "message": error.message}
    shown = caught.value.by_field()
    assert shown["phone"].startswith("请填写11位手机号码") and " / " not in shown["phone"]


def test_the_api_model_accepts_what_the_rules_then_judge() -> None:
    body = domain.ComplaintSubmissionIn.model_validate(submission(amount_owed="18,600元", workers_affected="3"))
    s = validation.validate_submission(
        body.model_dump(mode="json", exclude={"evidence"}), counties=COUNTIES, today=TODAY
    )
    assert s.amount_owed == Decimal("18600.00")


def test_site_registration() -> None:
    site = validation.validate_site_registration(
        {
            "site_id": "HD-2026-0001",
            "name": " 邯山区某安置房项目 ",
            "county_code": "130402",
            "address": "人民路1号",
            "owner_credit_code": credit_code().lower(),
            "general_contractor": "",
            "general_contractor_credit_code": None,
        },
        counties=COUNTIES,
    )
    assert site.name == "邯山区某安置房项目" and site.owner_credit_code == credit_code()
    assert site.general_contractor is None
    stored = validation.validate_site(site.model_dump(), counties=COUNTIES)
    assert set(stored) == set(domain.SiteRegistration.model_fields)


def test_site_registration_names_each_bad_field() -> None:
    with pytest.raises(domain.SubmissionInvalid) as caught:
        validation.validate_site_registration(
            {
                "site_id": "x",
                "name": "",
                "county_code": "999999",
                "address": "路",
                "general_contractor_credit_code": wrong_check(credit_code(), "0123456789"),
            },
            counties=COUNTIES,
        )
    assert {e.field for e in caught.value.errors} == {
        "site_id",
        "name",
        "county_code",
        "address",
        "general_contractor_credit_code",
    }


def test_intake_judges_dates_on_the_china_date(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.intake import submissions

    class EveningInUtc(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> EveningInUtc:  # type: ignore[override]
            return cls(2026, 6, 30, 17, 0, tzinfo=tz)

    monkeypatch.setattr(submissions, "datetime", EveningInUtc)
    intake = submissions.Intake(
        pool=None,
        cipher=None,
        reference_key=b"",
        counties=dict(COUNTIES),  # type: ignore[arg-type]
        complaints_per_ip_per_hour=1,
        complaints_per_phone_per_day=1,
    )
    # 17:00 UTC on 30 June is 1 July in China: a period that ended on 30 June 2024 is now past the limit.
    assert intake.today() == date(2026, 7, 1)
    assert intake.validate(submission(period_start="2024-01-01", period_end="2024-06-30")).stale_for_rejection
