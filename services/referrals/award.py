"""The deadlines of a receiving body after it has the referral: an arbitration body's answers once it has
accepted (the award limit extended, the award made), and the follow-ups' pending periods counted again when a
calendar year is entered.

劳动争议调解仲裁法 art. 43: the award is due 45 days after the acceptance; a complex case may be extended once, by
at most 15 days, with the commission chair's approval. The numbers are the arbitration body's entry in the
directory (`[departments.award]`). Each answer is recorded once per Idempotency-Key, with its event and an
audit row; the referrals worker tells the award's follow-up (`referral:<id>:award`) from the events.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from services.common import audit
from services.common.auth import Principal
from services.common.errors import Conflict, Forbidden
from services.contracts.lifecycle import DayUnit
from services.contracts.referrals_events import (
    ReferralAwardExtended,
    ReferralAwardMade,
    ReferralDeadlineRecomputed,
    ReferralKind,
)
from services.referrals import domain, referral_store, store
from services.referrals.command_base import case_event, referral_of_case
from services.referrals.commands import Referrals
from services.referrals.departments import AwardLimit
from services.referrals.follow_up import AWARD, RecomputeRequest, RecomputeResult, follow_up_workflow_id


def _award_open(row: dict[str, Any]) -> None:
    """The arbitration body answers about its award only for a referral it accepted and has not yet decided."""
    if row["status"] != "accepted":
        raise domain.Refused(f"仲裁院尚未受理该转办（{row['status']}） (the referral is {row['status']}, not accepted)")
    if row["awarded_on"] is not None:
        raise domain.Refused("仲裁裁决已记录 (the award is already recorded)")


class ArbitrationAnswers:
    """An arbitration body's answers after acceptance, and the recount of pending follow-up periods."""

    def __init__(self, referrals: Referrals) -> None:
        self._referrals = referrals

    def _limit(self) -> AwardLimit:
        award = self._referrals.departments.receiver(ReferralKind.ARBITRATION).award
        if award is None:
            raise domain.Refused("部门目录未设仲裁时限 (the directory gives the arbitration body no award limit)")
        return award

    async def _answerable(self, principal: Principal, referral_id: str) -> dict[str, Any]:
        row = await self._referrals.referral(principal, referral_id)
        if ReferralKind(row["target"]) is not ReferralKind.ARBITRATION:
            raise Forbidden("only an arbitration referral has an award")
        if principal.role is not domain.REFERRAL_ROLE[ReferralKind.ARBITRATION]:
            raise Forbidden("only the arbitration body records its award and its extension")
        return row

    async def extend(
        self,
        principal: Principal,
        key: str,
        referral_id: str,
        fingerprint: str,
        *,
        days: int | None,
        approved_on: date,
        approval_ref: str,
        reason: str,
    ) -> tuple[dict[str, Any], bool]:
        """The award limit extended (once, by at most the directory's extension days, approved within the limit)."""
        row = await self._answerable(principal, referral_id)
        limit = self._limit()
        extension = days or limit.extension_days
        fingerprint = f"{referral_id}:{fingerprint}"  # one key, one referral
        now = datetime.now(UTC)

        async def create(conn: store.Conn) -> dict[str, Any]:
            current = await referral_of_case(conn, referral_id, row["case_id"])
            _award_open(current)
            if current["award_extension_days"] is not None:
                raise domain.Refused("仲裁时限已延长过一次 (the award limit was extended once already, art. 43)")
            if not 1 <= extension <= limit.extension_days:
                raise domain.Refused(
                    f"延长期限不得超过{limit.extension_days}日 (an extension is 1 to "
                    f"{limit.extension_days} days, art. 43)"
                )
            if approved_on > domain.china_date(now):
                raise domain.Refused("批准日期不能晚于今天 (the approval date is in the future)")
            if current["award_due_date"] is not None and approved_on > current["award_due_date"]:
                raise domain.Refused(
                    f"延期须在仲裁时限 {current['award_due_date']} 届满前批准 (an extension is "
                    "approved within the limit)"
                )
            accepted_on = domain.china_date(current["decided_at"])
            due_date, due_at = domain.period_due(
                now, limit.days + extension, DayUnit.CALENDAR, self._referrals._calendar(), start=accepted_on
            )
            if not await referral_store.extend_award(
                conn,
                referral_id,
                days=extension,
                approval_ref=approval_ref,
                reason=reason,
                at=now,
                due_date=due_date,
                due_at=due_at,
            ):
                raise Conflict("The referral changed", "the award was recorded or extended meanwhile")
            await store.publish(
                conn,
                case_event(
                    current["case_id"],
                    ReferralAwardExtended(
                        referral_id=referral_id,
                        case_id=current["case_id"],
                        county=current["county"],
                        target=ReferralKind.ARBITRATION,
                        extension_days=extension,
                        award_due_date=due_date,
                        award_due_at=due_at,
                        recorded_by=principal.client_id,
                    ),
                    now,
                ),
            )
            await audit.record(
                conn,
                principal,
                "referral.award_extension",
                referral_id,
                detail={"days": extension, "award_due_date": due_date.isoformat()},
            )
            response = {"id": referral_id, "award_due_date": due_date.isoformat()}
            await store.remember(conn, key, "award_extension", fingerprint, response)
            return response

        async with self._referrals._pool.connection() as conn:
            return await self._referrals._requests.once(conn, key, fingerprint, create, kind="award_extension")

    async def record_award(
        self, principal: Principal, key: str, referral_id: str, fingerprint: str, *, award_ref: str, awarded_on: date
    ) -> tuple[dict[str, Any], bool]:
        """The award made (裁决书 or 调解书, by its number and date); late if after the limit."""
        row = await self._answerable(principal, referral_id)
        fingerprint = f"{referral_id}:{fingerprint}"
        now = datetime.now(UTC)

        async def create(conn: store.Conn) -> dict[str, Any]:
            current = await referral_of_case(conn, referral_id, row["case_id"])
            _award_open(current)
            if awarded_on > domain.china_date(now):
                raise domain.Refused("裁决日期不能晚于今天 (the award date is in the future)")
            if awarded_on < domain.china_date(current["decided_at"]):
                raise domain.Refused("裁决日期早于受理日期 (the award date is before the acceptance)")
            if not await referral_store.record_award(
                conn, referral_id, award_ref=award_ref, awarded_on=awarded_on, at=now
            ):
                raise Conflict("The referral changed", "the award was recorded meanwhile")
            due = current["award_due_date"]
            late = due is not None and awarded_on > due
            await store.publish(
                conn,
                case_event(
                    current["case_id"],
                    ReferralAwardMade(
                        referral_id=referral_id,
                        case_id=current["case_id"],
                        county=current["county"],
                        target=ReferralKind.ARBITRATION,
                        awarded_on=awarded_on,
                        award_due_date=due,
                        late=late,
                        recorded_by=principal.client_id,
                    ),
                    now,
                ),
            )
            await audit.record(
                conn,
                principal,
                "referral.award",
                referral_id,
                detail={"awarded_on": awarded_on.isoformat(), "late": late},
            )
            response = {"id": referral_id, "late": late}
            await store.remember(conn, key, "award", fingerprint, response)
            return response

        async with self._referrals._pool.connection() as conn:
            return await self._referrals._requests.once(conn, key, fingerprint, create, kind="award")

    async def recompute(self, request: RecomputeRequest) -> RecomputeResult:
        """A follow-up's pending period counted again on the calendar as it is now (a year entered since).

        The referral's own period (the answer, or the award) is counted from its start and, when later, stored
        with a `referral.deadline_recomputed` event; a rung's period from its letter's date. Never earlier than
        the date the receiving body was told: the later of the two stands."""
        referrals = self._referrals
        calendar = referrals._calendar()
        now = datetime.now(UTC)
        async with referrals._pool.connection() as conn, conn.transaction():
            row = await referral_store.get_referral(conn, request.referral_id, for_update=True)
            if row is None:
                return RecomputeResult(due_at=request.due_at)
            target = ReferralKind(row["target"])
            receiver = referrals.departments.receiver(target)
            if request.after_kind is not None:
                wf_id = follow_up_workflow_id(request.referral_id, request.phase)
                letter = await store.letter_by_key(conn, f"{wf_id}:{request.after_kind}")
                rungs = receiver.award.ladder if request.phase == AWARD and receiver.award else receiver.ladder
                rung = next((r for r in rungs if r.kind.value == request.after_kind), None)
                if letter is None or rung is None:
                    return RecomputeResult(due_at=request.due_at)
                _, due_at = domain.period_due(
                    now, rung.wait_working_days, DayUnit.WORKING, calendar, start=domain.china_date(letter["issued_at"])
                )
                return RecomputeResult(due_at=max(due_at, request.due_at), changed=due_at > request.due_at)
            if request.phase == AWARD:
                if receiver.award is None or row["decided_at"] is None:
                    return RecomputeResult(due_at=request.due_at)
                days, unit = receiver.award.days + (row["award_extension_days"] or 0), DayUnit.CALENDAR
                start, stated = domain.china_date(row["decided_at"]), row["award_due_at"]
            else:
                days, unit = receiver.response_period()
                start, stated = domain.china_date(row["created_at"]), row["due_at"]
            if days == 0:  # the green channel: the same working day, nothing to count again
                return RecomputeResult(due_at=request.due_at)
            due_date, due_at = domain.period_due(now, days, unit, calendar, start=start)
            current = max(request.due_at, stated) if stated is not None else request.due_at
            if due_at <= current:
                return RecomputeResult(due_at=current)
            if request.phase == AWARD:
                await referral_store.set_award_due(conn, request.referral_id, due_date=due_date, due_at=due_at)
            else:
                await referral_store.set_due(conn, request.referral_id, due_date=due_date, due_at=due_at)
            await store.publish(
                conn,
                case_event(
                    row["case_id"],
                    ReferralDeadlineRecomputed(
                        referral_id=request.referral_id,
                        case_id=row["case_id"],
                        county=row["county"],
                        target=target,
                        deadline=request.phase,
                        due_date=due_date,
                        due_at=due_at,
                    ),
                    now,
                ),
            )
            return RecomputeResult(due_at=due_at, changed=True)
