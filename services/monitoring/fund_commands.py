"""The payouts and funds as the agencies reach them (`payout_api.py`): the payouts listed and read, the city
office's decision and the payout's records (the bank's payout, the deposit's top-ups, the advance's recoveries,
the city office's write-off of an advance never to be repaid) sent to the payout's workflow as Temporal Updates,
and the county funds' balances and reserves.

An Update's validator answers at once: refused (409) with the reason, or carried out, the service having written
the step with its event and audit row before the answer. Scope: as the register's — a county's inspectors and
bureau head see and record their county's payouts, the city office all; the city office alone decides a payout,
writes an advance off and sets a reserve. A payout out of the caller's scope is answered as one that does not exist.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from services.common import audit
from services.common.auth import Principal, Role
from services.common.errors import Forbidden, Invalid, NotFound, Refused
from services.common.process_gateway import ProcessGateway, Wording
from services.contracts.guarantee_funds import FundReserveSet, WriteOffBasis, fund_subject
from services.monitoring import payout_store, store
from services.monitoring.domain import COUNTIES
from services.monitoring.guarantee_rules import FundBalance, reserve_refusal
from services.monitoring.payout_messages import (
    DECIDE_UPDATE,
    RECORD_PAID_UPDATE,
    RECORD_RECOVERY_UPDATE,
    RECORD_TOP_UP_UPDATE,
    STATUS_QUERY,
    WRITE_OFF_UPDATE,
    Actor,
    PaidRecord,
    PayoutDecision,
    PayoutStatus,
    SettlementRecord,
    WriteOffRecord,
)

WORDING = Wording(
    refused="The payout's process refused the action",
    late=("The payout's process did not answer in time", "{workflow_id} did not answer within {seconds}s; try again"),
    finished=(
        "The payout's process has finished",
        "{workflow_id} has finished (refused, settled or written off): nothing more to record",
    ),
)


def _amount(value: Any) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def view(row: Mapping[str, Any], movements: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A payout as the API answers it."""
    settled, written_off = Decimal(row["settled"]), Decimal(row["written_off"])
    owing = row["stage"] in ("approved", "paid", "settled", "written_off")
    outstanding = Decimal(row["amount"]) - settled - written_off if owing else Decimal(0)
    answer = {
        "payout_id": row["payout_id"],
        "case_id": row["case_id"],
        "sequence": row["sequence"],
        "workflow_id": row["workflow_id"],
        "county": row["county"],
        "project_id": row["project_id"],
        "source": row["source"],
        "amount": _amount(row["amount"]),
        "workers_paid": row["workers_paid"],
        "stage": row["stage"],
        "requested_by": row["requested_by"],
        "requested_at": row["requested_at"].isoformat(),
        "decided_by": row["decided_by"],
        "decided_at": row["decided_at"].isoformat() if row["decided_at"] else None,
        "approved_on": row["approved_on"].isoformat() if row["approved_on"] else None,
        "refusal_reason": row["refusal_reason"],
        "pay_by": row["pay_by"].isoformat() if row["pay_by"] else None,
        "overdue": row["overdue"],
        "paid_on": row["paid_on"].isoformat() if row["paid_on"] else None,
        "top_up_due": row["top_up_due"].isoformat() if row["top_up_due"] else None,
        "settled": _amount(settled),
        "outstanding": _amount(outstanding),
        "written_off": _amount(written_off),
        "write_off_basis": row["write_off_basis"],
        "write_off_reason": row["write_off_reason"],
        "written_off_at": row["written_off_at"].isoformat() if row["written_off_at"] else None,
        "reminders": row["reminders"],
        "settled_at": row["settled_at"].isoformat() if row["settled_at"] else None,
    }
    if movements is not None:
        answer["movements"] = [
            {
                "kind": m["kind"],
                "amount": _amount(m["amount"]),
                "on": m["on_date"].isoformat(),
                "recorded_by": m["recorded_by"],
                "recorded_at": m["recorded_at"].isoformat(),
            }
            for m in movements
        ]
    return answer


