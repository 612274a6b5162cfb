"""The employer register: which unified social credit code an employer named without one is known by.

Intake owns it because intake is where a complaint's case is decided: the case id is derived from
`complaint.submitted` (services/contracts/cases.py `case_refs`) by the intake worker, which starts the
workflow, and by the cases ledger alike. So the register's answer is taken once, in the transaction that
files the complaint, and published in the event (`employer_matched_credit_code`): every consumer groups the
complaint the same way without reading another service's tables, and a replayed event never changes case.

The register learns from complaints that give both name and code, and from inspectors' explicit links
(`POST /v1/employers/links`, county-scoped, audited, idempotent, published as `employer.linked`). The rule
that picks the code is `identify_employer` in services/contracts/cases.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.errors import UniqueViolation
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field

from services.common import audit
from services.common.auth import Principal
from services.common.errors import Conflict, Forbidden, Invalid
from services.common.outbox import add_event_async
from services.contracts.cases import EmployerIdentity, employer_ref, identify_employer
from services.contracts.events import EventEnvelope, Topics
from services.contracts.intake_events import EmployerLinked
from services.intake import field_checks, identifiers

Conn = AsyncConnection[Any]


async def _known(conn: Conn, county: str, name_key: str) -> tuple[str | None, list[str]]:
    """(the code an inspector linked to the name, the codes complaints gave with it) in one county, in one
    statement: filing a complaint asks this in its transaction, where every round trip counts."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "SELECT (SELECT credit_code FROM employer_links WHERE county_code = %(county)s AND name_key = %(key)s) "
        "AS linked, ARRAY(SELECT credit_code FROM employer_names WHERE county_code = %(county)s "
        "AND name_key = %(key)s ORDER BY credit_code) AS learnt",
        {"county": county, "key": name_key},
    )
    row = await cur.fetchone()
    assert row is not None
    return row["linked"], list(row["learnt"])


async def identify(
    conn: Conn, *, county: str, name_key: str, credit_code: str | None, complaint_id: str, at: datetime
) -> EmployerIdentity:
    """The employer of a complaint being filed, in the filing's transaction: a complaint that gives a code
    teaches the register; one that gives a name alone is matched against it."""
    if credit_code:
        await conn.execute(
            "INSERT INTO employer_names (county_code, name_key, credit_code, first_complaint_id, first_seen) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (county, name_key, credit_code, complaint_id, at),
        )
        return identify_employer(credit_code, None, ())
    linked, learnt = await _known(conn, county, name_key)
    return identify_employer(None, linked, learnt)


# --- what an inspector reads and does -------------------------------------------------------------------


class EmployerIdentityView(BaseModel):
    """What the register knows of a name in a county (`GET /v1/employers/identity`)."""

    county_code: str
    employer_name_key: str = Field(description="The name in normal form: what is matched.")
    name_ref: str = Field(description="The employer ref of the name alone (E-N…).")
    linked_credit_code: str | None = Field(None, description="The code an inspector linked to the name.")
    learnt_credit_codes: list[str] = Field(description="The codes complaints gave together with this name.")
    credit_code: str | None = Field(None, description="The code a complaint naming it alone is grouped by now.")
    basis: str = Field(description="linked, learnt, name (nothing known) or ambiguous (several learnt codes).")
    employer_ref: str = Field(description="The employer ref such a complaint gets now.")


class EmployerLinkView(BaseModel):
    """An inspector's link of a name to a credit code (`POST /v1/employers/links`)."""

    county_code: str
    employer_name: str
    employer_name_key: str
    name_ref: str
    credit_code: str
    employer_ref: str
    linked_by: str
    reason: str
    linked_at: datetime


def _name_key(name: str) -> str:
    key = identifiers.normalise_employer_name(name)
    if not key:
        raise Invalid(
            "The employer is not valid",
            "请填写用人单位名称 / the employer's name is required",
            errors=[{"field": "employer_name", "code": "required", "message": "the name is required"}],
        )
    return key


