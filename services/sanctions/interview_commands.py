"""Joint interviews (联合约谈): the employers proposed for one (the rule in `interviews.py`, the facts from the
case facts read model), and the city office's actions — scheduling with an invitation letter per invitee,
recording the interview held with its commitments, and each commitment's outcome — each recorded with its
audit row and its event in one transaction, idempotent by Idempotency-Key."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from psycopg.errors import UniqueViolation
from psycopg_pool import AsyncConnectionPool

from services.common import audit
from services.common.auth import Principal
from services.common.commands import REQUEST_FINGERPRINT, ActionLog
from services.common.errors import Invalid, NotFound, Refused, Unprocessable
from services.common.outbox import add_event_async
from services.common.pagination import InvalidCursor, decode_cursor, encode_cursor
from services.contracts.events import EventEnvelope
from services.contracts.interview_events import (
    CommitmentBroken,
    CommitmentKept,
    CommitmentTerms,
    InterviewEvent,
    InterviewHeld,
    InterviewScheduled,
    InvitationLetter,
)
from services.sanctions import documents, domain, interviews_store
from services.sanctions.command_base import new_id
from services.sanctions.interviews import (
    CaseFact,
    CommitmentOutcome,
    ProposalRule,
    commitment_overdue,
    proposal,
)
from services.sanctions.settings import SanctionsSettings
from services.sanctions.store import PRODUCER, Conn

EMPLOYER = "employer"
PROPOSALS_LIST = "interview-proposals"
# How far ahead an interview may be scheduled (a year: a date further off is a typing error).
SCHEDULE_AHEAD = timedelta(days=366)


class RepresentativeRole(StrEnum):
    """Who came for the employer (by role: the person is not recorded by name)."""

    LEGAL_REPRESENTATIVE = "legal_representative"
    PERSON_IN_CHARGE = "person_in_charge"
    AUTHORISED_AGENT = "authorised_agent"


def _plain(value: Any) -> Any:
    """What a stored answer holds: money as strings, dates as ISO 8601 (as the API answers)."""
    return json.loads(json.dumps(value, default=lambda v: str(v) if isinstance(v, Decimal) else v.isoformat()))


async def _emit(conn: Conn, interview_id: str, payload: InterviewEvent) -> None:
    await add_event_async(conn, payload.TOPIC, EventEnvelope.wrap(payload, subject=interview_id, producer=PRODUCER))


class Interviews:
    """One instance per API process."""

    def __init__(
        self, pool: AsyncConnectionPool, settings: SanctionsSettings, today: Callable[[], date] | None = None
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._actions = ActionLog(pool, interviews_store.find_action)
        self._today = today or (lambda: domain.china_date(datetime.now(UTC)))
        self.rule = ProposalRule(
            min_cases=settings.interview_min_cases,
            amount_threshold=settings.interview_amount_threshold,
            window_months=settings.interview_window_months,
        )

    # --- proposals ----------------------------------------------------------------------------------------

    async def proposals(
        self, principal: Principal, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Employers meeting the rule with no interview in the window, the latest case first (a county inspector:
        employers with a case in the county; the facts count every county)."""
        today = self._today()
        async with self._pool.connection() as conn:
            rows = await interviews_store.cases_opened_since(conn, self.rule.window_start(today), principal.county)
            last = await interviews_store.last_interviews(conn, sorted({r["employer_ref"] for r in rows}))
        by_employer: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_employer.setdefault(row["employer_ref"], []).append(row)
        found = []
        for employer_ref, cases in by_employer.items():
            proposed = proposal(self.rule, (_fact(c) for c in cases), today, last.get(employer_ref))
            if proposed is None:
                continue
            found.append(
                {
                    "employer_ref": employer_ref,
                    "employer_name": cases[-1]["employer_name"],
                    "credit_code": next((c["credit_code"] for c in cases if c["credit_code"]), None)
                    or domain.credit_code_of(employer_ref),
                    "grounds": [g.value for g in proposed.grounds],
                    "case_count": len(proposed.cases),
                    "amount_owed": proposed.amount_owed,
                    "counties": proposed.counties,
                    "last_case_opened_on": proposed.last_opened_on,
                    "last_interview_on": last.get(employer_ref),
                    "cases": [
                        {
                            "case_id": c.case_id,
                            "county": c.county,
                            "opened_on": c.opened_on,
                            "amount_owed": c.amount_owed,
                        }
                        for c in proposed.cases
                    ],
                }
            )
        found.sort(key=lambda p: (p["last_case_opened_on"], p["employer_ref"]), reverse=True)
        if cursor:
            after_day, after_ref = decode_cursor(cursor, PROPOSALS_LIST, 2)
            try:
                after = (date.fromisoformat(after_day), str(after_ref))
            except (TypeError, ValueError):
                raise InvalidCursor("the cursor is not valid; start again without it") from None
            found = [p for p in found if (p["last_case_opened_on"], p["employer_ref"]) < after]
        page = found[:limit]
        next_cursor = (
            encode_cursor(PROPOSALS_LIST, page[-1]["last_case_opened_on"], page[-1]["employer_ref"])
            if len(found) > limit
            else None
        )
        return page, next_cursor

    # --- scheduling -----------------------------------------------------------------------------------------

    async def schedule(
        self,
        principal: Principal,
        key: str | None,
        *,
        employer_ref: str,
        scheduled_for: datetime,
        place: str,
        departments: list[str],
        case_ids: list[str],
    ) -> dict[str, Any]:
        return await self._once(
            principal,
            key,
            lambda: self._schedule(
                principal,
                key,
                employer_ref=employer_ref,
                scheduled_for=scheduled_for,
                place=place,
                departments=departments,
                case_ids=case_ids,
            ),
        )

    async def _schedule(
        self,
        principal: Principal,
        key: str | None,
        *,
        employer_ref: str,
        scheduled_for: datetime,
        place: str,
        departments: list[str],
        case_ids: list[str],
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        if not now < scheduled_for <= now + SCHEDULE_AHEAD:
            message = f"an interview is scheduled for a time to come, within {SCHEDULE_AHEAD.days} days"
            raise Invalid(
                "The interview is not in the time to come",
                message,
                errors=[{"field": "scheduled_for", "code": "out_of_range", "message": message}],
            )
        async with self._pool.connection() as conn:
            cases = await interviews_store.cases_of_employer(conn, employer_ref)
            directory = await interviews_store.departments(conn)
        if not cases:
            raise NotFound("No such employer", f"no case of employer {employer_ref} is known to the sanctions service")
        unknown = [d for d in departments if d not in directory]
        if unknown:
            known = ", ".join(sorted(directory)) or "none yet: the directory has not arrived from the referrals service"
            raise Unprocessable(
                "Unknown department",
                f"not in the department directory: {', '.join(unknown)} (known: {known})",
                code="unknown-department",
            )
        by_id = {c["case_id"]: c for c in cases}
        if case_ids:
            strangers = [c for c in case_ids if c not in by_id]
            if strangers:
                raise Unprocessable(
                    "Not the employer's cases", f"cases not of employer {employer_ref}: {', '.join(strangers)}"
                )
            concerned = [by_id[c] for c in dict.fromkeys(case_ids)]
        else:
            start = self.rule.window_start(self._today())
            concerned = [c for c in cases if c["opened_on"] > start] or cases
        employer_name = concerned[-1]["employer_name"]
        credit_code = next((c["credit_code"] for c in cases if c["credit_code"]), None) or domain.credit_code_of(
            employer_ref
        )
        amount = sum((c["amount_owed"] for c in concerned), Decimal(0))
        counties = sorted({c["county"] for c in concerned})
        invited = list(dict.fromkeys(departments))
        interview_id = new_id("IV")
        issued_on = domain.china_date(now)
        when = _when_text(scheduled_for, self._settings.time_zone)
        department_names = [directory[d] for d in invited]
        invitees = [(EMPLOYER, employer_name)] + [(d, directory[d]) for d in invited]
        async with self._pool.connection() as conn, conn.transaction():
            letters: list[InvitationLetter] = []
            for invitee, addressee in invitees:
                seq = await interviews_store.next_letter_number(conn, issued_on.year)
                number = f"{self._settings.document_prefix}约谈〔{issued_on.year}〕{seq}号"
                letter = documents.interview_invitation(
                    authority=self._settings.authority,
                    number=number,
                    addressee=addressee,
                    employer_name=employer_name,
                    credit_code=credit_code,
                    when=when,
                    place=place,
                    departments=department_names,
                    case_count=len(concerned),
                    amount_owed=f"{amount:.2f}",
                    issued_on=issued_on,
                    to_employer=invitee == EMPLOYER,
                )
                pdf = await asyncio.to_thread(documents.render_pdf, letter)
                document_id = f"DOC-{interview_id}-{len(letters) + 1}"
                digest = documents.sha256(pdf)
                await interviews_store.insert_letter_document(
                    conn, document_id=document_id, number=number, content=pdf, digest=digest, interview_id=interview_id
                )
                letters.append(
                    InvitationLetter(invitee=invitee, document_id=document_id, document_number=number, sha256=digest)
                )
            await interviews_store.insert_interview(
                conn,
                interview_id=interview_id,
                employer_ref=employer_ref,
                employer_name=employer_name,
                credit_code=credit_code,
                counties=counties,
                case_ids=[c["case_id"] for c in concerned],
                amount_owed=amount,
                scheduled_for=scheduled_for,
                place=place,
                departments=invited,
                scheduled_by=principal.client_id,
            )
            for letter_ in letters:
                await interviews_store.insert_letter(conn, interview_id, letter_.invitee, letter_.document_id)
            response = _plain(
                {
                    "action_id": new_id("IA"),
                    "interview_id": interview_id,
                    "kind": "scheduled",
                    "letters": [letter_.model_dump() for letter_ in letters],
                }
            )
            await self._record(
                conn,
                principal,
                interview_id,
                "scheduled",
                key,
                response,
                {"employer_ref": employer_ref, "departments": invited, "cases": len(concerned)},
            )
            await _emit(
                conn,
                interview_id,
                InterviewScheduled(
                    interview_id=interview_id,
                    employer_ref=employer_ref,
                    employer_name=employer_name,
                    credit_code=credit_code,
                    counties=counties,
                    case_ids=[c["case_id"] for c in concerned],
                    amount_owed=amount,
                    scheduled_for=scheduled_for,
                    departments=invited,
                    letters=letters,
                ),
            )
        return response

    # --- the interview held ------------------------------------------------------------------------------------

    async def record(
        self,
        principal: Principal,
        interview_id: str,
        key: str | None,
        *,
        representative: RepresentativeRole | None,
        departments_present: dict[str, bool],
        commitments: list[dict[str, Any]],
        note: str | None,
    ) -> dict[str, Any]:
        return await self._once(
            principal,
            key,
            lambda: self._record_held(
                principal,
                interview_id,
                key,
                representative=representative,
                departments_present=departments_present,
                commitments=commitments,
                note=note,
            ),
        )

    async def _record_held(
        self,
        principal: Principal,
        interview_id: str,
        key: str | None,
        *,
        representative: RepresentativeRole | None,
        departments_present: dict[str, bool],
        commitments: list[dict[str, Any]],
        note: str | None,
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        async with self._pool.connection() as conn, conn.transaction():
            interview = await self._visible(conn, principal, interview_id, lock=True)
            if interview["status"] != "scheduled":
                raise Refused(
                    "The interview is already recorded",
                    f"interview {interview_id} was recorded as held at {interview['held_at']:%Y-%m-%d %H:%M} UTC",
                )
            strangers = [d for d in departments_present if d not in interview["departments"]]
            if strangers:
                raise Unprocessable("Not invited", f"departments not invited to {interview_id}: {', '.join(strangers)}")
            present = {d: bool(departments_present.get(d, False)) for d in interview["departments"]}
            attendance = {
                "employer_representative": representative.value if representative else None,
                "departments": present,
            }
            await interviews_store.record_held(
                conn,
                interview_id,
                attendance=attendance,
                note=note,
                recorded_by=principal.client_id,
                held_at=now,
                commitments=commitments,
            )
            response = _plain(
                {
                    "action_id": new_id("IA"),
                    "interview_id": interview_id,
                    "kind": "held",
                    "attendance": attendance,
                    "commitments": len(commitments),
                }
            )
            await self._record(
                conn,
                principal,
                interview_id,
                "held",
                key,
                response,
                {"employer_attended": representative is not None, "commitments": len(commitments)},
            )
            await _emit(
                conn,
                interview_id,
                InterviewHeld(
                    interview_id=interview_id,
                    employer_ref=interview["employer_ref"],
                    employer_attended=representative is not None,
                    departments_attended=[d for d, came in present.items() if came],
                    departments_absent=[d for d, came in present.items() if not came],
                    commitments=[
                        CommitmentTerms(n=n, amount=c.get("amount"), due_date=c.get("due_date"))
                        for n, c in enumerate(commitments, start=1)
                    ],
                    held_at=now,
                ),
            )
        return response

    async def outcome(
        self,
        principal: Principal,
        interview_id: str,
        n: int,
        key: str | None,
        *,
        outcome: CommitmentOutcome,
        facts: str,
    ) -> dict[str, Any]:
        return await self._once(
            principal, key, lambda: self._outcome(principal, interview_id, n, key, outcome=outcome, facts=facts)
        )

    async def _outcome(
        self,
        principal: Principal,
        interview_id: str,
        n: int,
        key: str | None,
        *,
        outcome: CommitmentOutcome,
        facts: str,
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        async with self._pool.connection() as conn, conn.transaction():
            interview = await self._visible(conn, principal, interview_id, lock=True)
            commitment = await interviews_store.get_commitment(conn, interview_id, n, lock=True)
            if commitment is None:
                raise NotFound("No such commitment", f"interview {interview_id} has no commitment {n}")
            if commitment["outcome"] is not None:
                raise Refused(
                    "The outcome is already recorded",
                    f"commitment {n} of {interview_id} was recorded {commitment['outcome']}",
                )
            await interviews_store.record_outcome(
                conn, interview_id, n, outcome=outcome.value, facts=facts, by=principal.client_id, at=now
            )
            response = _plain(
                {
                    "action_id": new_id("IA"),
                    "interview_id": interview_id,
                    "kind": f"commitment_{outcome}",
                    "n": n,
                    "outcome": outcome.value,
                }
            )
            await self._record(conn, principal, interview_id, f"commitment_{outcome}", key, response, {"n": n})
            event_class = CommitmentKept if outcome is CommitmentOutcome.KEPT else CommitmentBroken
            await _emit(
                conn,
                interview_id,
                event_class(
                    interview_id=interview_id,
                    employer_ref=interview["employer_ref"],
                    n=n,
                    amount=commitment["amount"],
                    due_date=commitment["due_date"],
                    recorded_at=now,
                ),
            )
        return response

    # --- reading ----------------------------------------------------------------------------------------------------

    async def view(self, principal: Principal, interview_id: str) -> dict[str, Any]:
        async with self._pool.connection() as conn:
            interview = await self._visible(conn, principal, interview_id)
            return (await self._with_parts(conn, [interview]))[0]

    async def search(
        self,
        principal: Principal,
        *,
        county: str | None,
        employer_ref: str | None,
        overdue: bool,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        async with self._pool.connection() as conn:
            rows, next_cursor = await interviews_store.search_interviews(
                conn,
                county=principal.county or county,
                employer_ref=employer_ref,
                overdue_on=self._today() if overdue else None,
                limit=limit,
                cursor=cursor,
            )
            return await self._with_parts(conn, rows), next_cursor

    async def _with_parts(self, conn: Conn, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ids = [r["interview_id"] for r in rows]
        letters = await interviews_store.letters(conn, ids)
        commitments = await interviews_store.commitments(conn, ids)
        today = self._today()
        items = []
        for row in rows:
            listed = [
                {**c, "overdue": commitment_overdue(c["due_date"], c["outcome"], today)}
                for c in commitments.get(row["interview_id"], [])
            ]
            items.append(
                {
                    **row,
                    "letters": letters.get(row["interview_id"], []),
                    "commitments": listed,
                    "overdue_commitments": sum(1 for c in listed if c["overdue"]),
                }
            )
        return items

    async def _visible(
        self, conn: Conn, principal: Principal, interview_id: str, *, lock: bool = False
    ) -> dict[str, Any]:
        interview = await interviews_store.get_interview(conn, interview_id, lock=lock)
        if interview is None or not any(principal.may_see_county(c) for c in interview["counties"]):
            raise NotFound("No such interview", f"interview {interview_id} was not found in your scope")
        return interview

    async def _once(
        self, principal: Principal, key: str | None, action: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """The action, or the first answer to this client's same request with this key. The same request sent
        twice at once: the second finds the key taken when it commits (or the record changed by the first) and
        answers the first's answer."""
        if (repeated := await self._repeated(principal, key)) is not None:
            return repeated
        try:
            return await action()
        except (UniqueViolation, Refused):
            if (repeated := await self._repeated(principal, key)) is not None:
                return repeated
            raise

    async def _repeated(self, principal: Principal, key: str | None) -> dict[str, Any] | None:
        async def still_visible(action: dict[str, Any]) -> None:
            async with self._pool.connection() as conn:
                await self._visible(conn, principal, action["interview_id"])

        return await self._actions.repeated(key, principal, still_visible)

    @staticmethod
    async def _record(
        conn: Conn,
        principal: Principal,
        interview_id: str,
        kind: str,
        key: str | None,
        response: dict[str, Any],
        detail: dict[str, Any],
    ) -> None:
        await interviews_store.insert_action(
            conn,
            action_id=response["action_id"],
            interview_id=interview_id,
            kind=kind,
            key=key,
            actor=principal.client_id,
            response=response,
            request_fingerprint=REQUEST_FINGERPRINT.get(),
        )
        await audit.record(conn, principal, f"interview.{kind}", interview_id, detail=detail)


def _fact(row: dict[str, Any]) -> CaseFact:
    return CaseFact(
        case_id=row["case_id"], county=row["county"], opened_on=row["opened_on"], amount_owed=row["amount_owed"]
    )


def _when_text(at: datetime, time_zone: str) -> str:
    local = at.astimezone(ZoneInfo(time_zone))
    return f"{domain.date_text(local.date())} {local:%H:%M}"
