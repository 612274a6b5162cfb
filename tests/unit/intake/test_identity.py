"""Personal data on display and in events (masks, keyed references), numbering, employer name keys."""

from __future__ import annotations

import random
from datetime import date, datetime

from hypothesis import given
from hypothesis import strategies as st

from services.common import crypto
from services.contracts.lifecycle import check_business_id
from services.intake import identifiers
from tests.unit.intake.factories import bank_card, id_number

KEY = b"k" * 32


def test_masks_hide_the_middle() -> None:
    assert identifiers.mask_phone("13912345678") == "139****5678"
    assert identifiers.mask_id_number(id_number()) == "1304" + "*" * 10 + id_number()[-4:]
    assert identifiers.mask_bank_card(bank_card()) == "**** " + bank_card()[-4:]
    assert identifiers.mask_name("张三") == "张*"
    assert identifiers.mask_name("张小三") == "张*三"
    assert identifiers.mask_name("欧阳小明") == "欧**明"
    assert identifiers.mask_name("张") == "*"


def test_masks_of_short_or_empty_values_reveal_nothing() -> None:
    assert identifiers.mask_phone("139") == "****"
    assert identifiers.mask_id_number("1234") == "****"
    assert identifiers.mask_bank_card("0128") == "****"
    assert identifiers.mask_name("") == "*"


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)), st.integers(0, 999))
def test_a_masked_id_number_never_shows_the_birth_date(birth: date, seq: int) -> None:
    number = id_number("130402", birth, seq)
    masked = identifiers.mask_id_number(number)
    assert len(masked) == 18 and masked[6:14] == "*" * 8


def test_keyed_references_are_stable_per_key_and_reveal_nothing() -> None:
    ref = identifiers.keyed_reference("13912345678", KEY)
    assert ref.startswith("pref_") and "13912345678" not in ref
    assert ref == identifiers.keyed_reference(" 13912345678 ", KEY)
    assert ref != identifiers.keyed_reference("13912345679", KEY)
    assert ref != identifiers.keyed_reference("13912345678", b"other key".ljust(32, b"-"))
    assert identifiers.keyed_reference(id_number().lower(), KEY) == identifiers.keyed_reference(id_number(), KEY)


def test_keyed_references_match_the_ones_every_service_uses() -> None:
    assert identifiers.keyed_reference("13912345678", KEY, prefix="phone") == crypto.keyed_reference(
        "13912345678", KEY, prefix="phone"
    )


@given(st.text(alphabet="0123456789", min_size=11, max_size=18), st.binary(min_size=32, max_size=32))
def test_a_keyed_reference_never_reads_like_a_phone_number(value: str, key: bytes) -> None:
    # The rule that matters is the workflow contract's: nothing shaped like a resident ID or a mobile number
    # (base32 has no 0, 1, 8 or 9, so no mobile number can appear). A shorter run of the digits 2-7 can.
    reference = identifiers.keyed_reference(value, key)
    assert check_business_id(reference) == reference


def test_complaint_ids_sort_by_date_and_read_clearly() -> None:
    complaint_id = identifiers.new_complaint_id(datetime(2026, 11, 28, 9, 0))
    assert identifiers.COMPLAINT_ID.match(complaint_id) and complaint_id.startswith("TS-20261128-")
    earlier = identifiers.new_complaint_id(datetime(2026, 11, 27, 23, 59))
    assert earlier < complaint_id
    assert not set(complaint_id[12:]) & set("01OIL")


def test_numbering_takes_its_randomness_from_the_caller() -> None:
    first = identifiers.new_complaint_id(datetime(2026, 11, 28), choose=random.Random(7).choice)
    again = identifiers.new_complaint_id(datetime(2026, 11, 28), choose=random.Random(7).choice)
    assert first == again
    assert identifiers.new_tracking_code(choose=lambda alphabet: alphabet[0]) == "2222-2222"


def test_tracking_codes_are_readable_and_distinct() -> None:
    codes = {identifiers.new_tracking_code() for _ in range(1000)}
    assert len(codes) == 1000
    assert all(identifiers.TRACKING_CODE.match(c) and len(c) == 9 and not set(c) & set("01IOL") for c in codes)


def test_numbers_as_typed_are_read_back() -> None:
    assert identifiers.normalise_tracking_code(" k7qm3zpa ") == "K7QM-3ZPA"
    assert identifiers.normalise_tracking_code("K7QM-3ZPA") == "K7QM-3ZPA"
    assert identifiers.normalise_tracking_code("K7QM-3ZP") is None
    assert identifiers.normalise_tracking_code("K7QM-3ZP0") is None  # 0 is never used
    assert identifiers.normalise_complaint_id("ts 20261128 7kq3mz") == "TS-20261128-7KQ3MZ"
    assert identifiers.normalise_complaint_id("TS-2026112-7KQ3MZ") is None
    assert identifiers.normalise_complaint_id("") is None


def test_employer_names_normalise_to_one_key() -> None:
    key = identifiers.normalise_employer_name
    assert (
        key("邯郸市 某建筑劳务有限责任公司") == key("邯郸市某建筑劳务有限公司") == key("邯郸市某建筑劳务（有限公司）")
    )
    assert key("ＡＢＣ建筑有限公司") == key("abc 建筑有限公司") == key("A.B.C.建筑有限公司")
    assert key("某某股份有限公司") == key("某某股份公司")
    assert key("某某劳务有限公司") != key("某某建筑有限公司")
    assert key("某某劳务有限公司邯郸分公司") != key("某某劳务有限公司")


@given(st.text(max_size=60))
def test_normalising_an_employer_name_twice_changes_nothing(name: str) -> None:
    once = identifiers.normalise_employer_name(name)
    assert identifiers.normalise_employer_name(once) == once
