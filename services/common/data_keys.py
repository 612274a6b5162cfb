"""One data key ring per purpose, so that a process holds only the keys of what it seals and opens.

- `intake`: the worker's name, ID number, phone and bank card in intake's columns, and the evidence files
  (`ANXIN_INTAKE_KEYS`, `ANXIN_INTAKE_KEY_ID`) — the intake API alone;
- `payload`: Temporal's payloads, through the payload codec (`ANXIN_PAYLOAD_KEYS`, `ANXIN_PAYLOAD_KEY_ID`) —
  every process that talks to Temporal (the services' APIs and workers, the lifecycle worker, the codec
  server, the operator's CLI);
- `sanctions`: the sanctions service's sealed documents, which name responsible persons in full
  (`ANXIN_SANCTIONS_KEYS`, `ANXIN_SANCTIONS_KEY_ID`) — sanctions' API and worker;
- `issuer`: people's TOTP secrets in `issuer.people` (`ANXIN_ISSUER_KEYS`, `ANXIN_ISSUER_KEY_ID`) — the token
  issuer, and the operator's `anxin users` that enrols them;
- `console`: the signed-in people's tokens in the console's sessions (`ANXIN_CONSOLE_KEYS`,
  `ANXIN_CONSOLE_KEY_ID`) — the console alone.

Each ring is a JSON object {key id: base64 AES-256 key} and the id new values are sealed with, as one ring
was before (`services/common/crypto.py`): a sealed value names its key id, so rotation within a purpose
works as it did.

Data sealed before the split was sealed with the one shared ring (`ANXIN_DATA_KEYS`, `ANXIN_DATA_KEY_ID`).
Where that ring is still configured, each purpose's ring includes its keys for *opening* and seals with the
purpose's own current key; a purpose without keys of its own seals with the shared ring as before, so a
deployment upgrades by adding the purpose keys, and drops `ANXIN_DATA_KEYS` from a process once nothing it
opens is sealed with it any more. Key ids are one namespace: the same id with another key in both rings is
refused. The `issuer` and `console` rings came after the split: nothing of theirs was ever sealed with the
shared ring, so they never take it (`SHARED_RING_PURPOSES`).
"""

from __future__ import annotations

from enum import StrEnum

from services.common.crypto import FieldCipher, KeyConfigError, parse_keys


class KeyPurpose(StrEnum):
    INTAKE = "intake"
    PAYLOAD = "payload"
    SANCTIONS = "sanctions"
    ISSUER = "issuer"
    CONSOLE = "console"

    @property
    def keys_env(self) -> str:
        return f"ANXIN_{self.upper()}_KEYS"

    @property
    def key_id_env(self) -> str:
        return f"ANXIN_{self.upper()}_KEY_ID"


# The one ring of before: opens what it sealed, for every purpose that still has it.
SHARED_KEYS_ENV, SHARED_KEY_ID_ENV = "ANXIN_DATA_KEYS", "ANXIN_DATA_KEY_ID"
# The purposes there were when the shared ring sealed everything: only these may hold data sealed with it.
SHARED_RING_PURPOSES = frozenset({KeyPurpose.INTAKE, KeyPurpose.PAYLOAD, KeyPurpose.SANCTIONS})


def key_env_names(purpose: KeyPurpose | None = None) -> set[str]:
    """The variables of `purpose`'s ring, or of every ring (the shared one included) when None."""
    purposes = [purpose] if purpose is not None else list(KeyPurpose)
    names = {name for p in purposes for name in (p.keys_env, p.key_id_env)}
    return names if purpose is not None else names | {SHARED_KEYS_ENV, SHARED_KEY_ID_ENV}


def purpose_cipher(
    purpose: KeyPurpose,
    own_keys: str | None,
    own_key_id: str | None,
    shared_keys: str | None,
    shared_key_id: str | None,
) -> FieldCipher:
    """`purpose`'s ring: its own keys (sealing with its current id) and the shared keys for opening; the
    shared ring alone when the purpose has none of its own. A purpose newer than the shared ring ignores it."""
    if purpose not in SHARED_RING_PURPOSES:
        shared_keys = shared_key_id = None
    if own_keys and own_key_id:
        own = FieldCipher.from_config(own_keys, own_key_id)
        shared = parse_keys(shared_keys) if shared_keys else {}
        clashes = sorted(k for k in own.keys.keys() & shared.keys() if own.keys[k] != shared[k])
        if clashes:
            raise KeyConfigError(f"key ids {clashes} name other keys in {purpose.keys_env} and {SHARED_KEYS_ENV}")
        return FieldCipher({**shared, **own.keys}, own.current_key_id)
    if own_keys or own_key_id:
        raise KeyConfigError(f"{purpose.keys_env} and {purpose.key_id_env} are set together")
    if shared_keys and shared_key_id:
        return FieldCipher.from_config(shared_keys, shared_key_id)
    raise KeyConfigError(f"{purpose.keys_env} and {purpose.key_id_env} must be set to seal {purpose.value} data")
