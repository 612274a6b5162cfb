"""The blacklist workflow's activities: records, documents and events in the sanctions service's own schema.

`ListingActivities` is constructed with the sanctions pool, so only this service writes its tables. Every
activity is idempotent per listing and step: a retried activity finds its step done and answers with what
it recorded the first time (no second document, no second event).
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

from psycopg_pool import AsyncConnectionPool
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.common.commands import request_hash
from services.common.crypto import FieldCipher
from services.common.lifecycle_config import load_lifecycle_config
from services.contracts.credit_sharing_events import CreditEntryAdded, CreditEntryRemoved
from services.contracts.lifecycle import Deadline, DeadlineRequest, ListingGround, PublicationConfig
from services.contracts.sanction_rules import is_major_violation
from services.contracts.sanctions_events import (
    ListingDecided,
    ListingPublished,
    ListingRemoved,
    ListingStateReported,
    NoticeIssued,
    PublishedPerson,
    QuarterListDrafted,
)
from services.contracts.sanctions_workflows import (
    DecisionCommand,
    DocumentInfo,
    ListingReport,
    NoticeCommand,
    PersonRole,
    PublishCommand,
    QuarterListCommand,
    RemovalCommand,
    SanctionsActivities,
)
from services.contracts.working_days import CalendarNotCovered, compute_deadline
from services.sanctions import documents, domain, registers_store, store
from services.sanctions.settings import SanctionsSettings

log = logging.getLogger(__name__)

DOCUMENT_CONTEXT = "sanctions.documents"
PERSON_NAME_CONTEXT = "sanctions.responsible_persons.name"
CALENDAR_NOT_COVERED = "CalendarNotCovered"


def published_persons(rows: list[dict[str, Any]]) -> list[PublishedPerson]:
    return [
        PublishedPerson(role=PersonRole(r["role"]), name_masked=r["name_masked"], person_ref=r["person_ref"])
        for r in rows
    ]


class ListingActivities:
    def __init__(self, pool: AsyncConnectionPool, settings: SanctionsSettings, cipher: FieldCipher) -> None:
        self._pool = pool
        self._settings = settings
        self._cipher = cipher

    def all(self) -> list[Any]:
        return [
            self.compute_deadline,
            self.issue_prior_notice,
            self.record_decision,
            self.publish_listing,
            self.remove_listing,
            self.build_quarter_list,
            self.report_listing_state,
        ]

    @activity.defn(name=SanctionsActivities.COMPUTE_DEADLINE)
    async def compute_deadline(self, request: DeadlineRequest) -> Deadline:
        try:
            return compute_deadline(request)
        except CalendarNotCovered as err:
            raise ApplicationError(str(err), type=CALENDAR_NOT_COVERED, non_retryable=True) from err

    async def _listing(self, conn: store.Conn, listing_id: str) -> dict[str, Any]:
        listing = await store.get_listing(conn, listing_id, lock=True)
        if listing is None:
            raise ApplicationError(f"listing {listing_id} is not recorded", non_retryable=True)
        return listing

    async def _employer(self, conn: store.Conn, listing: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
        """Name, credit code and project of the listed employer, from the case facts intake announced."""
        facts = await store.case_facts(conn, listing["case_id"])
        code = (facts or {}).get("employer_credit_code") or domain.credit_code_of(listing["employer_ref"])
        return (facts or {}).get("employer_name"), code, (facts or {}).get("project_name")

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
                    for p in await store.persons(conn, command.listing_id)
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
            persons = published_persons(await store.persons(conn, command.listing_id))
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

    @activity.defn(name=SanctionsActivities.REPORT_LISTING_STATE)
    async def report_listing_state(self, report: ListingReport) -> None:
        """The workflow's state, written over the listing record when it is the newest report (one truth:
        services/contracts/listing_reports.py), with its event; a repeated key changes nothing."""
        async with self._pool.connection() as conn, conn.transaction():
            listing = await self._listing(conn, report.listing_id)
            if await store.find_request(conn, report.idempotency_key) is not None:
                return
            applied = await store.apply_report(
                conn, report.listing_id, report.seq, report.at, report.snapshot.model_dump(mode="json")
            )
            await store.insert_request(
                conn, report.idempotency_key, "listing_report", request_hash(report), report.listing_id
            )
            await store.emit(
                conn,
                listing["case_id"],
                ListingStateReported(
                    listing_id=report.listing_id,
                    case_id=listing["case_id"],
                    county=listing["county"],
                    seq=report.seq,
                    at=report.at,
                    applied=applied,
                    changes=report.changes,
                    snapshot=report.snapshot,
                ),
            )

    @activity.defn(name=SanctionsActivities.BUILD_QUARTER_LIST)
    async def build_quarter_list(self, command: QuarterListCommand) -> str:
        quarter = command.quarter or domain.previous_quarter(command.asked_on)
        return await build_quarter_list(self._pool, self._settings, quarter)


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
