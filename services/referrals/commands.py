"""The referrals service's commands: letters, handoffs, referrals and the agencies' answers.

The lifecycle's requests (letters, referrals, withdrawals) are recorded once per Idempotency-Key: a
per-key advisory lock serialises retries, the stored record is returned to a repeat, and a letter takes its
document number in the transaction that stores it. Agencies' answers that change the process (a
department's response or return, the police's decision) go to the case workflow first as a Temporal
Update with a validator — refused there, nothing is recorded — and are then stored with their event.

This module composes them and holds the department directory's publication, the case facts and the letters
(issued, read, listed). What the commands share — the engines, the event they wrap, a letter drafted and stored —
is in `command_base.py`; the handoffs in `handoff_answers.py`; the referrals in `referral_making.py` (made) and
`referral_progress.py` (withdrawn, supplemented, followed up, decided); the ladder against projects' letters in
`project_letters.py`.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.common.auth import Principal
from services.common.commands import in_scope, request_hash, same_key
from services.common.errors import (
    Incomplete,
    NotFound,
    Refused,
)
from services.contracts.events import EventEnvelope
from services.contracts.lifecycle import LetterRequest
from services.contracts.referrals_events import (
    DIRECTORY_SUBJECT,
    HandoffEscalated,
    HandoffSent,
    LetterKind,
)
from services.referrals import domain, handoff_store, store
from services.referrals.command_base import PRODUCER, case_event, facts_missing
from services.referrals.departments import Department
from services.referrals.handoff_answers import HandoffAnswers
from services.referrals.project_letters import ProjectLetters
from services.referrals.referral_making import ReferralMaking
from services.referrals.referral_progress import ReferralProgress

log = logging.getLogger(__name__)


class Referrals(HandoffAnswers, ReferralMaking, ReferralProgress, ProjectLetters):
    """The service's commands; one instance per API process."""

    async def publish_directory(self) -> bool:
        """Publish the department directory unless this very configuration was published before (its event id
        is derived from its hash, so restarts and concurrent API processes publish it once)."""
        directory = self.departments.directory()
        event = EventEnvelope.wrap(
            directory,
            subject=DIRECTORY_SUBJECT,
            producer=PRODUCER,
            event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"anxin:referrals:departments:{directory.config_sha256}"),
        )
        async with self._pool.connection() as conn, conn.transaction():
            await store.lock_key(conn, "departments.configured")
            if await store.event_exists(conn, event.event_id):
                return False
            await store.publish(conn, event)
        log.info("department directory published", extra={"config_sha256": directory.config_sha256})
        return True

    # --- case facts ---------------------------------------------------------------------------------------

    async def case_facts(
        self, principal: Principal, *, case_id: str | None, complaint_id: str | None
    ) -> dict[str, Any]:
        async with self._pool.connection() as conn:
            if case_id is None and complaint_id is not None:
                case_id = await store.case_of_complaint(conn, complaint_id)
            facts = await store.case_facts(conn, case_id) if case_id else None
        if facts is None or not (
            principal.role in domain.CITY_READERS
            or (principal.role in domain.COUNTY_READERS and principal.may_see_county(facts["county"]))
        ):
            raise NotFound("No such case", "the case is not known here (yet) or not in your scope")
        return facts

    # --- letters ------------------------------------------------------------------------------------------

    async def issue_letter(self, key: str, request: LetterRequest) -> tuple[dict[str, Any], bool]:
        """A handoff letter (with its handoff) or a ladder rung (with its letter and record), once per key."""
        same_key(key, request)
        department = self._department(request.department)
        kind = LetterKind(request.kind)
        fingerprint = request_hash(request)

        async def create(conn: store.Conn) -> dict[str, Any]:
            facts = await store.case_facts(conn, request.case_id)
            if facts is None:
                raise facts_missing(request.case_id)
            now = datetime.now(UTC)
            due_date, due_at = self._due(request, department, now)
            if kind is LetterKind.HANDOFF:
                handoff_id = domain.record_id("HO", key)
                letter = await self._new_letter(
                    conn,
                    kind,
                    key,
                    fingerprint,
                    facts,
                    department,
                    now,
                    due_date,
                    due_at,
                    county=request.county,
                    handoff={"handoff_id": handoff_id},
                    previous=[],
                )
                await handoff_store.insert_handoff(
                    conn,
                    handoff_id=handoff_id,
                    case_id=request.case_id,
                    county=request.county,
                    department=department.id,
                    letter_id=letter["letter_id"],
                    due_date=due_date,
                    due_at=due_at,
                    at=now,
                )
                await store.publish(
                    conn,
                    case_event(
                        request.case_id,
                        HandoffSent(
                            handoff_id=handoff_id,
                            case_id=request.case_id,
                            county=request.county,
                            department=department.id,
                            letter_id=letter["letter_id"],
                            due_date=due_date,
                            due_at=due_at,
                        ),
                        now,
                    ),
                )
                return {"id": letter["letter_id"]}

            handoff = await handoff_store.latest_handoff(conn, request.case_id, department.id)
            if handoff is None:
                raise Refused(
                    "No handoff to escalate",
                    f"case {request.case_id} has no handoff to {department.id}: a {kind.value} letter "
                    "follows a handoff letter",
                )
            previous = await store.letters_of(conn, handoff_id=handoff["handoff_id"])
            letter = await self._new_letter(
                conn,
                kind,
                key,
                fingerprint,
                facts,
                department,
                now,
                due_date,
                due_at,
                county=request.county,
                handoff=handoff,
                previous=previous,
            )
            companions = []
            for companion in domain.COMPANIONS.get(kind, []):
                extra = await self._new_letter(
                    conn,
                    companion,
                    f"{key}#{companion.value}",
                    fingerprint,
                    facts,
                    department,
                    now,
                    due_date,
                    due_at,
                    county=request.county,
                    handoff=handoff,
                    previous=previous,
                )
                companions.append(extra["letter_id"])
            await handoff_store.set_ladder_level(conn, handoff["handoff_id"], kind.value)
            await store.publish(
                conn,
                case_event(
                    request.case_id,
                    HandoffEscalated(
                        handoff_id=handoff["handoff_id"],
                        case_id=request.case_id,
                        county=request.county,
                        department=department.id,
                        kind=kind,
                        letter_id=letter["letter_id"],
                        companion_letter_ids=companions,
                        due_date=due_date,
                    ),
                    now,
                ),
            )
            return {"id": letter["letter_id"]}

        async with self._pool.connection() as conn:
            return await self._letters.once(conn, key, fingerprint, create)

    def _due(self, request: LetterRequest, department: Department, now: datetime) -> tuple[date, datetime]:
        if request.response_due_date is not None:
            due_at = request.response_due_at or datetime.combine(
                request.response_due_date + timedelta(days=1), datetime.min.time(), domain.CHINA_TZ
            )
            return request.response_due_date, due_at
        rung = department.rung(request.kind)
        if rung is not None:
            return domain.working_days_due(now, rung.wait_working_days, self._calendar())
        days, unit = department.response_period()
        return domain.period_due(now, days, unit, self._calendar())

    async def letter(self, principal: Principal, letter_id: str) -> dict[str, Any]:
        return await in_scope(
            self._pool, store.get_letter, letter_id, "letter", lambda row: self._may_see_letter(principal, row)
        )

    async def letter_pdf(self, principal: Principal, letter_id: str) -> tuple[dict[str, Any], bytes]:
        row = await self.letter(principal, letter_id)
        async with self._pool.connection() as conn:
            pdf = await store.letter_pdf(conn, letter_id)
        assert pdf is not None
        return row, pdf

    async def letters(
        self,
        principal: Principal,
        *,
        case_id: str | None,
        handoff_id: str | None,
        referral_id: str | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the letters named, those the caller may read (a page may hold fewer than `limit`)."""
        if case_id is None and handoff_id is None and referral_id is None:
            raise Incomplete("Filter required", "name a case_id, handoff_id or referral_id")
        async with self._pool.connection() as conn:
            rows, next_cursor = await store.page_letters(
                conn, case_id=case_id, handoff_id=handoff_id, referral_id=referral_id, limit=limit, cursor=cursor
            )
        return [r for r in rows if self._may_see_letter(principal, r)], next_cursor

    def _may_see_letter(self, principal: Principal, row: dict[str, Any]) -> bool:
        department = self.departments.get(row["addressee"])
        kind = department.kind.value if department else row["addressee"]
        return domain.may_see_letter(principal, row["addressee"], kind, row["county"])
