"""What the steps of a payout's process share (`payout_steps.py`, `payout_settlements.py`): the payout read under
its lock, a step written once with its answer, the payout's part of every event, and the register's deposit
following its payouts.

The register's deposit follows its payouts: drawn, its status is `drawn`; once the general contractor has topped
up everything drawn of it, `lodged` again — each change a `project.updated` of the register (source `payout`),
written with the movement that makes it, so the monthly `deposit` check and every reader of the register see it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from services.common import audit
from services.common.auth import Principal, Role
from services.contracts.guarantee_funds import GuaranteeFundEvent, PayoutSource
from services.contracts.monitoring_events import Company, ProjectUpdated
from services.monitoring import payout_store, store
from services.monitoring.guarantee_rules import DepositBalance, deposit_status_after
from services.monitoring.payout_messages import Actor


def principal_of(actor: Actor) -> Principal:
    return Principal(client_id=actor.client_id, role=Role(actor.role), county=actor.county)


def payout_fields(payout: dict[str, Any]) -> dict[str, Any]:
    """What every payout event says of its payout."""
    return {
        "payout_id": payout["payout_id"],
        "case_id": payout["case_id"],
        "county": payout["county"],
        "project_id": payout["project_id"],
        "source": PayoutSource(payout["source"]),
    }


def outstanding_of(payout: dict[str, Any]) -> Decimal:
    """The payout's top-up (deposit) or advance (fund) not settled (nor written off) yet."""
    return Decimal(payout["amount"]) - Decimal(payout["settled"]) - Decimal(payout["written_off"])


async def emit(conn: store.Conn, payout: dict[str, Any], event: GuaranteeFundEvent) -> None:
    """A payout's event, keyed by its case."""
    await store.emit(conn, payout["case_id"], event)


@dataclass
class StepWrite:
    """One step in its transaction: `payout` (locked), and `done`, the answer it gave before (None: new)."""

    conn: store.Conn
    payout: dict[str, Any]
    done: dict[str, Any] | None
    step_key: str
    answer: BaseModel | None = field(default=None)

    def keep(self, answer: BaseModel) -> None:
        """Write the step with this answer when the transaction commits."""
        self.answer = answer


@asynccontextmanager
async def step_write(pool: AsyncConnectionPool, payout_id: str, step_key: str) -> AsyncIterator[StepWrite]:
    """A transaction for one step of a payout: the payout locked, what the step answered before, and the step
    written with its answer (`keep`) at the end — an answer not kept (a refusal) writes nothing."""
    async with pool.connection() as conn, conn.transaction():
        payout = await payout_store.get_payout(conn, payout_id, lock=True)
        assert payout is not None, f"payout {payout_id} has a workflow but no record"
        write = StepWrite(conn, payout, await payout_store.step_outcome(conn, step_key), step_key)
        yield write
        if write.answer is not None and write.done is None:
            await payout_store.record_step(conn, step_key, payout_id, write.answer.model_dump(mode="json"))


async def contractor_of(conn: store.Conn, payout: dict[str, Any]) -> Company:
    project = await store.get_project(conn, payout["project_id"])
    assert project is not None, "projects are never deleted"
    return store.facts_of(project).general_contractor


async def deposit_balance(conn: store.Conn, project_id: str) -> tuple[dict[str, Any], DepositBalance]:
    """The project (locked) and its deposit with what its payouts drew and had topped up."""
    project = await store.get_project(conn, project_id, lock=True)
    assert project is not None, "projects are never deleted"
    drawn, topped_up = await payout_store.project_draws(conn, project_id)
    return project, DepositBalance(store.facts_of(project).deposit, drawn, topped_up)


async def deposit_follows(
    conn: store.Conn, project: dict[str, Any], balance: DepositBalance, principal: Principal, payout_id: str
) -> None:
    """The register's deposit status as the project's payouts leave it (`drawn`, or `lodged` again)."""
    facts = store.facts_of(project)
    deposit = facts.deposit
    assert deposit is not None, "a deposit drawn was recorded"
    status = deposit_status_after(deposit, balance.outstanding_top_up)
    if status is deposit.status:
        return
    changed = facts.model_copy(
        update={"deposit": deposit.model_copy(update={"status": status}), "version": facts.version + 1}
    )
    await store.update_project(conn, changed)
    await audit.record(
        conn,
        principal,
        "project.updated",
        changed.project_id,
        fields=["deposit"],
        detail={"version": changed.version, "source": "payout", "payout_id": payout_id},
    )
    await store.emit(conn, changed.project_id, ProjectUpdated(project=changed, changed=["deposit"], source="payout"))
