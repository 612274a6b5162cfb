"""Column-level encryption of personal data (AES-256-GCM) with key ids, so keys can rotate.

A sealed value is `b"\\x01" + len(key_id) + key_id + nonce(12) + ciphertext+tag`. The key id travels
with the value: after a rotation, new values are sealed with the new current key while old values stay
readable with the old key as long as it is configured. The `context` (e.g. "intake.complaints.phone") is
bound as associated data, so a value copied into another column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1


class KeyConfigError(ValueError):
    pass


@dataclass(frozen=True)
class FieldCipher:
    keys: dict[str, bytes]
    current_key_id: str

    def __post_init__(self) -> None:
        if self.current_key_id not in self.keys:
            raise KeyConfigError(f"the current key id {self.current_key_id!r} has no key")
        for key_id, key in self.keys.items():
            if len(key) != 32:
                raise KeyConfigError(f"key {key_id!r} must be 32 bytes (AES-256), got {len(key)}")
            if not key_id or len(key_id.encode()) > 255:
                raise KeyConfigError("key ids must be 1..255 bytes")

    @classmethod
    def from_config(cls, keys_json: str, current_key_id: str) -> FieldCipher:
        """`keys_json` maps key ids to base64 keys: {"2026-11": "…", "2027-05": "…"}."""
        return cls(parse_keys(keys_json), current_key_id)

    def seal(self, plaintext: str, *, context: str) -> bytes:
        return self.seal_bytes(plaintext.encode(), context=context)

    def open(self, blob: bytes, *, context: str) -> str:
        return self.open_bytes(blob, context=context).decode()

    def seal_bytes(self, plaintext: bytes, *, context: str) -> bytes:
        key_id = self.current_key_id.encode()
        nonce = os.urandom(12)
        sealed = AESGCM(self.keys[self.current_key_id]).encrypt(nonce, plaintext, context.encode())
        return bytes([FORMAT_VERSION, len(key_id)]) + key_id + nonce + sealed

    def open_bytes(self, blob: bytes, *, context: str) -> bytes:
        blob = bytes(blob)
        if not blob or blob[0] != FORMAT_VERSION:
            raise ValueError("not a sealed value of a known format")
        id_len = blob[1]
        key_id = blob[2 : 2 + id_len].decode()
        if key_id not in self.keys:
            raise KeyConfigError(f"value sealed with key {key_id!r}, which is not configured")
        nonce = blob[2 + id_len : 14 + id_len]
        return AESGCM(self.keys[key_id]).decrypt(nonce, blob[14 + id_len :], context.encode())

    @staticmethod
    def key_id_of(blob: bytes) -> str:
        blob = bytes(blob)
        return blob[2 : 2 + blob[1]].decode()


def parse_keys(keys_json: str) -> dict[str, bytes]:
    """A key ring's keys from its JSON {key id: base64 key}."""
    try:
        raw = json.loads(keys_json)
        return {str(k): base64.b64decode(v) for k, v in raw.items()}
    except (ValueError, TypeError, AttributeError) as exc:
        raise KeyConfigError(f"data keys are not a JSON object of base64 keys: {exc}") from None


def keyed_reference(value: str, key: bytes, *, prefix: str = "ref") -> str:
    """A stable pseudonym for a personal value (HMAC-SHA256): equal inputs match, nothing can be read back.

    Written in lowercase base32 (letters and the digits 2-7): a hex digest can contain a run of digits that
    looks like a phone number, which the workflow contract rightly refuses.
    """
    digest = hmac.new(key, value.strip().upper().encode(), hashlib.sha256).digest()
    return f"{prefix}_{base64.b32encode(digest[:20]).decode().lower()}"


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()
