"""The blacklist workflow's activities that put a listing on the public list and take it off: publication with
its event and the entry shared with the credit systems, and removal (the period ended, or credit repaired) with
its event and the entry's removal. Each answers a retry with what it recorded the first time."""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.contracts.credit_sharing_events import CreditEntryAdded, CreditEntryRemoved
from services.contracts.lifecycle import ListingGround
from services.contracts.sanctions_events import ListingPublished, ListingRemoved, PublishedPerson
from services.contracts.sanctions_workflows import (
    DocumentInfo,
    PersonRole,
    PublishCommand,
    RemovalCommand,
    SanctionsActivities,
)
from services.sanctions import domain, listing_actions_store, store
from services.sanctions.activity_base import ListingActivityBase, log


def published_persons(rows: list[dict[str, Any]]) -> list[PublishedPerson]:
    return [
        PublishedPerson(role=PersonRole(r["role"]), name_masked=r["name_masked"], person_ref=r["person_ref"])
        for r in rows
    ]


class ListingPublication(ListingActivityBase):
    """Publication and removal (`ListingActivities` composes them with the documents)."""

    @activity.defn(name=SanctionsActivities.PUBLISH_LISTING)
    async def publish_listing(self, command: PublishCommand) -> DocumentInfo:
        async with self._pool.connection() as conn, conn.transaction():
            listing = await self._listing(conn, command.listing_id)
            if listing["published_at"] is not None:
                return DocumentInfo(
                    document_id=listing["decision_document_id"], document_number=listing["decision_number"]
                )
            if not listing["listed"]:
                raise ApplicationError(f"listing {command.listing_id} has no listing decision", non_retryable=True)
            name, code = listing["employer_name"], listing["credit_code"]
            if name is None:
                name, code_from_facts, _ = await self._employer(conn, listing)
                code = code or code_from_facts
            if name is None and code is None:
                # The complaint's facts have not arrived from intake yet: retried until they have.
                raise ApplicationError(f"the employer of case {listing['case_id']} is not known yet (intake events)")
            persons = published_persons(await listing_actions_store.persons(conn, command.listing_id))
            await store.update_listing(
                conn,
                command.listing_id,
                stage="listed",
                published_at=command.published_at,
                employer_name=name,
                credit_code=code,
            )
            await store.emit(
                conn,
                listing["case_id"],
                ListingPublished(
                    listing_id=command.listing_id,
                    case_id=listing["case_id"],
                    county=listing["county"],
                    employer_ref=listing["employer_ref"],
                    employer_name=name,
                    credit_code=code,
                    responsible_persons=persons,
                    ground=ListingGround(listing["ground"]),
                    decision_document_number=listing["decision_number"],
                    published_at=command.published_at,
                    listed_on=listing["listed_on"],
                    expires_on=command.expires_on,
                ),
            )
            await store.emit(
                conn,
                listing["case_id"],
                CreditEntryAdded(
                    listing_id=command.listing_id,
                    employer_name=name,
                    credit_code=code,
                    employer_ref=listing["employer_ref"],
                    responsible_persons=persons,
                    ground=ListingGround(listing["ground"]),
                    issuing_authority=self._settings.authority,
                    decision_document_number=listing["decision_number"],
                    listed_on=listing["listed_on"],
                    expires_on=command.expires_on,
                ),
            )
        log.info("listing published and shared", extra={"listing_id": command.listing_id})
        return DocumentInfo(document_id=listing["decision_document_id"], document_number=listing["decision_number"])

    @activity.defn(name=SanctionsActivities.REMOVE_LISTING)
    async def remove_listing(self, command: RemovalCommand) -> DocumentInfo:
        async with self._pool.connection() as conn, conn.transaction():
            listing = await self._listing(conn, command.listing_id)
            info = DocumentInfo(
                document_id=listing["decision_document_id"] or "", document_number=listing["decision_number"] or ""
            )
            if listing["removed_at"] is not None:
                return info
            await store.update_listing(
                conn,
                command.listing_id,
                stage="removed",
                removal_reason=command.reason.value,
                removed_at=command.removed_at,
            )
            await store.emit(
                conn,
                listing["case_id"],
                ListingRemoved(
                    listing_id=command.listing_id,
                    case_id=listing["case_id"],
                    county=listing["county"],
                    reason=command.reason,
                    removed_at=command.removed_at,
                    application_id=command.application_id,
                ),
            )
            await store.emit(
                conn,
                listing["case_id"],
                CreditEntryRemoved(
                    listing_id=command.listing_id,
                    credit_code=listing["credit_code"],
                    employer_ref=listing["employer_ref"],
                    reason=command.reason,
                    removed_on=domain.china_date(command.removed_at),
                ),
            )
        log.info("listing removed", extra={"listing_id": command.listing_id, "reason": command.reason.value})
        return info
