"""Joint interviews (联合约谈): `Interviews`, what the API calls, composing the city office's actions before
the interview (`interview_scheduling.py`: proposals, scheduling with the invitation letters) and after it
(`interview_follow_up.py`: the interview held, each commitment's outcome) over what they share
(`interview_base.py`: engines, scope, once per Idempotency-Key, an action recorded with its event); and the
reads of interviews with their letters and commitments, here. Each action is recorded with its audit row and
its event in one transaction, idempotent by Idempotency-Key."""

from __future__ import annotations

from typing import Any

from services.common.auth import Principal
from services.sanctions import interviews_store
from services.sanctions.interview_follow_up import InterviewFollowUp
from services.sanctions.interview_scheduling import InterviewScheduling
from services.sanctions.interviews import commitment_overdue
from services.sanctions.store import Conn


class Interviews(InterviewScheduling, InterviewFollowUp):
    """One instance per API process."""

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