def county_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """A county's emergency fund and deposits as `GET /v1/funds` answers them."""
    fund = FundBalance(
        Decimal(row["reserve"] or 0), Decimal(row["advanced"]), Decimal(row["recovered"]), Decimal(row["written_off"])
    )
    drawn, topped_up, lodged = Decimal(row["drawn"]), Decimal(row["topped_up"]), Decimal(row["lodged"])
    return {
        "county": row["county"],
        "name": COUNTIES.get(row["county"]),
        "emergency_fund": {
            "reserve_set": row["reserve"] is not None,
            "reserve": _amount(fund.reserve),
            "advanced": _amount(fund.advanced),
            "recovered": _amount(fund.recovered),
            "outstanding": _amount(fund.outstanding),
            "written_off": _amount(fund.written_off),
            "available": _amount(fund.available),
            "advances_outstanding": row["advances_outstanding"],
        },
        "deposits": {
            "projects": row["deposit_projects"],
            "lodged": _amount(lodged),
            "drawn": _amount(drawn),
            "topped_up": _amount(topped_up),
            "outstanding_top_ups": _amount(drawn - topped_up),
            "available": _amount(max(lodged - (drawn - topped_up), Decimal(0))),
            "payouts_awaiting_top_up": row["payouts_awaiting_top_up"],
        },
    }


def _totals(counties: list[dict[str, Any]]) -> dict[str, Any]:
    def total(part: str, name: str) -> Any:
        values = [c[part][name] for c in counties]
        return _amount(sum((Decimal(v) for v in values), Decimal(0))) if isinstance(values[0], str) else sum(values)

    return {
        part: {name: total(part, name) for name in counties[0][part] if name != "reserve_set"}
        for part in ("emergency_fund", "deposits")
    }


def actor_of(principal: Principal) -> Actor:
    return Actor(client_id=principal.client_id, role=principal.role.value, county=principal.county)


