"""`anxin audit ledger` at the end of a path test: the ledger (and the listing records) must say what the
workflows say."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable

from temporalio.client import Client

from deploy.stack import Stack
from operations.ledger_audit import Disagreement, audit_ledger
from operations.listing_audit import audit_listings
from operations.parked import describe, parked_in_ledger
from services.common.temporal import connect


async def keyed_client(stack: Stack) -> Client:
    """A Temporal client of the stack that can read its workflows' encrypted payloads."""
    env = json.loads((stack.data_dir / "development-secrets.json").read_text())
    settings = stack.client_settings(
        ANXIN_PAYLOAD_KEYS=env["ANXIN_PAYLOAD_KEYS"], ANXIN_PAYLOAD_KEY_ID=env["ANXIN_PAYLOAD_KEY_ID"]
    )
    return await connect(settings)


def _assert_agree(
    stack: Stack, audit: Callable[[Client], Awaitable[tuple[int, list[Disagreement]]]], what: str, ids: set[str]
) -> int:
    async def run() -> tuple[int, list[str]]:
        compared, found = await audit(await keyed_client(stack))
        return compared, [f"{d.workflow_id}: {'; '.join(d.differences)}" for d in found]

    compared, found = asyncio.run(run())
    assert not found, f"the {what} disagree with the workflows:\n" + "\n".join(found)
    assert compared > 0, f"nothing in the {what} for {sorted(ids)}"
    return compared


def assert_ledger_agrees(stack: Stack, case_ids: Iterable[str], *, parked_allowed: bool = False) -> int:
    """Audit the ledger cases `case_ids` against their workflows; fails on any disagreement that persists, and
    on any process left with a step parked by a service's refusal (no path ends waiting for an operator),
    unless `parked_allowed`.

    Returns how many processes were compared (never zero: a case the ledger does not hold fails too)."""
    cases = set(case_ids)
    compared = _assert_agree(
        stack,
        lambda client: audit_ledger(
            client,
            stack.postgres.service_url("cases"),
            case_ids=cases,
            settle_seconds=1.0,
            rereads=15,
        ),
        "ledger",
        cases,
    )
    if not parked_allowed:
        # The ledger agrees with the workflows now, so what it shows parked is what the workflows are.
        parked = parked_in_ledger(stack.postgres.service_url("cases"), cases)
        assert not parked, "processes end parked:\n" + "\n".join(
            f"{workflow_id}: {describe(step)}" for workflow_id, step in sorted(parked.items())
        )
    return compared


def assert_listings_agree(stack: Stack, listing_ids: Iterable[str]) -> int:
    """Audit the blacklist listings `listing_ids` against their workflows; fails on any disagreement that
    persists. Returns how many were compared (never zero)."""
    listings = set(listing_ids)
    return _assert_agree(
        stack,
        lambda client: audit_listings(
            client,
            stack.postgres.service_url("sanctions"),
            listing_ids=listings,
            settle_seconds=1.0,
            rereads=15,
        ),
        "listing records",
        listings,
    )
