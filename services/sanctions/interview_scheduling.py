"""Joint interviews (联合约谈), before they are held: the employers proposed for one (the rule in `interviews.py`,
the facts from the case facts read model), and the city office scheduling one with an invitation letter per
invitee (rendered, numbered and stored), recorded with its audit row and its event in one transaction."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from services.common.auth import Principal
from services.common.errors import Invalid, NotFound, Unprocessable
from services.common.pagination import InvalidCursor, decode_cursor, encode_cursor
from services.contracts.interview_events import InterviewScheduled, InvitationLetter
from services.sanctions import documents, domain, interviews_store
from services.sanctions.command_base import new_id
from services.sanctions.interview_base import InterviewsBase, emit, plain
from services.sanctions.interviews import CaseFact, proposal

EMPLOYER = "employer"
PROPOSALS_LIST = "interview-proposals"
# How far ahead an interview may be scheduled (a year: a date further off is a typing error).
SCHEDULE_AHEAD = timedelta(days=366)


class InterviewScheduling(InterviewsBase):
    """The proposals and the scheduling (`Interviews` composes it with the follow-up)."""

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
            response = plain(
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
            await emit(
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


def _fact(row: dict[str, Any]) -> CaseFact:
    return CaseFact(
        case_id=row["case_id"], county=row["county"], opened_on=row["opened_on"], amount_owed=row["amount_owed"]
    )


def _when_text(at: datetime, time_zone: str) -> str:
    local = at.astimezone(ZoneInfo(time_zone))
    return f"{domain.date_text(local.date())} {local:%H:%M}"