def _county(principal: Principal, county: str | None) -> str:
    county = county or principal.county
    if county is None:
        raise Invalid(
            "The county is missing",
            "county_code is required for a client of every county",
            errors=[{"field": "county_code", "code": "required", "message": "name the county"}],
        )
    if not principal.may_see_county(county):
        raise Forbidden("This client acts on its own county's employers only.")
    return county


def _credit_code(value: str) -> str:
    code, error = field_checks.check_credit_code(value, "credit_code")
    if error is not None or code is None:
        message = error.message if error else "the credit code is required"
        raise Invalid(
            "The credit code is not valid",
            message,
            errors=[{"field": "credit_code", "code": error.code if error else "required", "message": message}],
        )
    return code


@dataclass(frozen=True)
class EmployerRegister:
    pool: AsyncConnectionPool

    async def identity(self, principal: Principal, county: str | None, name: str) -> EmployerIdentityView:
        county, key = _county(principal, county), _name_key(name)
        async with self.pool.connection() as conn:
            linked, learnt = await _known(conn, county, key)
        found = identify_employer(None, linked, learnt)
        return EmployerIdentityView(
            county_code=county,
            employer_name_key=key,
            name_ref=employer_ref(None, key),
            linked_credit_code=linked,
            learnt_credit_codes=learnt,
            credit_code=found.credit_code,
            basis=found.basis,
            employer_ref=employer_ref(found.credit_code, key),
        )

    async def link(
        self, principal: Principal, county: str | None, name: str, credit_code: str, reason: str
    ) -> tuple[EmployerLinkView, bool]:
        """Link a name to a credit code in a county: (the link, whether it is new). The same link again
        answers the first one and changes nothing; a name already linked to another code is refused (409)."""
        county, key, code = _county(principal, county), _name_key(name), _credit_code(credit_code)
        try:
            return await self._link(principal, county, name.strip(), key, code, reason.strip())
        except UniqueViolation:
            # A concurrent link of the same name committed first: answer as to a repeat.
            return await self._link(principal, county, name.strip(), key, code, reason.strip())

    async def _link(
        self, principal: Principal, county: str, name: str, key: str, code: str, reason: str
    ) -> tuple[EmployerLinkView, bool]:
        async with self.pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute("SELECT * FROM employer_links WHERE county_code = %s AND name_key = %s", (county, key))
            existing = await cur.fetchone()
            if existing is not None:
                if existing["credit_code"] != code:
                    raise Conflict(
                        "Employer already linked",
                        f"this name is linked to {existing['credit_code']} in county {county} since "
                        f"{existing['linked_at']:%Y-%m-%d}; a name is linked to one credit code",
                        code="employer-already-linked",
                        credit_code=existing["credit_code"],
                    )
                return _view(existing), False
            now = datetime.now(UTC)
            await conn.execute(
                "INSERT INTO employer_links (county_code, name_key, employer_name, credit_code, linked_by, reason, "
                "linked_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (county, key, name, code, principal.client_id, reason, now),
            )
            view = EmployerLinkView(
                county_code=county,
                employer_name=name,
                employer_name_key=key,
                name_ref=employer_ref(None, key),
                credit_code=code,
                employer_ref=employer_ref(code, key),
                linked_by=principal.client_id,
                reason=reason,
                linked_at=now,
            )
            event = EmployerLinked(**view.model_dump())
            await add_event_async(
                conn, Topics.INTAKE_COMPLAINTS, EventEnvelope.wrap(event, subject=view.name_ref, producer="intake")
            )
            await audit.record(
                conn,
                principal,
                "employer.linked",
                view.name_ref,
                detail={"county": county, "credit_code": code, "reason": reason},
            )
        return view, True


def _view(row: dict[str, Any]) -> EmployerLinkView:
    key = row["name_key"]
    return EmployerLinkView(
        county_code=row["county_code"],
        employer_name=row["employer_name"],
        employer_name_key=key,
        name_ref=employer_ref(None, key),
        credit_code=row["credit_code"],
        employer_ref=employer_ref(row["credit_code"], key),
        linked_by=row["linked_by"],
        reason=row["reason"],
        linked_at=row["linked_at"],
    )
