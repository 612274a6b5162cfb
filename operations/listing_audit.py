"""`anxin audit ledger`, for the blacklist listings: does each listing record say what its workflow says?

Every listing not yet final (not `not_listed` or `removed`), and those changed recently, is compared with its
blacklist workflow's `status` query, field by field (services/contracts/listing_reports.py
`listing_disagreements`), with the re-reads and the `--fix` of the ledger audit (`operations/ledger_audit.py`):
`--fix` sends the workflow the `report_state` signal and never writes the record itself.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import psycopg
from psycopg.rows import dict_row
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from operations.ledger_audit import Disagreement, LedgerEntry, audit
from services.contracts.listing_reports import listing_disagreements, listing_snapshot_of
from services.contracts.sanctions_workflows import (
    ListingQueries,
    ListingSignals,
    ListingSnapshot,
    ListingStatus,
    listing_workflow_id,
)

FINAL_STAGES = ("not_listed", "removed")

_LISTINGS = """
SELECT listing_id, case_id, stage, amount_corrected, paid_in_full_on, defence_due_date, statements, decided_on,
       not_listed_reason, expires_on, early_removal_possible_from, pending_application, removal_reason, removed_on
FROM listings WHERE (stage <> ALL(%(final)s) OR updated_at >= now() - %(changed_within)s)
  AND (%(listings)s::text[] IS NULL OR listing_id = ANY(%(listings)s))
"""


def listing_entries(
    database_url: str, changed_within: timedelta, only: set[str] | None = None, listing_ids: set[str] | None = None
) -> list[LedgerEntry]:
    """What the sanctions service's record says about each listing (not final, or changed within
    `changed_within`), of the listings `listing_ids` when given."""
    params = {
        "final": list(FINAL_STAGES),
        "changed_within": changed_within,
        "listings": sorted(listing_ids) if listing_ids is not None else None,
    }
    entries = []
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        conn.execute("SET search_path TO sanctions")
        for row in conn.execute(_LISTINGS, params):
            workflow_id = listing_workflow_id(row["listing_id"])
            entries.append(
                LedgerEntry(
                    workflow_id,
                    row["case_id"],
                    ListingSnapshot(
                        workflow_id=workflow_id,
                        stage=row["stage"],
                        amount_corrected=row["amount_corrected"] or Decimal(0),
                        paid_in_full_on=row["paid_in_full_on"],
                        defence_due_date=row["defence_due_date"],
                        statements=row["statements"] or [],
                        decided_on=row["decided_on"],
                        not_listed_reason=row["not_listed_reason"],
                        expires_on=row["expires_on"],
                        early_removal_possible_from=row["early_removal_possible_from"],
                        pending_application=row["pending_application"],
                        removal_reason=row["removal_reason"],
                        removed_on=row["removed_on"],
                    ),
                )
            )
    return [e for e in entries if only is None or e.workflow_id in only]


async def judge_listing(client: Client, entry: LedgerEntry) -> list[str] | None:
    try:
        status = await client.get_workflow_handle(entry.workflow_id).query(
            ListingQueries.STATUS, result_type=ListingStatus, rpc_timeout=timedelta(seconds=10)
        )
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return None
        raise
    return listing_disagreements(listing_snapshot_of(status), entry.snapshot)


async def audit_listings(
    client: Client,
    database_url: str,
    *,
    changed_within: timedelta = timedelta(days=7),
    listing_ids: set[str] | None = None,
    settle_seconds: float = 3.0,
    rereads: int = 3,
    fix: bool = False,
) -> tuple[int, list[Disagreement]]:
    """(listings compared, disagreements that persisted); with `fix`, after asking each to report again."""
    return await audit(
        client,
        lambda only: listing_entries(database_url, changed_within, only, listing_ids),
        judge_listing,
        ListingSignals.REPORT_STATE,
        settle_seconds=settle_seconds,
        rereads=rereads,
        fix=fix,
    )
