"""Joint interviews (联合约谈), once held: the city office recording the interview held (who came, the
commitments the employer made, a note) and then each commitment's outcome, kept or broken — each recorded with
its audit row and its event in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from services.common.auth import Principal
from services.common.errors import NotFound, Refused, Unprocessable
from services.contracts.interview_events import CommitmentBroken, CommitmentKept, CommitmentTerms, InterviewHeld
from services.sanctions import interviews_store
from services.sanctions.command_base import new_id
from services.sanctions.interview_base import InterviewsBase, emit, plain
from services.sanctions.interviews import CommitmentOutcome


class RepresentativeRole(StrEnum):
    """Who came for the employer (by role: the person is not recorded by name)."""

    LEGAL_REPRESENTATIVE = "legal_representative"
    PERSON_IN_CHARGE = "person_in_charge"
    AUTHORISED_AGENT = "authorised_agent"


class InterviewFollowUp(InterviewsBase):
    """The interview held and its commitments followed up (`Interviews` composes it with the scheduling)."""

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
            response = plain(
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
            await emit(
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
            response = plain(
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
            await emit(
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
