"""Client secrets stored as scrypt hashes, and their check (run by the token endpoint's checking threads,
`token_endpoint.SecretChecks`). The standard library only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = hash_secret(secret, salt=base64.b64decode(salt_b64)).split("$")[2]
    return hmac.compare_digest(expected, digest_b64)
