"""Sealing personal data: round trip, context binding, tampering, and key rotation."""

from __future__ import annotations

import base64
import json
import os

import pytest
from cryptography.exceptions import InvalidTag

from services.common.crypto import FieldCipher, KeyConfigError, keyed_reference


def _keys(*ids: str) -> dict[str, bytes]:
    return {key_id: os.urandom(32) for key_id in ids}


def test_round_trip_and_no_clear_text_in_the_sealed_value() -> None:
    cipher = FieldCipher(_keys("k1"), "k1")
    sealed = cipher.seal("13800138000", context="intake.complaints.phone")
    assert b"13800138000" not in sealed
    assert cipher.open(sealed, context="intake.complaints.phone") == "13800138000"


def test_a_value_moved_to_another_column_does_not_open() -> None:
    cipher = FieldCipher(_keys("k1"), "k1")
    sealed = cipher.seal("张三", context="intake.complaints.worker_name")
    with pytest.raises(InvalidTag):
        cipher.open(sealed, context="intake.complaints.phone")


def test_tampering_is_detected() -> None:
    cipher = FieldCipher(_keys("k1"), "k1")
    sealed = bytearray(cipher.seal("110101199003074514", context="c"))
    sealed[-1] ^= 1
    with pytest.raises(InvalidTag):
        cipher.open(bytes(sealed), context="c")


def test_rotation_keeps_old_values_readable_and_seals_new_ones_with_the_new_key() -> None:
    keys = _keys("2026-11")
    old = FieldCipher(keys, "2026-11")
    sealed_before = old.seal("13800138000", context="c")
    rotated = FieldCipher({**keys, **_keys("2027-05")}, "2027-05")
    assert rotated.open(sealed_before, context="c") == "13800138000"
    sealed_after = rotated.seal("13900139000", context="c")
    assert FieldCipher.key_id_of(sealed_before) == "2026-11"
    assert FieldCipher.key_id_of(sealed_after) == "2027-05"
    with pytest.raises(KeyConfigError):
        old.open(sealed_after, context="c")


def test_configuration_errors_are_clear() -> None:
    with pytest.raises(KeyConfigError, match="current key id"):
        FieldCipher(_keys("a"), "b")
    with pytest.raises(KeyConfigError, match="32 bytes"):
        FieldCipher({"a": b"short"}, "a")
    with pytest.raises(KeyConfigError, match="JSON"):
        FieldCipher.from_config("not json", "a")
    config = json.dumps({"a": base64.b64encode(os.urandom(32)).decode()})
    assert FieldCipher.from_config(config, "a").current_key_id == "a"


def test_keyed_references_match_equal_values_only() -> None:
    key = os.urandom(32)
    assert keyed_reference("11010119900307451x", key) == keyed_reference("11010119900307451X ", key)
    assert keyed_reference("13800138000", key) != keyed_reference("13800138001", key)
    assert keyed_reference("13800138000", key) != keyed_reference("13800138000", os.urandom(32))
    assert "13800138000" not in keyed_reference("13800138000", key)


def test_keyed_references_never_look_like_phone_or_id_numbers() -> None:
    from services.contracts.lifecycle import check_business_id  # the contract's own personal-data guard

    key = os.urandom(32)
    for n in range(3000):
        ref = keyed_reference(f"139{n:08d}", key, prefix="phone")
        check_business_id(ref.replace("_", "-"))
        assert not any(c in ref for c in "0189")
