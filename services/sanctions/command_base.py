"""What the sanctions service's commands share (`commands.py`, `listing_actions.py`): the engines they use,
the ids they make, the live process they ask, and one listing action recorded with its event."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel
from stdnum.cn import ric
from temporalio.client import Client

from services.common import audit
from services.common.auth import Principal
from services.common.commands import (
    REQUEST_FINGERPRINT,
    ActionLog,
    KeyedRecords,
    in_scope,
)
from services.common.crypto import FieldCipher
from services.common.process_gateway import ProcessGateway, Wording
from services.contracts.lifecycle import CalendarConfig
from services.contracts.sanctions_events import SanctionsEvent
from services.contracts.sanctions_workflows import BlacklistConfig, ListingQueries, ListingStatus, listing_workflow_id
from services.sanctions import domain, listing_actions_store, store
from services.sanctions.settings import SanctionsSettings

ID_NUMBER_CONTEXT = "sanctions.responsible_persons.id_number"
STATEMENT_CONTEXT = "sanctions.statements.text"
# Stages in which the process still runs and takes messages.
LIVE_STAGES = ("notice", "defence", "review", "listed")
BEFORE_DECISION = ("notice", "defence", "review")
# The listing's own process (the blacklist procedure) checks the agencies' actions.
PROCEDURE = Wording(
    refused="The procedure refused the action",
    late=("The procedure did not answer in time", "try again"),
    finished=(
        "The procedure has ended",
        "listing {listing_id}'s procedure has finished: no further action is possible",
    ),
    missing=("No such procedure", "listing {listing_id} has no running procedure"),
    subject_when_gone=False,
)


def record_id(prefix: str, key: str, at: datetime) -> str:
    return f"{prefix}-{domain.china_date(at):%Y%m%d}-{hashlib.sha256(key.encode()).hexdigest()[:10].upper()}"


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16].upper()}"


def blacklist_config(settings: SanctionsSettings, calendar: CalendarConfig) -> BlacklistConfig:
    return BlacklistConfig(
        defence_days=settings.defence_days,
        defence_unit=settings.defence_unit,
        listing_years=settings.listing_years,
        early_removal_months=settings.early_removal_months,
        leave_off_when_paid=settings.leave_off_when_paid,
        calendar=calendar,
        working_day_seconds=settings.working_day_seconds,
    )


class SanctionsBase:
    """One instance per API process (as `Sanctions`)."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        client: Client,
        settings: SanctionsSettings,
        cipher: FieldCipher,
        calendar: Callable[[], CalendarConfig],
        reference_key: bytes,
    ) -> None:
        self._pool = pool
        self._client = client
        self._process = ProcessGateway(client, status_query=ListingQueries.STATUS, wording=PROCEDURE)
        self._requests = KeyedRecords(store.find_request, answer=lambda row: str(row["record_id"]))
        self._actions = ActionLog(pool, listing_actions_store.find_action)
        self._settings = settings
        self._cipher = cipher
        # The official calendar entries as the configuration says now (a year may be loaded meanwhile).
        self._calendar = calendar
        self._reference_key = reference_key

    # --- agency actions ------------------------------------------------------------------------------------

    async def _repeated(self, principal: Principal, key: str | None) -> dict[str, Any] | None:
        """The first answer to this client's repeated request (services/common/commands.py, `ActionLog`)."""
        return await self._actions.repeated(
            key, principal, lambda action: self.visible_listing(principal, action["listing_id"])
        )

    async def visible_listing(self, principal: Principal, listing_id: str) -> dict[str, Any]:
        return await in_scope(
            self._pool,
            store.get_listing,
            listing_id,
            "listing",
            lambda listing: principal.may_see_county(listing["county"]),
        )

    async def _update(self, listing_id: str, name: str, arg: BaseModel, update_id: str) -> ListingStatus:
        return await self._process.update(
            listing_workflow_id(listing_id),
            name,
            arg,
            update_id=update_id,
            result_type=ListingStatus,
            subject={"listing_id": listing_id},
        )

    async def status(self, listing_id: str) -> ListingStatus | None:
        return await self._process.status(listing_workflow_id(listing_id), ListingStatus)

    async def _record(
        self,
        principal: Principal,
        listing: dict[str, Any],
        kind: str,
        key: str | None,
        detail: dict[str, Any],
        response: dict[str, Any],
        payload: SanctionsEvent,
        extra: Any = None,
    ) -> dict[str, Any]:
        async with self._pool.connection() as conn, conn.transaction():
            if extra is not None:
                await extra(conn)
            await listing_actions_store.insert_action(
                conn,
                action_id=response["action_id"],
                listing_id=listing["listing_id"],
                kind=kind,
                key=key,
                actor=principal.client_id,
                detail=detail,
                response=response,
                request_fingerprint=REQUEST_FINGERPRINT.get(),
            )
            await audit.record(conn, principal, f"listing.{kind}", listing["listing_id"], detail=detail)
            await store.emit(conn, listing["case_id"], payload)
        return response


def valid_id_number(value: str) -> str:
    number = value.strip().upper()
    if not ric.is_valid(number):
        raise ValueError("not a valid resident ID number (居民身份证号码)")
    return number
