"""What happens to a referral once made (`commands.py` composes it; making one is in `referral_making.py`): the
bureau withdraws it or sends a supplementary notice, the follow-up letters escalate an unanswered one, and the
receiving body reads its referrals and decides (a police decision goes to the case workflow first, as an Update).
An arbitration body's answers after acceptance are in `award.py`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from services.common import audit
from services.common.auth import Principal
from services.common.commands import in_scope, request_hash, same_key
from services.common.errors import (
    Conflict,
    Forbidden,
    Invalid,
)
from services.contracts.lifecycle import (
    DayUnit,
    PoliceDecision,
    PoliceDecisionRecord,
    ReferralSupplementRequest,
    Updates,
    WithdrawReferralRequest,
)
from services.contracts.referrals_events import (
    DeclineReason,
    LetterKind,
    ReferralDecided,
    ReferralDecision,
    ReferralEscalated,
    ReferralKind,
    ReferralSupplemented,
    ReferralWithdrawn,
)
from services.referrals import domain, referral_store, store
from services.referrals.command_base import CommandBase, case_event, facts_missing, referral_of_case
from services.referrals.follow_up import ANSWER, AWARD


class ReferralProgress(CommandBase):
    """A referral's withdrawal, supplement, follow-ups and the receiving body's decision."""

    async def withdraw(self, key: str, request: WithdrawReferralRequest) -> dict[str, Any]:
        same_key(key, request)
        fingerprint = request_hash(request)

        async def create(conn: store.Conn) -> dict[str, Any]:
            row = await referral_of_case(conn, request.referral_id, request.case_id)
            if row["status"] == "accepted":
                raise domain.Refused(
                    "the receiving body has accepted the referral (立案/受理); it can no longer be withdrawn"
                )
            now = datetime.now(UTC)
            if row["status"] != "withdrawn":
                await referral_store.withdraw_referral(conn, request.referral_id, reason=request.reason, at=now)
                await store.publish(
                    conn,
                    case_event(
                        row["case_id"],
                        ReferralWithdrawn(
                            referral_id=row["referral_id"],
                            case_id=row["case_id"],
                            county=row["county"],
                            target=ReferralKind(row["target"]),
                        ),
                        now,
                    ),
                )
            response = {"id": row["referral_id"]}
            await store.remember(conn, key, "withdrawal", fingerprint, response)
            return response

        async with self._pool.connection() as conn:
            answer, _ = await self._requests.once(conn, key, fingerprint, create, kind="withdrawal")
        return answer

    async def supplement_referral(self, key: str, request: ReferralSupplementRequest) -> tuple[dict[str, Any], bool]:
        """A supplementary notice (补充材料函) to the body a case was referred to, once per key: wages were paid
        after the referral, with the payment's evidence; a `referral.supplemented` event with it."""
        same_key(key, request)
        fingerprint = request_hash(request)

        async def create(conn: store.Conn) -> dict[str, Any]:
            referral = await referral_of_case(conn, request.referral_id, request.case_id)
            facts = await store.case_facts(conn, referral["case_id"])
            if facts is None:
                raise facts_missing(referral["case_id"])
            target = ReferralKind(referral["target"])
            receiver = self.departments.receiver(target)
            first = await store.get_letter(conn, referral["letter_id"])
            assert first is not None
            now = datetime.now(UTC)
            extra = {
                "referral_date_text": domain.date_text(domain.china_date(referral["created_at"])),
                "referral_number": first["document_number"],
                "amount_paid": domain.money_text(request.amount_paid),
                "payment_ids": "、".join(request.payment_ids),
            }
            letter = await self._new_letter(
                conn,
                LetterKind.SUPPLEMENTARY_NOTICE,
                key,
                "supplement",
                facts,
                receiver,
                now,
                None,
                None,
                county=referral["county"],
                referral_id=referral["referral_id"],
                extra_facts=extra,
                evidence=[(f"{i}  支付凭证（{e.kind.value}）", e.ref) for i, e in enumerate(request.evidence, start=1)],
                issuer=self.departments.bureau.name,
            )
            await store.publish(
                conn,
                case_event(
                    referral["case_id"],
                    ReferralSupplemented(
                        referral_id=referral["referral_id"],
                        case_id=referral["case_id"],
                        county=referral["county"],
                        target=target,
                        letter_id=letter["letter_id"],
                        amount_paid=request.amount_paid,
                    ),
                    now,
                ),
            )
            response = {"id": letter["letter_id"]}
            await store.remember(conn, key, "supplement", fingerprint, response)
            return response

        async with self._pool.connection() as conn:
            return await self._requests.once(conn, key, fingerprint, create, kind="supplement")

    async def escalate_referral(
        self, referral_id: str, kind: LetterKind, key: str, phase: str = ANSWER
    ) -> dict[str, Any]:
        """One rung of a referral's follow-up, once per key: a letter to the receiving body and a
        `referral.escalated` event, unless the referral has been answered or withdrawn meanwhile (for an
        arbitration award: unless the award has been recorded)."""
        async with self._pool.connection() as conn, conn.transaction():
            await store.lock_key(conn, key)
            existing = await store.letter_by_key(conn, key)
            if existing is not None:
                return {
                    "closed": False,
                    "letter_id": existing["letter_id"],
                    "next_due_at": existing["response_due_at"].isoformat(),
                }
            referral = await referral_store.get_referral(conn, referral_id, for_update=True)
            open_status = "accepted" if phase == AWARD else "sent"
            if referral is None or referral["status"] != open_status or referral["awarded_on"] is not None:
                return {"closed": True, "letter_id": None, "next_due_at": None}
            facts = await store.case_facts(conn, referral["case_id"])
            if facts is None:
                raise RuntimeError(f"case facts of {referral['case_id']} are missing")
            target = ReferralKind(referral["target"])
            receiver = self.departments.receiver(target)
            rungs = receiver.award.ladder if phase == AWARD and receiver.award else receiver.ladder
            rung = next((r for r in rungs if r.kind.value == kind.value), None)
            now = datetime.now(UTC)
            due_date, due_at = domain.working_days_due(now, rung.wait_working_days if rung else 1, self._calendar())
            previous = [
                p
                for p in await store.letters_of(conn, referral_id=referral_id)
                if p["kind"] in {k.value for k in domain.LADDER}
                and (phase != AWARD or p["issued_at"] >= referral["decided_at"])
            ]
            first = await store.get_letter(conn, referral["letter_id"])
            assert first is not None
            extra = {
                "referral_name": domain.REFERRAL_NAMES[target],
                "rung_name": domain.LETTER_NAMES[kind],
                "referral_date_text": domain.date_text(domain.china_date(referral["created_at"])),
                "referral_number": first["document_number"],
                "referral_due_text": domain.date_text(
                    referral["award_due_date"] if phase == AWARD else referral["due_date"]
                ),
                "expected_action": domain.AWARD_ACTION if phase == AWARD else domain.EXPECTED_ACTION[target],
                "rung_demand": domain.RUNG_DEMAND[kind],
                "previous_text": (
                    "其间我局已发出"
                    + "、".join(
                        f"{domain.LETTER_NAMES[LetterKind(p['kind'])]}（{p['document_number']}）" for p in previous
                    )
                )
                if previous
                else "该期限已届满",
            }
            letter = await self._new_letter(
                conn,
                kind,
                key,
                "follow-up",
                facts,
                receiver,
                now,
                due_date,
                due_at,
                county=referral["county"],
                referral_id=referral_id,
                extra_facts=extra,
                template_name="referral_follow_up",
                issuer=self.departments.bureau.name,
            )
            await store.publish(
                conn,
                case_event(
                    referral["case_id"],
                    ReferralEscalated(
                        referral_id=referral_id,
                        case_id=referral["case_id"],
                        county=referral["county"],
                        target=target,
                        kind=kind,
                        letter_id=letter["letter_id"],
                        due_date=due_date,
                    ),
                    now,
                ),
            )
            return {"closed": False, "letter_id": letter["letter_id"], "next_due_at": due_at.isoformat()}

    async def referrals(
        self,
        principal: Principal,
        *,
        status: str | None,
        case_id: str | None,
        target: ReferralKind | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        county = None
        kinds = [k for k, role in domain.REFERRAL_ROLE.items() if role is principal.role]
        if kinds:
            target = kinds[0]
        elif principal.role in domain.COUNTY_READERS:
            county = principal.county
        elif principal.role not in domain.CITY_READERS:
            raise Forbidden(f"the role {principal.role.value} receives no referrals")
        async with self._pool.connection() as conn:
            return await referral_store.list_referrals(
                conn,
                target=target.value if target else None,
                county=county,
                status=status,
                case_id=case_id,
                limit=limit,
                cursor=cursor,
            )

    async def referral(self, principal: Principal, referral_id: str) -> dict[str, Any]:
        row = await in_scope(
            self._pool,
            referral_store.get_referral,
            referral_id,
            "referral",
            lambda row: domain.may_see_referral(principal, ReferralKind(row["target"]), row["county"]),
        )
        return await self._with_letters(row, referral_id=referral_id)

    async def decide(
        self,
        principal: Principal,
        referral_id: str,
        decision: ReferralDecision,
        decision_ref: str | None,
        decline_reason: DeclineReason | None,
        reasons: str | None,
        assigned_to: str | None,
    ) -> dict[str, Any]:
        row = await self.referral(principal, referral_id)
        kind = ReferralKind(row["target"])
        if principal.role is not domain.REFERRAL_ROLE[kind]:
            raise Forbidden(f"only the {kind.value} answers this referral")
        if decision is ReferralDecision.DECLINED and (decline_reason is None or not reasons):
            raise Invalid("The request is not valid", "a refusal needs a decline_reason and written reasons")
        domain.check_referral_decision(row["status"], kind, decision, assigned_to)
        if kind is ReferralKind.POLICE:
            police_decision = (
                PoliceDecision.CASE_OPENED if decision is ReferralDecision.ACCEPTED else PoliceDecision.DECLINED
            )
            await self._tell_case(
                row["case_id"],
                Updates.RECORD_POLICE_DECISION,
                PoliceDecisionRecord(
                    decision=police_decision, police_ref=decision_ref, recorded_by=principal.client_id
                ),
                update_id=f"{referral_id}:decision",
            )
        now = datetime.now(UTC)
        async with self._pool.connection() as conn, conn.transaction():
            status = "accepted" if decision is ReferralDecision.ACCEPTED else "declined"
            if not await referral_store.decide_referral(
                conn,
                referral_id,
                status=status,
                decision=decision.value,
                decision_ref=decision_ref,
                reasons=f"{decline_reason.value}: {reasons}" if decline_reason else reasons,
                by=principal.client_id,
                at=now,
                assigned_to=assigned_to,
            ):
                raise Conflict("The referral changed", "the referral was answered or withdrawn meanwhile")
            award_due: tuple[date, datetime] | tuple[None, None] = (None, None)
            award = self.departments.receiver(kind).award
            if decision is ReferralDecision.ACCEPTED and award is not None:
                # The award limit runs from the acceptance (劳动争议调解仲裁法 art. 43).
                award_due = domain.period_due(now, award.days, DayUnit.CALENDAR, self._calendar())
                await referral_store.set_award_due(conn, referral_id, due_date=award_due[0], due_at=award_due[1])
            await store.publish(
                conn,
                case_event(
                    row["case_id"],
                    ReferralDecided(
                        referral_id=referral_id,
                        case_id=row["case_id"],
                        county=row["county"],
                        target=kind,
                        decision=decision,
                        decline_reason=decline_reason,
                        decision_ref=decision_ref,
                        decided_by=principal.client_id,
                        assigned=bool(assigned_to),
                        late=domain.is_late(now, row["due_at"]),
                        award_due_date=award_due[0],
                        award_due_at=award_due[1],
                    ),
                    now,
                ),
            )
            await audit.record(
                conn, principal, f"referral.decide.{kind.value}", referral_id, detail={"decision": decision.value}
            )
        return await self.referral(principal, referral_id)
