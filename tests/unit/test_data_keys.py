"""One data key ring per purpose (services/common/data_keys.py): a value sealed for one purpose does not open
with another's ring; data sealed with the shared ring of before still opens; a purpose without keys of its
own seals as before."""

from __future__ import annotations

import json
from itertools import permutations

import pytest
from cryptography.exceptions import InvalidTag

from services.common.crypto import KeyConfigError, new_key
from services.common.data_keys import SHARED_RING_PURPOSES, KeyPurpose, key_env_names
from services.common.settings import CommonSettings

OWN = {purpose: (json.dumps({f"{purpose.value}-1": new_key()}), f"{purpose.value}-1") for purpose in KeyPurpose}
SHARED = (json.dumps({"dev-20261101": new_key()}), "dev-20261101")


def settings(*purposes: KeyPurpose, shared: bool = False) -> CommonSettings:
    env: dict[str, str | None] = {name: None for name in key_env_names()}
    for purpose in purposes:
        env[purpose.keys_env], env[purpose.key_id_env] = OWN[purpose]
    if shared:
        env["ANXIN_DATA_KEYS"], env["ANXIN_DATA_KEY_ID"] = SHARED
    return CommonSettings(**env)  # type: ignore[arg-type]


@pytest.mark.parametrize(("sealer", "opener"), list(permutations(KeyPurpose, 2)), ids=lambda p: p.value)
def test_a_value_sealed_for_one_purpose_does_not_open_with_anothers_ring(
    sealer: KeyPurpose, opener: KeyPurpose
) -> None:
    # Both processes also hold the shared ring of before: it opens old data, not the other purpose's.
    everything = settings(*KeyPurpose, shared=True)
    sealed = everything.cipher(sealer).seal("130402199001011234", context="test.column")
    assert everything.cipher(sealer).open(sealed, context="test.column") == "130402199001011234"
    assert everything.cipher(sealer).key_id_of(sealed) == f"{sealer.value}-1"
    with pytest.raises(KeyConfigError, match=f"{sealer.value}-1"):
        everything.cipher(opener).open(sealed, context="test.column")


def test_each_purpose_seals_with_its_own_key_and_still_opens_what_the_shared_ring_sealed() -> None:
    # The purposes that were sealed with the shared ring before the split (the issuer's and the console's came
    # after it and never read it).
    before = settings(shared=True)  # a process configured as before the split
    old = {purpose: before.cipher(purpose).seal("13800138000", context="c") for purpose in SHARED_RING_PURPOSES}
    assert {before.cipher(p).key_id_of(v) for p, v in old.items()} == {"dev-20261101"}
    for newer in set(KeyPurpose) - SHARED_RING_PURPOSES:
        with pytest.raises(KeyConfigError):
            before.cipher(newer)

    after = settings(*KeyPurpose, shared=True)
    for purpose in SHARED_RING_PURPOSES:
        ring = after.cipher(purpose)
        assert ring.open(old[purpose], context="c") == "13800138000"
        assert ring.key_id_of(ring.seal("x", context="c")) == f"{purpose.value}-1"


def test_without_the_shared_ring_old_data_does_not_open_and_a_forged_key_id_does_not_help() -> None:
    old = settings(shared=True).cipher(KeyPurpose.INTAKE).seal("x", context="c")
    with pytest.raises(KeyConfigError):
        settings(*KeyPurpose).cipher(KeyPurpose.INTAKE).open(old, context="c")
    # A ring that names the same id with another key is refused at start, not found out at the first open.
    clash = settings(KeyPurpose.PAYLOAD, shared=True).model_copy(
        update={"payload_keys": json.dumps({"dev-20261101": new_key()}), "payload_key_id": "dev-20261101"}
    )
    with pytest.raises(KeyConfigError, match="dev-20261101"):
        clash.cipher(KeyPurpose.PAYLOAD)
    # Another key under the same id would not open the value either (the tag check).
    forged = settings().model_copy(
        update={"intake_keys": json.dumps({"dev-20261101": new_key()}), "intake_key_id": "dev-20261101"}
    )
    with pytest.raises(InvalidTag):
        forged.cipher(KeyPurpose.INTAKE).open(old, context="c")


def test_a_process_without_a_purposes_keys_has_no_ring_for_it() -> None:
    payload_only = settings(KeyPurpose.PAYLOAD)
    assert payload_only.has_keys(KeyPurpose.PAYLOAD)
    for purpose in (KeyPurpose.INTAKE, KeyPurpose.SANCTIONS):
        assert not payload_only.has_keys(purpose)
        with pytest.raises(KeyConfigError, match=purpose.keys_env):
            payload_only.cipher(purpose)
    half = settings().model_copy(update={"sanctions_keys": OWN[KeyPurpose.SANCTIONS][0]})
    with pytest.raises(KeyConfigError, match="set together"):
        half.cipher(KeyPurpose.SANCTIONS)
