"""The quarterly list of major violations drafted (人社部令第29号): the cases marked in the quarter that owe
large arrears or were referred to the judiciary, each as one published line, recorded as the quarter's draft
(or a draft redrafted) with its event. Called by the quarterly workflow's activity (`activities.py`) and by
the city office through the API (`registers_api.py`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.common.lifecycle_config import load_lifecycle_config
from services.contracts.lifecycle import PublicationConfig
from services.contracts.sanction_rules import is_major_violation
from services.contracts.sanctions_events import QuarterListDrafted
from services.sanctions import domain, registers_store, store
from services.sanctions.activity_base import log
from services.sanctions.settings import SanctionsSettings


def quarter_entry(row: dict[str, Any]) -> dict[str, Any]:
    """One published line: the employer and the facts of the violation, never a worker's data."""
    amount = Decimal(row["amount"])
    corrected = Decimal(row["corrected"] or 0)
    handling = ["责令限期支付", "作出加付赔偿金决定"]
    if row["police_outcome"] in ("pending", "accepted"):
        handling.append(
            "涉嫌拒不支付劳动报酬罪，已移送公安机关" + ("并立案" if row["police_outcome"] == "accepted" else "")
        )
    if corrected >= amount:
        handling.append("已足额支付拖欠工资")
    elif corrected > 0:
        handling.append(f"已支付 {corrected} 元")
    return {
        "case_id": row["case_id"],
        "employer_name": row["employer_name"],
        "credit_code": row["employer_credit_code"] or domain.credit_code_of(row["employer_ref"]),
        "project_name": row["project_name"],
        "county": row["county"],
        "amount": str(amount),
        "violation": f"拖欠农民工工资 {amount} 元，经责令限期支付逾期未支付",
        "handling": "；".join(handling),
        "referred_to_judiciary": row["police_outcome"] in ("pending", "accepted"),
    }


def large_arrears_amount(settings: SanctionsSettings) -> Decimal:
    """人社部令第29号 art. 5's "large arrears", from the lifecycle configuration the case workflows carry, so
    that the cases they mark and the list drafted here use one figure."""
    try:
        return load_lifecycle_config(settings).publication.large_arrears_amount
    except (OSError, ValueError) as exc:
        log.warning(
            "lifecycle configuration unreadable; the default large-arrears amount applies",
            extra={"error": str(exc)[:300]},
        )
        return PublicationConfig().large_arrears_amount


async def build_quarter_list(pool: AsyncConnectionPool, settings: SanctionsSettings, quarter: str) -> str:
    """Draft (or redraft, while still a draft) the quarter's list of major violations; returns its id."""
    start, end = domain.quarter_bounds(quarter)
    list_id = f"PL-{quarter}"
    large_arrears = large_arrears_amount(settings)
    async with pool.connection() as conn, conn.transaction():
        candidates = await registers_store.quarter_candidates(conn, start, end)
        entries = [
            quarter_entry(row)
            for row in candidates
            if is_major_violation(
                amount=Decimal(row["amount"]),
                referred_to_judiciary=row["police_outcome"] in ("pending", "accepted"),
                large_arrears=large_arrears,
            )
        ]
        existing = await registers_store.list_of_quarter(conn, quarter)
        if existing is None:
            await registers_store.insert_list(conn, list_id, quarter, entries)
        elif existing["status"] == "draft":
            await registers_store.replace_draft_entries(conn, list_id, entries)
        else:
            return list_id
        await store.emit(conn, list_id, QuarterListDrafted(list_id=list_id, quarter=quarter, entries=len(entries)))
    log.info("quarter list drafted", extra={"list_id": list_id, "entries": len(entries)})
    return list_id
