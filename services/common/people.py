"""People's accounts as the token issuer reads them when someone signs in through the console
(`grant_type=password`, `token_endpoint.TokenEndpoint.authenticate_person`). The issuer keeps them in its own
schema (`services/issuer/accounts.py`); the common layer only names what it needs of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from services.common.auth import PERSON_PREFIX, Principal, Role


@dataclass(frozen=True)
class PersonAccount:
    person_id: str
    full_name: str
    role: Role
    county: str | None = None
    department: str | None = None
    disabled: bool = False
    password_hash: str = ""
    totp_secret: str | None = None

    def principal(self) -> Principal:
        """What the person's token says: `sub` = `person:<id>`, so every audit row names the person."""
        return Principal(f"{PERSON_PREFIX}{self.person_id}", self.role, self.county, self.department)


class AccountDirectory(Protocol):
    async def find(self, person_id: str) -> PersonAccount | None: ...
