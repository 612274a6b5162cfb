"""The referrals service's referrals made (`commands.py` composes them): from the case workflow (police,
procuratorate, arbitration) or an inspector's fast track, once per Idempotency-Key, each with its referral letter
and the package the receiving body needs (case summary, workers and amounts, the order and its proof of service,
the missed deadline, the evidence). What happens to a referral afterwards is in `referral_progress.py`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from services.common import audit
from services.common.auth import Principal
from services.common.commands import request_hash, same_key
from services.common.errors import NotFound
from services.contracts.lifecycle import (
    DayUnit,
    ReferralRequest,
)
from services.contracts.referrals_events import (
    ReferralKind,
    ReferralMade,
)
from services.contracts.working_days import WorkingCalendar
from services.referrals import domain, referral_store, store
from services.referrals.command_base import CommandBase, case_event, facts_missing


class ReferralMaking(CommandBase):
    """A referral made, with its letter and package."""

    async def make_referral(self, key: str, request: ReferralRequest) -> tuple[dict[str, Any], bool]:
        """A referral from the case workflow (police, procuratorate, arbitration), once per key."""
        same_key(key, request)
        return await self._referral(
            key,
            request_hash(request),
            kind=ReferralKind(request.target),
            case_id=request.case_id,
            county=request.county,
            employer_ref=request.employer_ref,
            unpaid_amount=request.unpaid_amount,
            workers=request.workers,
            basis=request.basis,
            created_by="lifecycle",
        )

    async def make_agency_referral(
        self, principal: Principal, key: str, kind: ReferralKind, case_id: str, basis: str, fingerprint: str
    ) -> tuple[dict[str, Any], bool]:
        """A fast-track referral an inspector makes (legal aid's green channel, arbitration's fast track)."""
        async with self._pool.connection() as conn:
            facts = await store.case_facts(conn, case_id)
        if facts is None or not principal.may_see_county(facts["county"]):
            raise NotFound("No such case", f"case {case_id} is not known in your scope")
        amount = facts["confirmed_amount"] if facts["confirmed_amount"] is not None else facts["amount_claimed"]
        unpaid = max(amount - facts["amount_paid"], 0)
        result = await self._referral(
            key,
            fingerprint,
            kind=kind,
            case_id=case_id,
            county=facts["county"],
            employer_ref=facts["employer_ref"],
            unpaid_amount=unpaid,
            workers=facts["confirmed_workers"] or facts["workers_claimed"],
            basis=basis,
            created_by=principal.client_id,
        )
        if result[1]:
            async with self._pool.connection() as conn, conn.transaction():
                await audit.record(conn, principal, f"referral.{kind.value}", result[0]["id"])
        return result

    async def _referral(
        self,
        key: str,
        fingerprint: str,
        *,
        kind: ReferralKind,
        case_id: str,
        county: str,
        employer_ref: str,
        unpaid_amount: Any,
        workers: int,
        basis: str,
        created_by: str,
    ) -> tuple[dict[str, Any], bool]:
        receiver = self.departments.receiver(kind)

        async def create(conn: store.Conn) -> dict[str, Any]:
            facts = await store.case_facts(conn, case_id)
            if facts is None:
                raise facts_missing(case_id)
            now = datetime.now(UTC)
            days, unit = receiver.response_period()
            due_date, due_at = domain.period_due(now, days, unit, self._calendar())
            referral_id = domain.record_id("REF", key)
            related = None
            extra: dict[str, Any] = {"basis": basis, "unpaid_amount": domain.money_text(unpaid_amount)}
            if kind is ReferralKind.PROCURATORATE:
                police = await referral_store.latest_referral(conn, case_id, ReferralKind.POLICE.value)
                if police is not None:
                    related = police["referral_id"]
                    police_letter = await store.get_letter(conn, police["letter_id"])
                    assert police_letter is not None
                    extra["police_referral_number"] = police_letter["document_number"]
                    extra["police_referral_date_text"] = domain.date_text(domain.china_date(police["created_at"]))
                else:
                    extra["police_referral_number"] = "（未移送）"
                    extra["police_referral_date_text"] = "（未移送）"
            package = self._package(facts, kind, unpaid_amount, workers, basis)
            extra.update(package["texts"])
            letter = await self._new_letter(
                conn,
                domain.REFERRAL_LETTER[kind],
                f"{key}#letter",
                fingerprint,
                facts,
                receiver,
                now,
                due_date,
                due_at,
                county=county,
                referral_id=referral_id,
                extra_facts=extra,
                evidence=package["evidence"],
            )
            await referral_store.insert_referral(
                conn,
                {
                    "referral_id": referral_id,
                    "idempotency_key": key,
                    "request_hash": fingerprint,
                    "case_id": case_id,
                    "county": county,
                    "employer_ref": employer_ref,
                    "target": kind.value,
                    "unpaid_amount": unpaid_amount,
                    "workers": workers,
                    "basis": basis,
                    "package": package["summary"],
                    "letter_id": letter["letter_id"],
                    "related_referral_id": related,
                    "created_by": created_by,
                    "created_at": now,
                    "due_date": due_date,
                    "due_at": due_at,
                },
            )
            await store.publish(
                conn,
                case_event(
                    case_id,
                    ReferralMade(
                        referral_id=referral_id,
                        case_id=case_id,
                        county=county,
                        employer_ref=employer_ref,
                        target=kind,
                        letter_id=letter["letter_id"],
                        document_number=letter["document_number"],
                        unpaid_amount=unpaid_amount,
                        workers=workers,
                        due_date=due_date,
                        due_at=due_at,
                        related_referral_id=related,
                    ),
                    now,
                ),
            )
            return {"id": referral_id}

        async with self._pool.connection() as conn:
            return await self._referrals.once(conn, key, fingerprint, create)

    def _package(
        self, facts: dict[str, Any], kind: ReferralKind, unpaid: Any, workers: int, basis: str
    ) -> dict[str, Any]:
        """The referral package: case summary, workers and amounts, the order and its proof of service, the
        missed deadline and the evidence list (criminal referrals need them all)."""
        order_due = self._order_due(facts)
        served = (
            f"{domain.date_text(domain.china_date(facts['served_at']))}"
            f"以{'直接送达' if facts['service_method'] == 'in_person' else '张贴送达'}方式送达"
            if facts["served_at"]
            else "（送达记录待补）"
        )
        evidence: list[tuple[str, str]] = [
            ("1  投诉材料", f"{facts['complaints']}件投诉，附证据{facts['evidence_count']}份"),
            ("2  限期改正指令书", facts["order_id"] or "（无）"),
        ]
        for i, item in enumerate(facts["service_evidence"] or [], start=3):
            evidence.append((f"{i}  送达证据（{item.get('kind', '')}）", str(item.get("ref", ""))))
        evidence.append(
            (
                f"{len(evidence) + 1}  逾期未支付情况",
                f"限期届满日{domain.date_text(order_due)}，尚欠{domain.money_text(unpaid)}元",
            )
        )
        summary = {
            "case_id": facts["case_id"],
            "employer_ref": facts["employer_ref"],
            "employer_name": facts["employer_name"],
            "employer_credit_code": facts["employer_credit_code"],
            "project_name": facts["project_name"],
            "county": facts["county"],
            "workers": workers,
            "unpaid_amount": str(unpaid),
            "amount_claimed": str(facts["amount_claimed"]),
            "complaints": facts["complaints"],
            "order": {
                "order_id": facts["order_id"],
                "issued_at": _iso(facts["order_issued_at"]),
                "pay_days": facts["order_pay_days"],
                "pay_unit": facts["order_pay_unit"],
            },
            "service": {
                "method": facts["service_method"],
                "served_at": _iso(facts["served_at"]),
                "evidence": facts["service_evidence"] or [],
            },
            "missed_deadline": order_due.isoformat() if order_due else None,
            "basis": basis,
            "target": kind.value,
            "evidence": [{"item": a, "detail": b} for a, b in evidence],
        }
        texts = {
            "order_id": facts["order_id"] or "（无）",
            "order_date_text": domain.date_text(domain.china_date(facts["order_issued_at"]))
            if facts["order_issued_at"]
            else "（未记录）",
            "served_text": served,
        }
        return {"summary": summary, "evidence": evidence, "texts": texts}

    def _order_due(self, facts: dict[str, Any]) -> date | None:
        if not facts["served_at"] or not facts["order_pay_days"]:
            return None
        calendar = WorkingCalendar(self._calendar())
        start = domain.china_date(facts["served_at"])
        if facts["order_pay_unit"] == DayUnit.WORKING.value:
            return calendar.add_working_days(start, facts["order_pay_days"])
        return calendar.add_calendar_days(start, facts["order_pay_days"])


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
