"""The blacklist workflow's activities that issue the procedure's documents: the prior notice (事先告知书) and
the decision to list (列入决定书, naming the responsible persons, stored sealed) or not to list. Each numbers
its document, renders and stores it, updates the listing and writes its event in one transaction, and answers
a retry with what it recorded the first time (no second document, no second event)."""

from __future__ import annotations

import asyncio

from temporalio import activity

from services.contracts.lifecycle import ListingGround
from services.contracts.sanctions_events import ListingDecided, NoticeIssued
from services.contracts.sanctions_workflows import (
    DecisionCommand,
    DocumentInfo,
    NoticeCommand,
    PersonRole,
    SanctionsActivities,
)
from services.sanctions import documents, domain, listing_actions_store, store
from services.sanctions.activity_base import DOCUMENT_CONTEXT, PERSON_NAME_CONTEXT, ListingActivityBase, log


class ListingDocuments(ListingActivityBase):
    """The notice and the decision (`ListingActivities` composes them with the publication)."""

    @activity.defn(name=SanctionsActivities.ISSUE_PRIOR_NOTICE)
    async def issue_prior_notice(self, command: NoticeCommand) -> DocumentInfo:
        async with self._pool.connection() as conn, conn.transaction():
            listing = await self._listing(conn, command.listing_id)
            if listing["notice_document_id"]:
                done = await store.get_document(conn, listing["notice_document_id"])
                assert done is not None
                return DocumentInfo(document_id=done["document_id"], document_number=done["document_number"])
            name, code, project = await self._employer(conn, listing)
            issued_on = domain.china_date(command.issued_at)
            number = f"{self._settings.document_prefix}失信告〔{issued_on.year}〕{await store.next_number(conn, 'notice', issued_on.year)}号"
            letter = documents.prior_notice(
                authority=self._settings.authority,
                number=number,
                employer_name=name,
                employer_ref=listing["employer_ref"],
                credit_code=code,
                project_name=project,
                ground=ListingGround(listing["ground"]),
                basis=listing["basis"],
                amount=str(listing["amount"]),
                issued_on=issued_on,
                defence_days=command.defence_days,
                defence_unit=command.defence_unit,
                defence_due=command.defence_due_date,
            )
            pdf = await asyncio.to_thread(documents.render_pdf, letter)
            document_id = f"DOC-{command.listing_id}-NOTICE"
            digest = documents.sha256(pdf)
            await store.insert_document(
                conn,
                document_id=document_id,
                kind="prior_notice",
                number=number,
                media_type="application/pdf",
                content=pdf,
                digest=digest,
                listing_id=command.listing_id,
            )
            await store.update_listing(
                conn,
                command.listing_id,
                stage="defence",
                notice_document_id=document_id,
                defence_due_date=command.defence_due_date,
            )
            await store.emit(
                conn,
                listing["case_id"],
                NoticeIssued(
                    listing_id=command.listing_id,
                    case_id=listing["case_id"],
                    county=listing["county"],
                    document_id=document_id,
                    document_number=number,
                    defence_due_date=command.defence_due_date,
                    sha256=digest,
                ),
            )
        log.info("prior notice issued", extra={"listing_id": command.listing_id, "document_id": document_id})
        return DocumentInfo(document_id=document_id, document_number=number)

    @activity.defn(name=SanctionsActivities.RECORD_DECISION)
    async def record_decision(self, command: DecisionCommand) -> DocumentInfo:
        async with self._pool.connection() as conn, conn.transaction():
            listing = await self._listing(conn, command.listing_id)
            if listing["listed"] is not None:
                return DocumentInfo(
                    document_id=listing["decision_document_id"] or "", document_number=listing["decision_number"] or ""
                )
            name, code, _ = await self._employer(conn, listing)
            document_id, number = None, None
            if command.listed:
                assert command.expires_on is not None
                listed_on = domain.china_date(command.decided_at)
                number = f"{self._settings.document_prefix}失信决〔{listed_on.year}〕{await store.next_number(conn, 'decision', listed_on.year)}号"
                notice = (
                    await store.get_document(conn, listing["notice_document_id"])
                    if listing["notice_document_id"]
                    else None
                )
                persons = [
                    (
                        domain.PERSON_ROLE_NAMES[PersonRole(p["role"])],
                        self._cipher.open(p["name_sealed"], context=PERSON_NAME_CONTEXT),
                    )
                    for p in await listing_actions_store.persons(conn, command.listing_id)
                ]
                letter = documents.listing_decision(
                    authority=self._settings.authority,
                    number=number,
                    employer_name=name,
                    employer_ref=listing["employer_ref"],
                    credit_code=code,
                    ground=ListingGround(listing["ground"]),
                    basis=listing["basis"],
                    notice_number=notice["document_number"] if notice else None,
                    listed_on=listed_on,
                    expires_on=command.expires_on,
                    persons=persons,
                    listing_years=self._settings.listing_years,
                    early_removal_months=self._settings.early_removal_months,
                )
                pdf = await asyncio.to_thread(documents.render_pdf, letter)
                document_id = f"DOC-{command.listing_id}-DECISION"
                # The decision names the responsible persons: stored sealed, like their names.
                await store.insert_document(
                    conn,
                    document_id=document_id,
                    kind="listing_decision",
                    number=number,
                    media_type="application/pdf",
                    content=self._cipher.seal_bytes(pdf, context=DOCUMENT_CONTEXT),
                    digest=documents.sha256(pdf),
                    listing_id=command.listing_id,
                    sealed=True,
                )
                await store.update_listing(
                    conn,
                    command.listing_id,
                    listed=True,
                    decided_at=command.decided_at,
                    decision_reason=command.reason,
                    decision_document_id=document_id,
                    decision_number=number,
                    listed_on=listed_on,
                    expires_on=command.expires_on,
                    employer_name=name,
                    credit_code=code,
                )
            else:
                await store.update_listing(
                    conn,
                    command.listing_id,
                    listed=False,
                    stage="not_listed",
                    decided_at=command.decided_at,
                    decision_reason=command.reason,
                    not_listed_reason=command.not_listed_reason.value if command.not_listed_reason else None,
                    employer_name=name,
                    credit_code=code,
                )
            await store.emit(
                conn,
                listing["case_id"],
                ListingDecided(
                    listing_id=command.listing_id,
                    case_id=listing["case_id"],
                    county=listing["county"],
                    listed=command.listed,
                    not_listed_reason=command.not_listed_reason,
                    document_id=document_id,
                    document_number=number,
                    decided_at=command.decided_at,
                    expires_on=command.expires_on,
                ),
            )
        log.info("listing decided", extra={"listing_id": command.listing_id, "listed": command.listed})
        return DocumentInfo(document_id=document_id or "", document_number=number or "")
