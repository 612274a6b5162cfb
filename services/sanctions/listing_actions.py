"""The agencies' actions on a listing (responsible persons, statements and their review, early removal),
checked by the live blacklist process (a Temporal Update with a validator) and recorded with their event in
one transaction; and what the agencies read of a listing (its view, identities, statements, documents)."""

from __future__ import annotations

from typing import Any

from services.common import audit
from services.common.auth import Principal
from services.common.crypto import keyed_reference
from services.common.errors import Forbidden, NotFound, Refused, Unauthenticated
from services.contracts.sanctions_events import (
    EarlyRemovalApplied,
    EarlyRemovalDecided,
    ResponsiblePersonsRecorded,
    StatementRecorded,
    StatementReviewed,
)
from services.contracts.sanctions_workflows import (
    EarlyRemovalApplication,
    EarlyRemovalDecision,
    ListingUpdates,
    PersonRole,
    StatementRecord,
    StatementReview,
)
from services.sanctions import domain, listing_actions_store, store
from services.sanctions.activity_base import DOCUMENT_CONTEXT, PERSON_NAME_CONTEXT
from services.sanctions.command_base import (
    BEFORE_DECISION,
    ID_NUMBER_CONTEXT,
    LIVE_STAGES,
    STATEMENT_CONTEXT,
    SanctionsBase,
    new_id,
)