class Payouts:
    def __init__(self, pool: AsyncConnectionPool, client: Callable[[], Any], today: Callable[[], date]) -> None:
        self.pool = pool
        self._client = client
        self.today = today

    def _process(self) -> ProcessGateway:
        return ProcessGateway(self._client(), status_query=STATUS_QUERY, wording=WORDING)

    # --- reading --------------------------------------------------------------------------------------------

    async def visible(self, principal: Principal, payout_id: str) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            row = await payout_store.get_payout(conn, payout_id)
        if row is None or not principal.may_see_county(row["county"]):
            raise NotFound("No such payout", f"payout {payout_id} was not found in your scope")
        return row

    async def read(self, principal: Principal, payout_id: str) -> dict[str, Any]:
        row = await self.visible(principal, payout_id)
        async with self.pool.connection() as conn:
            movements = await payout_store.movements_of(conn, payout_id)
        return view(row, movements)

    async def list(
        self, principal: Principal, filters: payout_store.PayoutFilter, *, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        if principal.role is not Role.city_office:
            # A county's own payouts only; asking for another county's finds nothing.
            if principal.county is None or (filters.county is not None and filters.county != principal.county):
                return {"items": [], "next_cursor": None}
            filters = dataclasses.replace(filters, county=principal.county)
        async with self.pool.connection() as conn:
            rows, next_cursor = await payout_store.list_payouts(conn, filters, limit=limit, after=cursor)
        return {"items": [view(r) for r in rows], "next_cursor": next_cursor}

    # --- acting through the payout's process ---------------------------------------------------------------

    async def decide(
        self, principal: Principal, payout_id: str, approve: bool, reason: str | None, key: str | None
    ) -> dict[str, Any]:
        reason = (reason or "").strip() or None
        if not approve and reason is None:
            raise Invalid(
                "Invalid decision",
                "a refusal says why (reason, 1 to 1000 characters)",
                errors=[{"field": "reason", "code": "required", "message": "不予动用须说明理由 / a refusal says why"}],
            )
        decision = PayoutDecision(approve=approve, reason=reason, actor=actor_of(principal))
        return await self._update(principal, payout_id, DECIDE_UPDATE, decision, key)

    async def record_paid(self, principal: Principal, payout_id: str, paid_on: date, key: str | None) -> dict[str, Any]:
        self._not_future(paid_on, "paid_on")
        return await self._update(
            principal, payout_id, RECORD_PAID_UPDATE, PaidRecord(paid_on=paid_on, actor=actor_of(principal)), key
        )

    async def record_top_up(
        self, principal: Principal, payout_id: str, amount: Decimal | None, on: date, key: str | None
    ) -> dict[str, Any]:
        self._not_future(on, "topped_up_on")
        record = SettlementRecord(amount=amount, on=on, actor=actor_of(principal))
        return await self._update(principal, payout_id, RECORD_TOP_UP_UPDATE, record, key)

    async def record_recovery(
        self, principal: Principal, payout_id: str, amount: Decimal, on: date, key: str | None
    ) -> dict[str, Any]:
        self._not_future(on, "recovered_on")
        record = SettlementRecord(amount=amount, on=on, actor=actor_of(principal))
        return await self._update(principal, payout_id, RECORD_RECOVERY_UPDATE, record, key)

    async def write_off(
        self, principal: Principal, payout_id: str, basis: WriteOffBasis, reason: str, key: str | None
    ) -> dict[str, Any]:
        reason = reason.strip()
        if not reason:
            raise Invalid(
                "Invalid write-off",
                "a write-off says why (reason, 1 to 1000 characters)",
                errors=[{"field": "reason", "code": "required", "message": "核销须说明理由 / a write-off says why"}],
            )
        record = WriteOffRecord(basis=basis, reason=reason, actor=actor_of(principal))
        return await self._update(principal, payout_id, WRITE_OFF_UPDATE, record, key)

    def _not_future(self, day: date, field: str) -> None:
        if day > self.today():
            raise Invalid(
                "Invalid date",
                f"{field} {day} is after today",
                errors=[{"field": field, "code": "future", "message": "日期不能晚于今天 / cannot be after today"}],
            )

    async def _update(
        self, principal: Principal, payout_id: str, update: str, arg: BaseModel, key: str | None
    ) -> dict[str, Any]:
        row = await self.visible(principal, payout_id)
        await self._process().update(
            row["workflow_id"],
            update,
            arg,
            # Temporal runs an Update once per id: the same Idempotency-Key again gets the first answer.
            update_id=key or f"U-{uuid.uuid4().hex[:16].upper()}",
            result_type=PayoutStatus,
            subject={"workflow_id": row["workflow_id"], "payout_id": payout_id},
        )
        return await self.read(principal, payout_id)

    # --- the county funds ------------------------------------------------------------------------------------

    async def funds(self, principal: Principal) -> dict[str, Any]:
        counties = (
            list(COUNTIES)
            if principal.role is Role.city_office
            else [c for c in COUNTIES if principal.may_see_county(c)]
        )
        if not counties:
            return {"counties": [], "totals": None}
        async with self.pool.connection() as conn:
            rows = await payout_store.county_funds(conn, counties)
        views = [county_view(row) for row in rows]
        return {"counties": views, "totals": _totals(views)}

    async def set_reserve(self, principal: Principal, county: str, reserve: Decimal) -> dict[str, Any]:
        if principal.role is not Role.city_office:
            raise Forbidden("The emergency fund's reserve is set by the city office.")
        if county not in COUNTIES:
            raise NotFound("No such county", f"{county} is not one of the city's counties")
        async with self.pool.connection() as conn, conn.transaction():
            await payout_store.lock_fund(conn, county)
            balance, was_set = await payout_store.fund_balance(conn, county)
            refusal = reserve_refusal(balance, reserve)
            if refusal is not None:
                raise Refused("Reserve refused", refusal)
            if not was_set or balance.reserve != reserve:
                await payout_store.set_reserve(conn, county, reserve, principal.client_id)
                await audit.record(
                    conn,
                    principal,
                    "fund.reserve_set",
                    fund_subject(county),
                    detail={"reserve": str(reserve), "previous": str(balance.reserve) if was_set else None},
                )
                after = FundBalance(reserve, balance.advanced, balance.recovered, balance.written_off)
                await store.emit(
                    conn,
                    fund_subject(county),
                    FundReserveSet(
                        county=county,
                        reserve=reserve,
                        previous=balance.reserve if was_set else None,
                        outstanding=after.outstanding,
                        available=after.available,
                        set_by=principal.client_id,
                    ),
                )
            rows = await payout_store.county_funds(conn, [county])
        return county_view(rows[0])
