"""The sanctions service's commands: the lifecycle's requests (idempotent by key) and the agencies' actions
on a listing, checked by the live blacklist process (a Temporal Update with a validator), then recorded
with their event in one transaction."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from psycopg.errors import UniqueViolation
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel
from stdnum.cn import ric
from temporalio.client import Client, RPCError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCStatusCode

from services.common import audit
from services.common.auth import Principal
from services.common.commands import (
    REQUEST_FINGERPRINT,
    ActionLog,
    KeyedRecords,
    in_scope,
    request_hash,
    same_key,
)
from services.common.crypto import FieldCipher, keyed_reference
from services.common.errors import Forbidden, NotFound, Refused, Unauthenticated, Unavailable, Unprocessable
from services.common.process_gateway import ProcessGateway, Wording
from services.contracts.lifecycle import CalendarConfig, SanctionKind, SanctionRequest
from services.contracts.sanctions_events import (
    BLACKLIST_WORKFLOW_TYPE,
    TASK_QUEUE,
    BlacklistConfig,
    BlacklistInput,
    CorrectionRecorded,
    CorrectionReport,
    EarlyRemovalApplication,
    EarlyRemovalApplied,
    EarlyRemovalDecided,
    EarlyRemovalDecision,
    ListingGround,
    ListingProposed,
    ListingQueries,
    ListingSignals,
    ListingStatus,
    ListingUpdates,
    PersonRole,
    PublicationMarked,
    QuarterListPublished,
    ResponsiblePersonsRecorded,
    SanctionsEvent,
    StatementRecord,
    StatementRecorded,
    StatementReview,
    StatementReviewed,
    listing_workflow_id,
)
from services.sanctions import documents, domain, store
from services.sanctions.activities import DOCUMENT_CONTEXT, PERSON_NAME_CONTEXT
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
    finished=("The procedure has ended", "listing {listing_id}'s procedure has finished: no further action is possible"),
    missing=("No such procedure", "listing {listing_id} has no running procedure"),
    subject_when_gone=False,
)


def _record_id(prefix: str, key: str, at: datetime) -> str:
    return f"{prefix}-{domain.china_date(at):%Y%m%d}-{hashlib.sha256(key.encode()).hexdigest()[:10].upper()}"


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16].upper()}"


def blacklist_config(settings: SanctionsSettings, calendar: CalendarConfig) -> BlacklistConfig:
    return BlacklistConfig(
        defence_days=settings.defence_days, defence_unit=settings.defence_unit, listing_years=settings.listing_years,
        early_removal_months=settings.early_removal_months, leave_off_when_paid=settings.leave_off_when_paid,
        calendar=calendar, working_day_seconds=settings.working_day_seconds,
    )


class Sanctions:
    """One instance per API process."""

    def __init__(self, pool: AsyncConnectionPool, client: Client, settings: SanctionsSettings, cipher: FieldCipher,
                 calendar: Callable[[], CalendarConfig], reference_key: bytes) -> None:
        self._pool = pool
        self._client = client
        self._process = ProcessGateway(client, status_query=ListingQueries.STATUS, wording=PROCEDURE)
        self._requests = KeyedRecords(store.find_request, answer=lambda row: str(row["record_id"]))
        self._actions = ActionLog(pool, store.find_action)
        self._settings = settings
        self._cipher = cipher
        # The official calendar entries as the configuration says now (a year may be loaded meanwhile).
        self._calendar = calendar
        self._reference_key = reference_key

    # --- the lifecycle's requests ------------------------------------------------------------------------

    async def propose(self, key: str, request: SanctionRequest) -> tuple[dict[str, Any], bool]:
        """A blacklist procedure for a case: recorded with its event, then its process started."""
        same_key(key, request)
        try:
            ground = domain.listing_ground(request)
        except domain.ProposalRefused as exc:
            raise Refused("The legal criteria for a listing are not met", str(exc), request_at_fault=True,
                          code="listing-criteria") from None
        fingerprint = request_hash(request)
        async with self._pool.connection() as conn:
            # A case has one procedure at a time: a second proposal is answered with the live one.
            live = [row for row in await store.listings_of_case(conn, request.case_id) if row["stage"] in LIVE_STAGES]

            async def create(conn: store.Conn) -> str:
                now = datetime.now(UTC)
                listing_id = live[0]["listing_id"] if live else _record_id("BL", key, now)
                await store.insert_request(conn, key, "blacklist_procedure", fingerprint, listing_id)
                if not live:
                    await store.insert_listing(
                        conn, listing_id=listing_id, case_id=request.case_id, county=request.county,
                        employer_ref=request.employer_ref, ground=ground.value, basis=request.basis,
                        amount=request.amount, proposed_at=now,
                    )
                    await store.emit(conn, request.case_id, ListingProposed(
                        listing_id=listing_id, case_id=request.case_id, county=request.county,
                        employer_ref=request.employer_ref, ground=ground, amount=request.amount, proposed_at=now,
                    ))
                return listing_id

            listing_id, recorded = await self._requests.once(conn, key, fingerprint, create, kind="blacklist_procedure")
            listing = await store.get_listing(conn, listing_id)
        assert listing is not None
        # Started after the commit; a repeated request starts it if an earlier attempt could not.
        await self._start(listing)
        return {"id": listing_id}, recorded and not live

    async def _start(self, listing: dict[str, Any]) -> None:
        listing_input = BlacklistInput(
            listing_id=listing["listing_id"], case_id=listing["case_id"], county=listing["county"],
            employer_ref=listing["employer_ref"], ground=ListingGround(listing["ground"]), basis=listing["basis"],
            amount=listing["amount"], proposed_at=listing["proposed_at"],
            config=blacklist_config(self._settings, self._calendar()),
        )
        try:
            await self._client.start_workflow(
                BLACKLIST_WORKFLOW_TYPE, listing_input, id=listing_workflow_id(listing["listing_id"]),
                task_queue=TASK_QUEUE, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            pass
        except RPCError as exc:
            raise Unavailable("The process engine is unavailable", f"the listing is recorded; its process could not be "
                              f"started yet ({exc.message}); repeat the request") from None

    async def mark(self, key: str, request: SanctionRequest) -> tuple[dict[str, Any], bool]:
        """Mark a case for the quarterly major-violation publication (once per case)."""
        same_key(key, request)
        self._require_kind(request, SanctionKind.PUBLICATION)
        fingerprint = request_hash(request)
        async with self._pool.connection() as conn:
            existing = await store.mark_of_case(conn, request.case_id)
            mark_id = existing["mark_id"] if existing else _record_id("PM", key, datetime.now(UTC))

            async def create(conn: store.Conn) -> str:
                await store.insert_request(conn, key, "publication_mark", fingerprint, mark_id)
                if existing is None:
                    await store.insert_mark(conn, mark_id, request.case_id, request.county, request.employer_ref,
                                            request.amount, request.basis)
                    await store.emit(conn, request.case_id, PublicationMarked(
                        mark_id=mark_id, case_id=request.case_id, county=request.county,
                        employer_ref=request.employer_ref, amount=request.amount, marked_at=datetime.now(UTC),
                    ))
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
            correction_id = _record_id("CORR", key, datetime.now(UTC))
            listings = await store.listings_of_case(conn, request.case_id)
            mark = await store.mark_of_case(conn, request.case_id)
            await store.insert_request(conn, key, "correction", fingerprint, correction_id)
            await store.insert_correction(conn, correction_id, request.case_id, request.county,
                                          request.amount, request.basis)
            await store.emit(conn, request.case_id, CorrectionRecorded(
                correction_id=correction_id, case_id=request.case_id, county=request.county,
                amount=request.amount, listing_ids=[row["listing_id"] for row in listings],
                mark_ids=[mark["mark_id"]] if mark else [],
            ))
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
            raise Unavailable("The process engine is unavailable", f"the correction is recorded; telling listing "
                              f"{listing_id} failed ({exc.message}); repeat the request") from None

    # --- agency actions ------------------------------------------------------------------------------------

    async def _repeated(self, principal: Principal, key: str | None) -> dict[str, Any] | None:
        """The first answer to this client's repeated request (services/common/commands.py, `ActionLog`)."""
        return await self._actions.repeated(key, principal,
                                            lambda action: self.visible_listing(principal, action["listing_id"]))

    async def visible_listing(self, principal: Principal, listing_id: str) -> dict[str, Any]:
        return await in_scope(self._pool, store.get_listing, listing_id, "listing",
                              lambda listing: principal.may_see_county(listing["county"]))

    async def _update(self, listing_id: str, name: str, arg: BaseModel, update_id: str) -> ListingStatus:
        return await self._process.update(listing_workflow_id(listing_id), name, arg, update_id=update_id,
                                          result_type=ListingStatus, subject={"listing_id": listing_id})

    async def status(self, listing_id: str) -> ListingStatus | None:
        return await self._process.status(listing_workflow_id(listing_id), ListingStatus)

    async def _record(self, principal: Principal, listing: dict[str, Any], kind: str, key: str | None,
                      detail: dict[str, Any], response: dict[str, Any], payload: SanctionsEvent,
                      extra: Any = None) -> dict[str, Any]:
        async with self._pool.connection() as conn, conn.transaction():
            if extra is not None:
                await extra(conn)
            await store.insert_action(conn, action_id=response["action_id"], listing_id=listing["listing_id"], kind=kind,
                                      key=key, actor=principal.client_id, detail=detail, response=response,
                                      request_fingerprint=REQUEST_FINGERPRINT.get())
            await audit.record(conn, principal, f"listing.{kind}", listing["listing_id"], detail=detail)
            await store.emit(conn, listing["case_id"], payload)
        return response

    async def record_persons(self, principal: Principal, listing_id: str, persons: list[dict[str, Any]],
                             key: str | None) -> dict[str, Any]:
        if (repeated := await self._repeated(principal, key)) is not None:
            return repeated
        listing = await self.visible_listing(principal, listing_id)
        if listing["stage"] not in BEFORE_DECISION:
            raise Refused("The decision has been made", f"responsible persons are recorded before the decision; "
                          f"listing {listing_id} is {listing['stage']}")
        sealed = []
        for person in persons:
            name, id_number = person["name"].strip(), person.get("id_number")
            identity = id_number or f"{name}|{listing['employer_ref']}"
            sealed.append({
                "role": PersonRole(person["role"]).value,
                "name_sealed": self._cipher.seal(name, context=PERSON_NAME_CONTEXT),
                "id_number_sealed": self._cipher.seal(id_number, context=ID_NUMBER_CONTEXT) if id_number else None,
                "name_masked": domain.mask_name(name),
                "person_ref": keyed_reference(identity, self._reference_key, prefix="person"),
            })
        action_id = _new_id("A")
        response = {"action_id": action_id, "listing_id": listing_id, "kind": "responsible_persons",
                    "persons": [{"role": p["role"], "name_masked": p["name_masked"], "person_ref": p["person_ref"]}
                                for p in sealed]}

        async def write(conn: store.Conn) -> None:
            await store.replace_persons(conn, listing_id, sealed, principal.client_id)

        return await self._record(
            principal, listing, "responsible_persons", key, {"count": len(sealed), "fields": ["name", "id_number"]},
            response,
            ResponsiblePersonsRecorded(listing_id=listing_id, case_id=listing["case_id"], count=len(sealed),
                                       recorded_by=principal.client_id),
            extra=write,
        )

    async def record_statement(self, principal: Principal, listing_id: str, text: str, key: str | None) -> dict[str, Any]:
        if (repeated := await self._repeated(principal, key)) is not None:
            return repeated
        listing = await self.visible_listing(principal, listing_id)
        statement_id = _new_id("ST")
        status = await self._update(listing_id, ListingUpdates.RECORD_STATEMENT,
                                    StatementRecord(statement_id=statement_id, recorded_by=principal.client_id),
                                    key or statement_id)
        response = {"action_id": statement_id, "listing_id": listing_id, "kind": "statement", "statement_id": statement_id,
                    "stage": status.stage.value, "defence_due_date": str(status.defence_due_date)}

        async def write(conn: store.Conn) -> None:
            await store.insert_statement(conn, statement_id, listing_id,
                                         self._cipher.seal(text, context=STATEMENT_CONTEXT), principal.client_id)

        return await self._record(
            principal, listing, "statement", key, {"statement_id": statement_id}, response,
            StatementRecorded(listing_id=listing_id, case_id=listing["case_id"], statement_id=statement_id,
                              recorded_by=principal.client_id),
            extra=write,
        )

    async def review_statement(self, principal: Principal, listing_id: str, list_employer: bool, reason: str,
                               key: str | None) -> dict[str, Any]:
        if (repeated := await self._repeated(principal, key)) is not None:
            return repeated
        listing = await self.visible_listing(principal, listing_id)
        review_id = _new_id("RV")
        status = await self._update(listing_id, ListingUpdates.REVIEW_STATEMENT,
                                    StatementReview(review_id=review_id, decided_by=principal.client_id,
                                                    list_employer=list_employer, reason=reason), key or review_id)
        response = {"action_id": review_id, "listing_id": listing_id, "kind": "review", "list_employer": list_employer,
                    "stage": status.stage.value}
        return await self._record(
            principal, listing, "review", key, {"list_employer": list_employer}, response,
            StatementReviewed(listing_id=listing_id, case_id=listing["case_id"], review_id=review_id,
                              decided_by=principal.client_id, list_employer=list_employer),
        )

    async def apply_for_early_removal(self, principal: Principal, listing_id: str, pledge_ref: str,
                                      payment_proof_ref: str, key: str | None) -> dict[str, Any]:
        if (repeated := await self._repeated(principal, key)) is not None:
            return repeated
        listing = await self.visible_listing(principal, listing_id)
        application_id = _new_id("ER")
        application = EarlyRemovalApplication(application_id=application_id, recorded_by=principal.client_id,
                                              pledge_ref=pledge_ref, payment_proof_ref=payment_proof_ref)
        refusal: Refused | None = None
        try:
            await self._update(listing_id, ListingUpdates.APPLY_FOR_EARLY_REMOVAL, application, key or application_id)
        except Refused as refused:
            refusal = refused
        reasons = [refusal.detail or refusal.title] if refusal else []
        response = {"action_id": application_id, "listing_id": listing_id, "kind": "early_removal_application",
                    "application_id": application_id, "accepted": refusal is None, "refusal_reasons": reasons}

        async def write(conn: store.Conn) -> None:
            await store.insert_application(
                conn, application_id=application_id, listing_id=listing_id, status="refused" if refusal else "pending",
                pledge_ref=pledge_ref, payment_proof_ref=payment_proof_ref, refusal_reasons=reasons,
                recorded_by=principal.client_id,
            )

        # A refused application is recorded too (who applied, when, why it could not be accepted).
        recorded = await self._record(
            principal, listing, "early_removal_application", key if refusal is None else None,
            {"application_id": application_id, "accepted": refusal is None}, response,
            EarlyRemovalApplied(listing_id=listing_id, case_id=listing["case_id"], application_id=application_id,
                                accepted=refusal is None, refusal_reasons=reasons),
            extra=write,
        )
        if refusal is not None:
            refusal.members["application_id"] = application_id
            raise refusal
        return recorded

    async def decide_early_removal(self, principal: Principal, listing_id: str, application_id: str, grant: bool,
                                   reason: str, key: str | None) -> dict[str, Any]:
        if (repeated := await self._repeated(principal, key)) is not None:
            return repeated
        listing = await self.visible_listing(principal, listing_id)
        async with self._pool.connection() as conn:
            application = await store.get_application(conn, application_id)
        if application is None or application["listing_id"] != listing_id:
            raise NotFound("No such application", f"application {application_id} is not one of listing {listing_id}")
        status = await self._update(listing_id, ListingUpdates.DECIDE_EARLY_REMOVAL,
                                    EarlyRemovalDecision(application_id=application_id, decided_by=principal.client_id,
                                                         grant=grant, reason=reason), key or _new_id("DR"))
        response = {"action_id": _new_id("A"), "listing_id": listing_id, "kind": "early_removal_decision",
                    "application_id": application_id, "granted": grant, "stage": status.stage.value}

        async def write(conn: store.Conn) -> None:
            await store.decide_application(conn, application_id, "granted" if grant else "rejected",
                                           principal.client_id, reason)

        return await self._record(
            principal, listing, "early_removal_decision", key, {"application_id": application_id, "granted": grant},
            response,
            EarlyRemovalDecided(listing_id=listing_id, case_id=listing["case_id"], application_id=application_id,
                                granted=grant, decided_by=principal.client_id),
            extra=write,
        )

    # --- reads ---------------------------------------------------------------------------------------------

    async def listing_view(self, principal: Principal, listing_id: str) -> dict[str, Any]:
        listing = await self.visible_listing(principal, listing_id)
        async with self._pool.connection() as conn:
            persons = await store.persons(conn, listing_id)
            acts = await store.actions(conn, listing_id)
            apps = await store.applications(conn, listing_id)
            facts = await store.case_facts(conn, listing["case_id"])
        live = await self.status(listing_id) if listing["stage"] in LIVE_STAGES else None
        return {
            **listing,
            "project_name": (facts or {}).get("project_name"),
            "responsible_persons": [{"role": p["role"], "name_masked": p["name_masked"], "person_ref": p["person_ref"]}
                                    for p in persons],
            "actions": acts,
            "early_removal_applications": apps,
            "process": live.model_dump(mode="json") if live else None,
        }

    async def identities(self, principal: Principal, listing_id: str) -> list[dict[str, Any]]:
        """Responsible persons in clear, for joint discipline; every read is audited."""
        await self.visible_listing(principal, listing_id)
        async with self._pool.connection() as conn, conn.transaction():
            rows = await store.persons(conn, listing_id)
            await audit.record(conn, principal, "listing.responsible_persons.read", listing_id,
                               fields=["name", "id_number"], detail={"count": len(rows)})
        return [{
            "role": r["role"],
            "name": self._cipher.open(r["name_sealed"], context=PERSON_NAME_CONTEXT),
            "id_number": self._cipher.open(r["id_number_sealed"], context=ID_NUMBER_CONTEXT) if r["id_number_sealed"] else None,
            "person_ref": r["person_ref"],
        } for r in rows]

    async def statement_texts(self, principal: Principal, listing_id: str) -> list[dict[str, Any]]:
        """The employer's statements in clear, for the review; sealed because they may name people, so every
        read is audited."""
        await self.visible_listing(principal, listing_id)
        async with self._pool.connection() as conn, conn.transaction():
            rows = await store.statements(conn, listing_id)
            await audit.record(conn, principal, "listing.statements.read", listing_id, fields=["text"],
                               detail={"count": len(rows)})
        return [{"statement_id": r["statement_id"], "text": self._cipher.open(r["text_sealed"], context=STATEMENT_CONTEXT),
                 "recorded_by": r["recorded_by"], "received_at": r["received_at"]} for r in rows]

    async def document(self, principal: Principal | None, document_id: str) -> dict[str, Any]:
        async with self._pool.connection() as conn:
            doc = await store.get_document(conn, document_id)
            if doc is None:
                raise NotFound("No such document", f"document {document_id} was not found")
            public = doc["kind"] in ("quarter_list_pdf", "quarter_list_html")
            if principal is None and not public:
                raise Unauthenticated("Authentication required", "this document is available to agencies only")
            if doc["listing_id"] and principal is not None:
                await self.visible_listing(principal, doc["listing_id"])
            content = bytes(doc["content"])
            if doc["sealed"] and (principal is None or principal.role not in domain.IDENTITY_ROLES):
                # A sealed document names the responsible persons in full: only who may read their identity.
                raise Forbidden("this document names responsible persons; it is open to the city office and the "
                                "credit system only")
            if doc["sealed"]:
                content = self._cipher.open_bytes(content, context=DOCUMENT_CONTEXT)
                async with conn.transaction():
                    await audit.record(conn, principal, "document.read", document_id, fields=["responsible_persons"])
        return {**doc, "content": content}

    def public_persons(self, rows: list[dict[str, Any]]) -> list[dict[str, str]]:
        mode = self._settings.public_person_names
        if mode == "none":
            return []
        return [{
            "role": domain.PERSON_ROLE_NAMES[PersonRole(r["role"])],
            "name": r["name_masked"] if mode == "masked" else self._cipher.open(r["name_sealed"], context=PERSON_NAME_CONTEXT),
        } for r in rows]

    # --- the quarterly publication ---------------------------------------------------------------------------

    async def publish_quarter(self, principal: Principal, list_id: str) -> dict[str, Any]:
        """The city office approves a drafted list: it is published (record, PDF, HTML, event)."""
        async with self._pool.connection() as conn, conn.transaction():
            draft = await store.get_list(conn, list_id, lock=True)
            if draft is None:
                raise NotFound("No such list", f"publication list {list_id} was not found")
            if draft["status"] == "published":
                return {**draft, "repeated": True}
            entries = draft["entries"]
            pdf = documents.render_list_pdf(self._settings.authority, draft["quarter"], entries)
            page = documents.render_list_html(self._settings.authority, draft["quarter"], entries)
            pdf_id, html_id = f"DOC-{list_id}-PDF", f"DOC-{list_id}-HTML"
            number = documents.list_title(self._settings.authority, draft["quarter"])
            await store.insert_document(conn, document_id=pdf_id, kind="quarter_list_pdf", number=number,
                                        media_type="application/pdf", content=pdf, digest=documents.sha256(pdf),
                                        list_id=list_id)
            await store.insert_document(conn, document_id=html_id, kind="quarter_list_html", number=number,
                                        media_type="text/html; charset=utf-8", content=page,
                                        digest=documents.sha256(page), list_id=list_id)
            now = datetime.now(UTC)
            await store.publish_list(conn, list_id, principal.client_id, pdf_id, html_id, now)
            await audit.record(conn, principal, "publication_list.approve", list_id, detail={"entries": len(entries)})
            await store.emit(conn, list_id, QuarterListPublished(
                list_id=list_id, quarter=draft["quarter"], entries=len(entries), approved_by=principal.client_id,
                published_at=now, pdf_document_id=pdf_id, html_document_id=html_id,
            ))
            published = await store.get_list(conn, list_id)
        assert published is not None
        return published


def valid_id_number(value: str) -> str:
    number = value.strip().upper()
    if not ric.is_valid(number):
        raise ValueError("not a valid resident ID number (居民身份证号码)")
    return number
