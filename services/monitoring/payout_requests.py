"""A case's request for a payout (the `monitoring.request_payout` activity, services/contracts/guarantee_funds.py):
checked against the register, recorded with its event in one transaction, once per idempotency key.

The same key with the same request answers the payout it made (`created` False); with another request it is
refused. Refused too, for good: a county that is not one of the city's, a project not in the register or in
another county. Whether the deposit or the fund covers the amount is the city office's approval's question, not
the request's: the money may be there by the time it decides.
"""

from __future__ import annotations

import uuid
from typing import Any

from psycopg.errors import UniqueViolation
from psycopg_pool import AsyncConnectionPool

from services.common import audit
from services.common.commands import request_hash
from services.common.errors import Refused
from services.contracts.guarantee_funds import PayoutRequest, PayoutRequested, PayoutSource, payout_workflow_id
from services.monitoring import payout_store, store
from services.monitoring.domain import COUNTIES
from services.monitoring.payout_records import emit, payout_fields


def new_payout_id() -> str:
    return f"PO-{uuid.uuid4().hex[:16].upper()}"


def refused(detail: str) -> Refused:
    return Refused("Payout request refused", detail, request_at_fault=True)


class PayoutRequests:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def request(self, request: PayoutRequest) -> tuple[dict[str, Any], bool]:
        """(the payout, whether this request made it); `Refused` when it cannot be made."""
        digest = request_hash(request)
        try:
            async with self.pool.connection() as conn, conn.transaction():
                # One case's requests one at a time: its payouts are numbered in order.
                await payout_store.lock(conn, f"payouts:{request.case_id}")
                existing = await payout_store.payout_by_key(conn, request.idempotency_key)
                if existing is not None:
                    return self._again(existing, digest), False
                await self._check(conn, request)
                sequence = await payout_store.next_sequence(conn, request.case_id)
                payout = await payout_store.insert_payout(
                    conn, new_payout_id(), request, digest, sequence, payout_workflow_id(request.case_id, sequence)
                )
                await audit.record(
                    conn,
                    None,
                    "payout.requested",
                    payout["payout_id"],
                    detail={"case_id": request.case_id, "source": request.source.value, "amount": str(request.amount)},
                    actor=request.requested_by,
                )
                await emit(
                    conn,
                    payout,
                    PayoutRequested(
                        **payout_fields(payout),
                        sequence=sequence,
                        workflow_id=payout["workflow_id"],
                        amount=payout["amount"],
                        workers_paid=payout["workers_paid"],
                        requested_by=request.requested_by,
                    ),
                )
        except UniqueViolation:
            # The key used at once by a request of another case (not serialised with this one): its payout decides.
            async with self.pool.connection() as conn:
                existing = await payout_store.payout_by_key(conn, request.idempotency_key)
            if existing is None:
                raise
            return self._again(existing, digest), False
        return payout, True

    @staticmethod
    def _again(existing: dict[str, Any], digest: str) -> dict[str, Any]:
        if existing["request_hash"] != digest:
            raise refused(
                f"幂等键已用于另一项支付申请（{existing['payout_id']}） "
                "(the idempotency key was used for a different payout request)"
            )
        return existing

    @staticmethod
    async def _check(conn: store.Conn, request: PayoutRequest) -> None:
        if request.county not in COUNTIES:
            raise refused(f"{request.county} 不是本市区县代码 (county {request.county} is not one of the city's)")
        if request.project_id is None:
            assert request.source is PayoutSource.EMERGENCY_FUND  # the contract's own rule
            return
        project = await store.get_project(conn, request.project_id)
        if project is None:
            raise refused(
                f"在建项目台账中没有项目 {request.project_id} (project {request.project_id} is not in the register)"
            )
        if project["county"] != request.county:
            raise refused(
                f"项目 {request.project_id} 属于 {project['county']}，与案件所在区县 {request.county} 不符"
                f" (the project is in county {project['county']}, the case in {request.county})"
            )
