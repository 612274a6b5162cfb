"""Workflow payloads are sealed with the data keys: unreadable as stored, readable with the keys, across
key rotation; a payload that is not encrypted is refused (the codec server alone shows it as stored)."""

from __future__ import annotations

import base64
import os

import pytest
from temporalio.api.common.v1 import Payload

from services.common.crypto import FieldCipher, KeyConfigError
from services.common.settings import CommonSettings
from services.common.temporal import ENCRYPTED_ENCODING, EncryptionCodec, UnsealedPayloadError, data_converter
from workflows.worker import require_data_keys


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


async def test_unsealed_payloads_are_refused_except_for_display() -> None:
    cipher = FieldCipher({"k1": os.urandom(32)}, "k1")
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"a":1}')
    for payload in (plain, Payload(data=b"no metadata at all")):
        with pytest.raises(UnsealedPayloadError, match="not encrypted"):
            await EncryptionCodec(cipher).decode([payload])
    # A sealed payload in the same batch does not let an unsealed one through.
    [sealed] = await EncryptionCodec(cipher).encode([plain])
    with pytest.raises(UnsealedPayloadError):
        await EncryptionCodec(cipher).decode([sealed, plain])
    # The codec server only shows payloads: one never sealed is shown as stored.
    assert await EncryptionCodec(cipher, pass_unsealed=True).decode([plain]) == [plain]


async def test_a_client_with_the_keys_refuses_a_plain_input() -> None:
    """What a worker would decode from a workflow started by a client without the keys."""
    converter = data_converter(FieldCipher({"k1": os.urandom(32)}, "k1"))
    [plain] = data_converter().payload_converter.to_payloads([{"name": "王小明"}])
    with pytest.raises(UnsealedPayloadError):
        await converter.decode([plain])


def test_the_lifecycle_worker_refuses_to_start_without_the_payload_keys() -> None:
    nothing = {
        "ANXIN_PAYLOAD_KEYS": None,
        "ANXIN_PAYLOAD_KEY_ID": None,
        "ANXIN_DATA_KEYS": None,
        "ANXIN_DATA_KEY_ID": None,
    }
    with pytest.raises(SystemExit, match="ANXIN_PAYLOAD_KEYS"):
        require_data_keys(CommonSettings(**nothing))  # type: ignore[arg-type]
    key = base64.b64encode(os.urandom(32)).decode()
    # Another purpose's ring is not the payload ring.
    with pytest.raises(SystemExit, match="ANXIN_PAYLOAD_KEYS"):
        require_data_keys(
            CommonSettings(
                **nothing,
                ANXIN_INTAKE_KEYS=f'{{"k1": "{key}"}}',  # type: ignore[arg-type]
                ANXIN_INTAKE_KEY_ID="k1",
            )
        )
    with pytest.raises(KeyConfigError):
        require_data_keys(
            CommonSettings(**{**nothing, "ANXIN_PAYLOAD_KEYS": '{"k1": "c2hvcnQ="}', "ANXIN_PAYLOAD_KEY_ID": "k1"})
        )  # type: ignore[arg-type]
    require_data_keys(
        CommonSettings(**{**nothing, "ANXIN_PAYLOAD_KEYS": f'{{"k1": "{key}"}}', "ANXIN_PAYLOAD_KEY_ID": "k1"})
    )  # type: ignore[arg-type]
    # A worker configured before the rings were split still starts with the shared ring of before.
    require_data_keys(CommonSettings(**{**nothing, "ANXIN_DATA_KEYS": f'{{"k1": "{key}"}}', "ANXIN_DATA_KEY_ID": "k1"}))  # type: ignore[arg-type]


def test_the_plain_converter_is_used_without_keys() -> None:
    assert data_converter().payload_codec is None
    assert data_converter(FieldCipher({"k": os.urandom(32)}, "k")).payload_codec is not None