class ListingActions(SanctionsBase):
    async def record_persons(
        self, principal: Principal, listing_id: str, persons: list[dict[str, Any]], key: str | None
    ) -> dict[str, Any]:
        if (repeated := await self._repeated(principal, key)) is not None:
            return repeated
        listing = await self.visible_listing(principal, listing_id)
        if listing["stage"] not in BEFORE_DECISION:
            raise Refused(
                "The decision has been made",
                f"responsible persons are recorded before the decision; listing {listing_id} is {listing['stage']}",
            )
        sealed = []
        for person in persons:
            name, id_number = person["name"].strip(), person.get("id_number")
            identity = id_number or f"{name}|{listing['employer_ref']}"
            sealed.append(
                {
                    "role": PersonRole(person["role"]).value,
                    "name_sealed": self._cipher.seal(name, context=PERSON_NAME_CONTEXT),
                    "id_number_sealed": self._cipher.seal(id_number, context=ID_NUMBER_CONTEXT) if id_number else None,
                    "name_masked": domain.mask_name(name),
                    "person_ref": keyed_reference(identity, self._reference_key, prefix="person"),
                }
            )
        action_id = new_id("A")
        response = {
            "action_id": action_id,
            "listing_id": listing_id,
            "kind": "responsible_persons",
            "persons": [
                {"role": p["role"], "name_masked": p["name_masked"], "person_ref": p["person_ref"]} for p in sealed
            ],
        }

        async def write(conn: store.Conn) -> None:
            await listing_actions_store.replace_persons(conn, listing_id, sealed, principal.client_id)

        return await self._record(
            principal,
            listing,
            "responsible_persons",
            key,
            {"count": len(sealed), "fields": ["name", "id_number"]},
            response,
            ResponsiblePersonsRecorded(
                listing_id=listing_id, case_id=listing["case_id"], count=len(sealed), recorded_by=principal.client_id
            ),
            extra=write,
        )

    async def record_statement(
        self, principal: Principal, listing_id: str, text: str, key: str | None
    ) -> dict[str, Any]:
        if (repeated := await self._repeated(principal, key)) is not None:
            return repeated
        listing = await self.visible_listing(principal, listing_id)
        statement_id = new_id("ST")
        status = await self._update(
            listing_id,
            ListingUpdates.RECORD_STATEMENT,
            StatementRecord(statement_id=statement_id, recorded_by=principal.client_id),
            key or statement_id,
        )
        response = {
            "action_id": statement_id,
            "listing_id": listing_id,
            "kind": "statement",
            "statement_id": statement_id,
            "stage": status.stage.value,
            "defence_due_date": str(status.defence_due_date),
        }

        async def write(conn: store.Conn) -> None:
            await listing_actions_store.insert_statement(
                conn, statement_id, listing_id, self._cipher.seal(text, context=STATEMENT_CONTEXT), principal.client_id
            )

        return await self._record(
            principal,
            listing,
            "statement",
            key,
            {"statement_id": statement_id},
            response,
            StatementRecorded(
                listing_id=listing_id,
                case_id=listing["case_id"],
                statement_id=statement_id,
                recorded_by=principal.client_id,
            ),
            extra=write,
        )

    async def review_statement(
        self, principal: Principal, listing_id: str, list_employer: bool, reason: str, key: str | None
    ) -> dict[str, Any]:
        if (repeated := await self._repeated(principal, key)) is not None:
            return repeated
        listing = await self.visible_listing(principal, listing_id)
        review_id = new_id("RV")
        status = await self._update(
            listing_id,
            ListingUpdates.REVIEW_STATEMENT,
            StatementReview(
                review_id=review_id, decided_by=principal.client_id, list_employer=list_employer, reason=reason
            ),
            key or review_id,
        )
        response = {
            "action_id": review_id,
            "listing_id": listing_id,
            "kind": "review",
            "list_employer": list_employer,
            "stage": status.stage.value,
        }
        return await self._record(
            principal,
            listing,
            "review",
            key,
            {"list_employer": list_employer},
            response,
            StatementReviewed(
                listing_id=listing_id,
                case_id=listing["case_id"],
                review_id=review_id,
                decided_by=principal.client_id,
                list_employer=list_employer,
            ),
        )

    async def apply_for_early_removal(
        self, principal: Principal, listing_id: str, pledge_ref: str, payment_proof_ref: str, key: str | None
    ) -> dict[str, Any]:
        if (repeated := await self._repeated(principal, key)) is not None:
            return repeated
        listing = await self.visible_listing(principal, listing_id)
        application_id = new_id("ER")
        application = EarlyRemovalApplication(
            application_id=application_id,
            recorded_by=principal.client_id,
            pledge_ref=pledge_ref,
            payment_proof_ref=payment_proof_ref,
        )
        refusal: Refused | None = None
        try:
            await self._update(listing_id, ListingUpdates.APPLY_FOR_EARLY_REMOVAL, application, key or application_id)
        except Refused as refused:
            refusal = refused
        reasons = [refusal.detail or refusal.title] if refusal else []
        response = {
            "action_id": application_id,
            "listing_id": listing_id,
            "kind": "early_removal_application",
            "application_id": application_id,
            "accepted": refusal is None,
            "refusal_reasons": reasons,
        }

        async def write(conn: store.Conn) -> None:
            await listing_actions_store.insert_application(
                conn,
                application_id=application_id,
                listing_id=listing_id,
                status="refused" if refusal else "pending",
                pledge_ref=pledge_ref,
                payment_proof_ref=payment_proof_ref,
                refusal_reasons=reasons,
                recorded_by=principal.client_id,
            )

        # A refused application is recorded too (who applied, when, why it could not be accepted).
        recorded = await self._record(
            principal,
            listing,
            "early_removal_application",
            key if refusal is None else None,
            {"application_id": application_id, "accepted": refusal is None},
            response,
            EarlyRemovalApplied(
                listing_id=listing_id,
                case_id=listing["case_id"],
                application_id=application_id,
                accepted=refusal is None,
                refusal_reasons=reasons,
            ),
            extra=write,
        )
        if refusal is not None:
            refusal.members["application_id"] = application_id
            raise refusal
        return recorded

    async def decide_early_removal(
        self, principal: Principal, listing_id: str, application_id: str, grant: bool, reason: str, key: str | None
    ) -> dict[str, Any]:
        if (repeated := await self._repeated(principal, key)) is not None:
            return repeated
        listing = await self.visible_listing(principal, listing_id)
        async with self._pool.connection() as conn:
            application = await listing_actions_store.get_application(conn, application_id)
        if application is None or application["listing_id"] != listing_id:
            raise NotFound("No such application", f"application {application_id} is not one of listing {listing_id}")
        status = await self._update(
            listing_id,
            ListingUpdates.DECIDE_EARLY_REMOVAL,
            EarlyRemovalDecision(
                application_id=application_id, decided_by=principal.client_id, grant=grant, reason=reason
            ),
            key or new_id("DR"),
        )
        response = {
            "action_id": new_id("A"),
            "listing_id": listing_id,
            "kind": "early_removal_decision",
            "application_id": application_id,
            "granted": grant,
            "stage": status.stage.value,
        }

        async def write(conn: store.Conn) -> None:
            await listing_actions_store.decide_application(
                conn, application_id, "granted" if grant else "rejected", principal.client_id, reason
            )

        return await self._record(
            principal,
            listing,
            "early_removal_decision",
            key,
            {"application_id": application_id, "granted": grant},
            response,
            EarlyRemovalDecided(
                listing_id=listing_id,
                case_id=listing["case_id"],
                application_id=application_id,
                granted=grant,
                decided_by=principal.client_id,
            ),
            extra=write,
        )

    # --- reads ---------------------------------------------------------------------------------------------

    async def listing_view(self, principal: Principal, listing_id: str) -> dict[str, Any]:
        listing = await self.visible_listing(principal, listing_id)
        async with self._pool.connection() as conn:
            persons = await listing_actions_store.persons(conn, listing_id)
            acts = await listing_actions_store.actions(conn, listing_id)
            apps = await listing_actions_store.applications(conn, listing_id)
            facts = await store.case_facts(conn, listing["case_id"])
        live = await self.status(listing_id) if listing["stage"] in LIVE_STAGES else None
        return {
            **listing,
            "project_name": (facts or {}).get("project_name"),
            "responsible_persons": [
                {"role": p["role"], "name_masked": p["name_masked"], "person_ref": p["person_ref"]} for p in persons
            ],
            "actions": acts,
            "early_removal_applications": apps,
            "process": live.model_dump(mode="json") if live else None,
        }

    async def identities(self, principal: Principal, listing_id: str) -> list[dict[str, Any]]:
        """Responsible persons in clear, for joint discipline; every read is audited."""
        await self.visible_listing(principal, listing_id)
        async with self._pool.connection() as conn, conn.transaction():
            rows = await listing_actions_store.persons(conn, listing_id)
            await audit.record(
                conn,
                principal,
                "listing.responsible_persons.read",
                listing_id,
                fields=["name", "id_number"],
                detail={"count": len(rows)},
            )
        return [
            {
                "role": r["role"],
                "name": self._cipher.open(r["name_sealed"], context=PERSON_NAME_CONTEXT),
                "id_number": self._cipher.open(r["id_number_sealed"], context=ID_NUMBER_CONTEXT)
                if r["id_number_sealed"]
                else None,
                "person_ref": r["person_ref"],
            }
            for r in rows
        ]

    async def statement_texts(self, principal: Principal, listing_id: str) -> list[dict[str, Any]]:
        """The employer's statements in clear, for the review; sealed because they may name people, so every
        read is audited."""
        await self.visible_listing(principal, listing_id)
        async with self._pool.connection() as conn, conn.transaction():
            rows = await listing_actions_store.statements(conn, listing_id)
            await audit.record(
                conn, principal, "listing.statements.read", listing_id, fields=["text"], detail={"count": len(rows)}
            )
        return [
            {
                "statement_id": r["statement_id"],
                "text": self._cipher.open(r["text_sealed"], context=STATEMENT_CONTEXT),
                "recorded_by": r["recorded_by"],
                "received_at": r["received_at"],
            }
            for r in rows
        ]

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
                raise Forbidden(
                    "this document names responsible persons; it is open to the city office and the credit system only"
                )
            if doc["sealed"]:
                content = self._cipher.open_bytes(content, context=DOCUMENT_CONTEXT)
                async with conn.transaction():
                    await audit.record(conn, principal, "document.read", document_id, fields=["responsible_persons"])
        return {**doc, "content": content}

    def public_persons(self, rows: list[dict[str, Any]]) -> list[dict[str, str]]:
        mode = self._settings.public_person_names
        if mode == "none":
            return []
        return [
            {
                "role": domain.PERSON_ROLE_NAMES[PersonRole(r["role"])],
                "name": r["name_masked"]
                if mode == "masked"
                else self._cipher.open(r["name_sealed"], context=PERSON_NAME_CONTEXT),
            }
            for r in rows
        ]
