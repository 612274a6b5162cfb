"""People's passwords, hashed with Argon2id (memory-hard: a stolen table costs an attacker memory as well as
time per guess), and their optional second factor, a TOTP code (RFC 6238). Checked by the token issuer's
checking threads (`token_endpoint.SecretChecks`), never on its event loop."""

from __future__ import annotations

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2-cffi's defaults (RFC 9106's second recommended set): Argon2id, 3 passes over 64 MiB, 4 lanes.
_HASHER = PasswordHasher()
# A code from the step before or after the current one passes too: a phone's clock a little off, or typing slow.
TOTP_WINDOW = 1


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password: str, stored: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, account: str, issuer: str = "Anxin") -> str:
    """The otpauth:// URI an authenticator app reads (as a QR code or typed in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def verify_totp(secret: str, code: str) -> bool:
    code = code.strip()
    return code.isdigit() and pyotp.TOTP(secret).verify(code, valid_window=TOTP_WINDOW)


def check_sign_in(password: str, stored: str, totp_secret: str | None, code: str | None) -> bool:
    """A person's password and, when they are enrolled, their current code: both must pass. The password is
    always checked (one Argon2 either way), the code only after it."""
    if not verify_password(password, stored):
        return False
    if totp_secret is None:
        return True
    return code is not None and verify_totp(totp_secret, code)
