"""Workflow payloads are sealed with the data keys: unreadable as stored, readable with the keys, across
key rotation; payloads written before encryption still read."""

from __future__ import annotations

import os

from temporalio.api.common.v1 import Payload

from services.common.crypto import FieldCipher
from services.common.temporal import ENCRYPTED_ENCODING, EncryptionCodec, data_converter


async def test_payloads_are_sealed_and_open_again_after_rotation() -> None:
    old_key = os.urandom(32)
    codec = EncryptionCodec(FieldCipher({"k1": old_key}, "k1"))
    converter = data_converter(FieldCipher({"k1": old_key}, "k1"))
    [plain] = converter.payload_converter.to_payloads([{"phone_ref": "phone_abc", "note": "13912345678"}])
    [sealed] = await codec.encode([plain])
    assert sealed.metadata["encoding"] == ENCRYPTED_ENCODING and b"13912345678" not in sealed.data
    rotated = EncryptionCodec(FieldCipher({"k1": old_key, "k2": os.urandom(32)}, "k2"))
    [opened] = await rotated.decode([sealed])
    assert opened == plain
    [resealed] = await rotated.encode([plain])
    assert resealed.metadata["encryption-key-id"] == b"k2"


async def test_unsealed_payloads_pass_through() -> None:
    codec = EncryptionCodec(FieldCipher({"k1": os.urandom(32)}, "k1"))
    legacy = Payload(metadata={"encoding": b"json/plain"}, data=b'{"a":1}')
    assert await codec.decode([legacy]) == [legacy]


def test_the_plain_converter_is_used_without_keys() -> None:
    assert data_converter().payload_codec is None
    assert data_converter(FieldCipher({"k": os.urandom(32)}, "k")).payload_codec is not None
