"""People's accounts, owned by the token issuer in its schema (`issuer.people`): who may sign in through the
console, with which role and scope. Made and disabled with `anxin users` (operations/users_cli.py); read by the
issuer when the console signs someone in (`token_endpoint.TokenEndpoint.authenticate_person`).

A person's role and scope are those of the agency clients (`services.common.auth.Role`): a county inspector
has a county, a department clerk a department. Roles no person holds (the lifecycle worker's, the console's
own) are refused here.

A TOTP secret is stored sealed under the issuer's key ring (`KeyPurpose.ISSUER`, bound to the person's id so a
sealed secret copied to another row does not open); one enrolled before sealing, in the clear column, is still
read. Neither is ever logged or listed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import psycopg
from cryptography.exceptions import InvalidTag
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.common.auth import COUNTY_SCOPED_ROLES, Principal, Role
from services.common.crypto import FieldCipher, KeyConfigError
from services.common.errors import Unavailable
from services.common.health import database_check
from services.common.passwords import hash_password, new_totp_secret
from services.common.people import PersonAccount

log = logging.getLogger(__name__)

SCHEMA = "issuer"
PERSON_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
COUNTY = re.compile(r"^[0-9]{6}$")
# Roles held by the project's own processes, never by a person.
NOT_A_PERSONS_ROLE = frozenset({Role.lifecycle, Role.console})
COLUMNS = "person_id, full_name, role, county, department, disabled, password_hash, totp_secret, totp_secret_sealed"
INSERTED = "person_id, full_name, role, county, department, disabled, password_hash, totp_secret_sealed"


class AccountError(ValueError):
    """An account that cannot be made or changed as asked; the message says why."""


@dataclass(frozen=True)
class NewAccount:
    person_id: str
    full_name: str
    role: Role
    county: str | None = None
    department: str | None = None

    def checked(self) -> NewAccount:
        if not PERSON_ID.fullmatch(self.person_id):
            raise AccountError(
                "the id is 1–64 characters of a–z, 0–9, '.', '_' or '-', starting with a letter or digit"
            )
        if not self.full_name.strip() or len(self.full_name) > 100:
            raise AccountError("the full name is 1–100 characters")
        if self.role in NOT_A_PERSONS_ROLE:
            raise AccountError(f"no person holds the role {self.role.value}")
        if self.county is not None and not COUNTY.fullmatch(self.county):
            raise AccountError("the county is a six-digit division code, e.g. 130402")
        if self.role in COUNTY_SCOPED_ROLES and self.county is None:
            raise AccountError(f"the role {self.role.value} acts in one county: give --county")
        if self.role == Role.department and not self.department:
            raise AccountError("a department's person needs --department")
        return self


# A listing's stand-in for a sealed secret it has not opened: says there is one, and is no TOTP secret (not base32).
NOT_OPENED = "(sealed, not opened)"


def _totp_context(person_id: str) -> str:
    return f"issuer.people.totp_secret:{person_id}"


def seal_totp_secret(cipher: FieldCipher, person_id: str, secret: str) -> bytes:
    return cipher.seal(secret, context=_totp_context(person_id))


def _account(row: dict[str, Any], cipher: FieldCipher | None) -> PersonAccount:
    """The account of a row; its TOTP secret opened when `cipher` is given (the issuer's sign-in), else only
    whether there is one (a listing: the secret is not opened where it is not needed)."""
    secret: str | None = row["totp_secret"]
    sealed = row["totp_secret_sealed"]
    if sealed is not None:
        secret = cipher.open(sealed, context=_totp_context(row["person_id"])) if cipher is not None else NOT_OPENED
    return PersonAccount(
        row["person_id"],
        row["full_name"],
        Role(row["role"]),
        row["county"],
        row["department"],
        row["disabled"],
        row["password_hash"],
        secret,
    )


# The operator's commands, as rows in the audit trail of the issuer's schema.
_OPERATOR = Principal("anxin-users", Role.operator)


def add_account(
    conn: psycopg.Connection[Any], account: NewAccount, password: str, *, totp: bool, cipher: FieldCipher | None = None
) -> str | None:
    """Make the account; returns its TOTP secret when `totp` (stored sealed with `cipher`, the issuer's ring,
    which `totp` needs). AccountError if the id is taken or invalid."""
    account.checked()
    secret = new_totp_secret() if totp else None
    if secret is not None and cipher is None:
        raise AccountError("a TOTP secret is stored sealed: the issuer's key ring (ANXIN_ISSUER_KEYS) is needed")
    sealed = seal_totp_secret(cipher, account.person_id, secret) if secret is not None and cipher else None
    with conn.transaction():
        inserted = conn.execute(
            f"INSERT INTO people ({INSERTED}) VALUES (%s, %s, %s, %s, %s, false, %s, %s) "
            "ON CONFLICT (person_id) DO NOTHING RETURNING person_id",
            (
                account.person_id,
                account.full_name.strip(),
                account.role.value,
                account.county,
                account.department,
                hash_password(password),
                sealed,
            ),
        ).fetchone()
        if inserted is None:
            raise AccountError(f"an account {account.person_id!r} exists already")
        _audit(conn, "person.add", account.person_id, {"role": account.role.value, "totp": totp})
    return secret


def disable_account(conn: psycopg.Connection[Any], person_id: str) -> bool:
    """Disable the account (its next sign-in gets no token); False if there is none. Idempotent."""
    with conn.transaction():
        row = conn.execute(
            "UPDATE people SET disabled = true, changed_at = now() WHERE person_id = %s RETURNING person_id",
            (person_id,),
        ).fetchone()
        if row is not None:
            _audit(conn, "person.disable", person_id, {})
    return row is not None


def list_accounts(conn: psycopg.Connection[Any]) -> list[PersonAccount]:
    with conn.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute(f"SELECT {COLUMNS} FROM people ORDER BY person_id").fetchall()
    return [_account(row, None) for row in rows]


def _audit(conn: psycopg.Connection[Any], action: str, subject: str, detail: dict[str, Any]) -> None:
    """A row in the issuer's audit trail, in the transaction of the change (`services.common.audit.record`'s
    columns; that one is async, these commands are not)."""
    principal = _OPERATOR
    conn.execute(
        "INSERT INTO audit_log (actor, role, scope, action, subject, fields, detail) "
        "VALUES (%s, %s, 'city', %s, %s, %s, %s)",
        (principal.client_id, principal.role.value, action, subject, [], Jsonb(detail)),
    )


class PeopleDirectory:
    """The issuer's read of the accounts when someone signs in (`services.common.people.AccountDirectory`)."""

    def __init__(self, cipher: FieldCipher) -> None:
        # Opened with the app (its lifespan), after the schema is prepared.
        self.pool: AsyncConnectionPool | None = None
        self._cipher = cipher

    def _open_pool(self) -> AsyncConnectionPool:
        if self.pool is None:
            raise Unavailable("Accounts not open", "The issuer is starting; try again.", retry_after=1)
        return self.pool

    async def ready(self) -> str | None:
        """A readiness check (`services.common.health`): None when the accounts can be read."""
        if self.pool is None:
            return "postgresql not open yet"
        return await database_check(self.pool)()

    async def find(self, person_id: str) -> PersonAccount | None:
        async with self._open_pool().connection() as conn, conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(f"SELECT {COLUMNS} FROM people WHERE person_id = %s", (person_id,))
            row = await cursor.fetchone()
        if row is None:
            return None
        try:
            return _account(row, self._cipher)
        except (InvalidTag, KeyConfigError, ValueError) as error:
            # Sealed for another row, or with a key this issuer no longer holds: no code may pass. Said loudly
            # (an operator's matter), without the secret.
            log.error(
                "a person's TOTP secret does not open", extra={"person_id": person_id, "error": type(error).__name__}
            )
            return _account({**row, "totp_secret": new_totp_secret(), "totp_secret_sealed": None}, None)
