"""The sanctions service's commands: the lifecycle's requests (idempotent by key) and the quarterly
publication. The agencies' actions on a listing, checked by the live blacklist process (a Temporal Update with a
validator), then recorded with their event in one transaction, are in `listing_actions.py`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from psycopg.errors import UniqueViolation
from temporalio.client import RPCError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCStatusCode

from services.common import audit
from services.common.auth import Principal
from services.common.commands import (
    request_hash,
    same_key,
)
from services.common.errors import NotFound, Refused, Unavailable, Unprocessable
from services.contracts.lifecycle import ListingGround, SanctionKind, SanctionRequest
from services.contracts.sanctions_events import (
    CorrectionRecorded,
    ListingProposed,
    PublicationMarked,
    QuarterListPublished,
)
from services.contracts.sanctions_workflows import (
    BLACKLIST_WORKFLOW_TYPE,
    TASK_QUEUE,
    BlacklistInput,
    CorrectionReport,
    ListingSignals,
    listing_workflow_id,
)
from services.sanctions import documents, domain, registers_store, store
from services.sanctions.command_base import LIVE_STAGES, blacklist_config, record_id
from services.sanctions.listing_actions import ListingActions


class Sanctions(ListingActions):
    """One instance per API process: the lifecycle's requests and the quarterly publication here, the agencies'
    actions on a listing in `ListingActions`, what they share in `SanctionsBase`."""

    # --- the lifecycle's requests ------------------------------------------------------------------------

    async def propose(self, key: str, request: SanctionRequest) -> tuple[dict[str, Any], bool]:
        """A blacklist procedure for a case: recorded with its event, then its process started."""
        same_key(key, request)
        try:
            ground = domain.listing_ground(request)
        except domain.ProposalRefused as exc:
            raise Refused(
                "The legal criteria for a listing are not met", str(exc), request_at_fault=True, code="listing-criteria"
            ) from None
        fingerprint = request_hash(request)
        async with self._pool.connection() as conn:
            # A case has one procedure at a time: a second proposal is answered with the live one.
            live = [row for row in await store.listings_of_case(conn, request.case_id) if row["stage"] in LIVE_STAGES]

            async def create(conn: store.Conn) -> str:
                now = datetime.now(UTC)
                listing_id = live[0]["listing_id"] if live else record_id("BL", key, now)
                await store.insert_request(conn, key, "blacklist_procedure", fingerprint, listing_id)
                if not live:
                    await store.insert_listing(
                        conn,
                        listing_id=listing_id,
                        case_id=request.case_id,
                        county=request.county,
                        employer_ref=request.employer_ref,
                        ground=ground.value,
                        basis=request.basis,
                        amount=request.amount,
                        proposed_at=now,
                    )
                    await store.emit(
                        conn,
                        request.case_id,
                        ListingProposed(
                            listing_id=listing_id,
                            case_id=request.case_id,
                            county=request.county,
                            employer_ref=request.employer_ref,
                            ground=ground,
                            amount=request.amount,
                            proposed_at=now,
                        ),
                    )
                return listing_id

            listing_id, recorded = await self._requests.once(conn, key, fingerprint, create, kind="blacklist_procedure")
            listing = await store.get_listing(conn, listing_id)
        assert listing is not None
        # Started after the commit; a repeated request starts it if an earlier attempt could not.
        await self._start(listing)
        return {"id": listing_id}, recorded and not live

    async def _start(self, listing: dict[str, Any]) -> None:
        listing_input = BlacklistInput(
            listing_id=listing["listing_id"],
            case_id=listing["case_id"],
            county=listing["county"],
            employer_ref=listing["employer_ref"],
            ground=ListingGround(listing["ground"]),
            basis=listing["basis"],
            amount=listing["amount"],
            proposed_at=listing["proposed_at"],
            config=blacklist_config(self._settings, self._calendar()),
        )
        try:
            await self._client.start_workflow(
                BLACKLIST_WORKFLOW_TYPE,
                listing_input,
                id=listing_workflow_id(listing["listing_id"]),
                task_queue=TASK_QUEUE,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            pass
        except RPCError as exc:
            raise Unavailable(
                "The process engine is unavailable",
                f"the listing is recorded; its process could not be started yet ({exc.message}); repeat the request",
            ) from None

    async def mark(self, key: str, request: SanctionRequest) -> tuple[dict[str, Any], bool]:
        """Mark a case for the quarterly major-violation publication (once per case)."""
        same_key(key, request)
        self._require_kind(request, SanctionKind.PUBLICATION)
        fingerprint = request_hash(request)
        async with self._pool.connection() as conn:
            existing = await store.mark_of_case(conn, request.case_id)
            mark_id = existing["mark_id"] if existing else record_id("PM", key, datetime.now(UTC))

            async def create(conn: store.Conn) -> str:
                await store.insert_request(conn, key, "publication_mark", fingerprint, mark_id)
                if existing is None:
                    await store.insert_mark(
                        conn,
                        mark_id,
                        request.case_id,
                        request.county,
                        request.employer_ref,
                        request.amount,
                        request.basis,
                    )
                    await store.emit(
                        conn,
                        request.case_id,
                        PublicationMarked(
                            mark_id=mark_id,
                            case_id=request.case_id,
                            county=request.county,
                            employer_ref=request.employer_ref,
                            amount=request.amount,
                            marked_at=datetime.now(UTC),
                        ),
                    )
                return mark_id

            try:
                mark_id, recorded = await self._requests.once(conn, key, fingerprint, create, kind="publication_mark")
            except UniqueViolation:  # the case was marked meanwhile, under another key
                return {"id": mark_id}, False
        return {"id": mark_id}, recorded and existing is None

    @staticmethod
    def _require_kind(request: SanctionRequest, kind: SanctionKind) -> None:
        try:
            domain.require_kind(request, kind)
        except domain.ProposalRefused as exc:
            raise Unprocessable("Wrong kind of request", str(exc)) from None

    async def correction(self, key: str, request: SanctionRequest) -> tuple[dict[str, Any], bool]:
        """A payment after the refusal: recorded, then told to the case's live listing processes."""
        same_key(key, request)
        self._require_kind(request, SanctionKind.CORRECTION)
        if request.amount <= 0:
            raise Unprocessable("The request is not valid", "a correction reports a positive amount paid")
        fingerprint = request_hash(request)

        async def create(conn: store.Conn) -> str:
            correction_id = record_id("CORR", key, datetime.now(UTC))
            listings = await store.listings_of_case(conn, request.case_id)
            mark = await store.mark_of_case(conn, request.case_id)
            await store.insert_request(conn, key, "correction", fingerprint, correction_id)
            await store.insert_correction(
                conn, correction_id, request.case_id, request.county, request.amount, request.basis
            )
            await store.emit(
                conn,
                request.case_id,
                CorrectionRecorded(
                    correction_id=correction_id,
                    case_id=request.case_id,
                    county=request.county,
                    amount=request.amount,
                    listing_ids=[row["listing_id"] for row in listings],
                    mark_ids=[mark["mark_id"]] if mark else [],
                ),
            )
            return correction_id

        async with self._pool.connection() as conn:
            correction_id, created = await self._requests.once(conn, key, fingerprint, create, kind="correction")
            listings = await store.listings_of_case(conn, request.case_id)
        report = CorrectionReport(correction_id=correction_id, amount=request.amount)
        for listing in listings:
            if listing["stage"] in LIVE_STAGES:
                await self._signal(listing["listing_id"], report)
        return {"id": correction_id}, created

    async def _signal(self, listing_id: str, report: CorrectionReport) -> None:
        try:
            await self._client.get_workflow_handle(listing_workflow_id(listing_id)).signal(
                ListingSignals.CORRECTION_REPORTED, report
            )
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                return  # the procedure has ended meanwhile: nothing left to tell it
            raise Unavailable(
                "The process engine is unavailable",
                f"the correction is recorded; telling listing {listing_id} failed ({exc.message}); repeat the request",
            ) from None

    # --- the quarterly publication ---------------------------------------------------------------------------

    async def publish_quarter(self, principal: Principal, list_id: str) -> dict[str, Any]:
        """The city office approves a drafted list: it is published (record, PDF, HTML, event)."""
        async with self._pool.connection() as conn, conn.transaction():
            draft = await registers_store.get_list(conn, list_id, lock=True)
            if draft is None:
                raise NotFound("No such list", f"publication list {list_id} was not found")
            if draft["status"] == "published":
                return {**draft, "repeated": True}
            entries = draft["entries"]
            pdf = documents.render_list_pdf(self._settings.authority, draft["quarter"], entries)
            page = documents.render_list_html(self._settings.authority, draft["quarter"], entries)
            pdf_id, html_id = f"DOC-{list_id}-PDF", f"DOC-{list_id}-HTML"
            number = documents.list_title(self._settings.authority, draft["quarter"])
            await store.insert_document(
                conn,
                document_id=pdf_id,
                kind="quarter_list_pdf",
                number=number,
                media_type="application/pdf",
                content=pdf,
                digest=documents.sha256(pdf),
                list_id=list_id,
            )
            await store.insert_document(
                conn,
                document_id=html_id,
                kind="quarter_list_html",
                number=number,
                media_type="text/html; charset=utf-8",
                content=page,
                digest=documents.sha256(page),
                list_id=list_id,
            )
            now = datetime.now(UTC)
            await registers_store.publish_list(conn, list_id, principal.client_id, pdf_id, html_id, now)
            await audit.record(conn, principal, "publication_list.approve", list_id, detail={"entries": len(entries)})
            await store.emit(
                conn,
                list_id,
                QuarterListPublished(
                    list_id=list_id,
                    quarter=draft["quarter"],
                    entries=len(entries),
                    approved_by=principal.client_id,
                    published_at=now,
                    pdf_document_id=pdf_id,
                    html_document_id=html_id,
                ),
            )
            published = await registers_store.get_list(conn, list_id)
        assert published is not None
        return published
