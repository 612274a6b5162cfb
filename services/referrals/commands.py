"""The referrals service's commands: letters, handoffs, referrals and the agencies' answers.

The lifecycle's requests (letters, referrals, withdrawals) are recorded once per Idempotency-Key: a
per-key advisory lock serialises retries, the stored record is returned to a repeat, and a letter takes its
document number in the transaction that stores it. Agencies' answers that change the process (a
department's response or return, the police's decision) go to the case workflow first as a Temporal
Update with a validator — refused there, nothing is recorded — and are then stored with their event.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel
from temporalio.client import Client

from services.common import audit
from services.common.auth import Principal, Role
from services.common.commands import KeyedRecords, in_scope, request_hash, same_key
from services.common.errors import (
    Conflict,
    Forbidden,
    Incomplete,
    Invalid,
    NotFound,
    Refused,
    Unavailable,
)
from services.common.process_gateway import ProcessGateway, Wording
from services.contracts.events import EventEnvelope
from services.contracts.lifecycle import (
    CalendarConfig,
    DayUnit,
    HandoffResponse,
    HandoffReturn,
    LetterRequest,
    PoliceDecision,
    PoliceDecisionRecord,
    Queries,
    ReferralRequest,
    ReferralSupplementRequest,
    Updates,
    WithdrawReferralRequest,
    case_workflow_id,
)
from services.contracts.referrals_events import (
    DIRECTORY_SUBJECT,
    DeclineReason,
    HandoffAcknowledged,
    HandoffEscalated,
    HandoffOutcome,
    HandoffResponded,
    HandoffReturned,
    HandoffSent,
    HandoffStatus,
    LetterIssued,
    LetterKind,
    ReferralDecided,
    ReferralDecision,
    ReferralEscalated,
    ReferralKind,
    ReferralMade,
    ReferralsEvent,
    ReferralSupplemented,
    ReferralWithdrawn,
    ReturnReason,
)
from services.contracts.working_days import WorkingCalendar
from services.referrals import domain, store
from services.referrals.departments import Department, DepartmentsConfig
from services.referrals.follow_up import ANSWER, AWARD
from services.referrals.letters import compose, render_pdf, sha256

log = logging.getLogger(__name__)

PRODUCER = "referrals"
# The case workflow takes the agencies' answers; refused there, nothing is recorded.
CASE_PROCESS = Wording(
    refused="The case process refused the answer",
    late=("The case process did not answer in time", "{workflow_id} did not answer within {seconds}s; try again"),
    finished=("The case process is not running", "{workflow_id} is not running (finished or never started): "
              "the answer cannot be taken into account"),
    missing=None,
)


def _event(case_id: str, payload: ReferralsEvent, at: datetime) -> EventEnvelope:
    return EventEnvelope.wrap(payload, subject=case_id, producer=PRODUCER, occurred_at=at)


def _facts_missing(case_id: str) -> Unavailable:
    # Retryable on purpose: the case's complaint.submitted event is on its way through Kafka; the lifecycle
    # activity retries and the letter is issued, with the right facts, once it has arrived.
    return Unavailable("Case facts not known yet",
                       f"the referrals service has not yet received the complaints of case {case_id}; retry shortly")


def _handoff_changed() -> Conflict:
    return Conflict("The handoff changed", "the handoff was answered meanwhile; read it again")



async def _referral_of_case(conn: store.Conn, referral_id: str, case_id: str) -> dict[str, Any]:
    """The referral, locked for the change about to be made, when it is the case's; otherwise `NotFound`."""
    row = await store.get_referral(conn, referral_id, for_update=True)
    if row is None or row["case_id"] != case_id:
        raise NotFound("No such referral", f"referral {referral_id} of case {case_id} was not found")
    return row

class Referrals:
    """The service's commands; one instance per API process."""

    def __init__(self, pool: AsyncConnectionPool, client: Client | None, departments: DepartmentsConfig,
                 font: Path, calendar: Callable[[], CalendarConfig] | None = None) -> None:
        self._pool = pool
        self._process = (ProcessGateway(client, status_query=Queries.STATUS, wording=CASE_PROCESS)
                         if client is not None else None)
        self._letters = KeyedRecords(store.letter_by_key, answer=lambda row: {"id": row["letter_id"]},
                                     kind="letter", lock=store.lock_key)
        self._referrals = KeyedRecords(store.referral_by_key, answer=lambda row: {"id": row["referral_id"]},
                                       kind="referral", lock=store.lock_key)
        self._requests = KeyedRecords(store.remembered, answer=lambda row: dict(row["response"]),
                                      lock=store.lock_key)
        self.departments = departments
        self._font = font
        # The official calendar entries as the configuration says now (a year may be loaded meanwhile).
        self._calendar = calendar or CalendarConfig

    async def publish_directory(self) -> bool:
        """Publish the department directory unless this very configuration was published before (its event id
        is derived from its hash, so restarts and concurrent API processes publish it once)."""
        directory = self.departments.directory()
        event = EventEnvelope.wrap(
            directory, subject=DIRECTORY_SUBJECT, producer=PRODUCER,
            event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"anxin:referrals:departments:{directory.config_sha256}"),
        )
        async with self._pool.connection() as conn, conn.transaction():
            await store.lock_key(conn, "departments.configured")
            if await store.event_exists(conn, event.event_id):
                return False
            await store.publish(conn, event)
        log.info("department directory published", extra={"config_sha256": directory.config_sha256})
        return True

    def _department(self, department_id: str) -> Department:
        department = self.departments.get(department_id)
        if department is None:
            known = ", ".join(d.id for d in self.departments.departments)
            raise Invalid("Unknown department", f"department {department_id!r} is not configured (known: {known})")
        return department

    async def _tell_case(self, case_id: str, update: str, answer: BaseModel, *, update_id: str) -> None:
        """An agency's answer to the live case process, as an Update; refused there, nothing is recorded."""
        if self._process is None:
            raise Unavailable("The process engine is unavailable", "no Temporal client", retry_after=None)
        await self._process.update(case_workflow_id(case_id), update, answer, update_id=update_id)

    # --- case facts ---------------------------------------------------------------------------------------

    async def case_facts(self, principal: Principal, *, case_id: str | None,
                         complaint_id: str | None) -> dict[str, Any]:
        async with self._pool.connection() as conn:
            if case_id is None and complaint_id is not None:
                case_id = await store.case_of_complaint(conn, complaint_id)
            facts = await store.case_facts(conn, case_id) if case_id else None
        if facts is None or not (principal.role in domain.CITY_READERS or (
                principal.role in domain.COUNTY_READERS and principal.may_see_county(facts["county"]))):
            raise NotFound("No such case", "the case is not known here (yet) or not in your scope")
        return facts

    # --- letters ------------------------------------------------------------------------------------------

    async def issue_letter(self, key: str, request: LetterRequest) -> tuple[dict[str, Any], bool]:
        """A handoff letter (with its handoff) or a ladder rung (with its letter and record), once per key."""
        same_key(key, request)
        department = self._department(request.department)
        kind = LetterKind(request.kind)
        fingerprint = request_hash(request)

        async def create(conn: store.Conn) -> dict[str, Any]:
            facts = await store.case_facts(conn, request.case_id)
            if facts is None:
                raise _facts_missing(request.case_id)
            now = datetime.now(UTC)
            due_date, due_at = self._due(request, department, now)
            if kind is LetterKind.HANDOFF:
                handoff_id = domain.record_id("HO", key)
                letter = await self._new_letter(
                    conn, kind, key, fingerprint, facts, department, now, due_date, due_at,
                    county=request.county, handoff={"handoff_id": handoff_id}, previous=[],
                )
                await store.insert_handoff(conn, handoff_id=handoff_id, case_id=request.case_id,
                                           county=request.county, department=department.id,
                                           letter_id=letter["letter_id"], due_date=due_date, due_at=due_at, at=now)
                await store.publish(conn, _event(request.case_id, HandoffSent(
                    handoff_id=handoff_id, case_id=request.case_id, county=request.county,
                    department=department.id, letter_id=letter["letter_id"], due_date=due_date, due_at=due_at,
                ), now))
                return {"id": letter["letter_id"]}

            handoff = await store.latest_handoff(conn, request.case_id, department.id)
            if handoff is None:
                raise Refused("No handoff to escalate",
                              f"case {request.case_id} has no handoff to {department.id}: a {kind.value} letter "
                              "follows a handoff letter")
            previous = await store.letters_of(conn, handoff_id=handoff["handoff_id"])
            letter = await self._new_letter(conn, kind, key, fingerprint, facts, department, now, due_date,
                                            due_at, county=request.county, handoff=handoff, previous=previous)
            companions = []
            for companion in domain.COMPANIONS.get(kind, []):
                extra = await self._new_letter(
                    conn, companion, f"{key}#{companion.value}", fingerprint, facts, department, now, due_date,
                    due_at, county=request.county, handoff=handoff, previous=previous,
                )
                companions.append(extra["letter_id"])
            await store.set_ladder_level(conn, handoff["handoff_id"], kind.value)
            await store.publish(conn, _event(request.case_id, HandoffEscalated(
                handoff_id=handoff["handoff_id"], case_id=request.case_id, county=request.county,
                department=department.id, kind=kind, letter_id=letter["letter_id"],
                companion_letter_ids=companions, due_date=due_date,
            ), now))
            return {"id": letter["letter_id"]}

        async with self._pool.connection() as conn:
            return await self._letters.once(conn, key, fingerprint, create)

    def _due(self, request: LetterRequest, department: Department, now: datetime) -> tuple[date, datetime]:
        if request.response_due_date is not None:
            due_at = request.response_due_at or datetime.combine(
                request.response_due_date + timedelta(days=1), datetime.min.time(), domain.CHINA_TZ)
            return request.response_due_date, due_at
        rung = department.rung(request.kind)
        if rung is not None:
            return domain.working_days_due(now, rung.wait_working_days, self._calendar())
        days, unit = department.response_period()
        return domain.period_due(now, days, unit, self._calendar())

    async def _new_letter(
        self,
        conn: store.Conn,
        kind: LetterKind,
        key: str,
        request_hash: str,
        facts: dict[str, Any],
        department: Department,
        now: datetime,
        due_date: date | None,
        due_at: datetime | None,
        *,
        county: str,
        handoff: dict[str, Any] | None = None,
        previous: list[dict[str, Any]] | None = None,
        referral_id: str | None = None,
        extra_facts: dict[str, Any] | None = None,
        evidence: list[tuple[str, str]] | None = None,
        template_name: str | None = None,
        issuer: str | None = None,
    ) -> dict[str, Any]:
        bureau = self.departments.bureau
        year = domain.china_date(now).year
        number = await store.next_document_number(conn, kind.value, year)
        number_text = domain.document_number(bureau.prefixes[kind], year, number)
        letter_id = domain.record_id("LTR", key)
        template_facts = self._template_facts(facts, department, due_date, handoff, previous or [])
        template_facts.update(extra_facts or {})
        rows = self._rows(facts, department, due_date, template_facts, handoff)
        rung = department.rung(kind)
        copy_to = [bureau.escalation[k] for k in (rung.copy_to if rung else [])]
        printed_addressee = department.name
        if kind in (LetterKind.ISSUE_TRANSFER, LetterKind.ACCOUNTABILITY_TRANSFER):
            printed_addressee = bureau.escalation.get("discipline", department.name)
        if issuer is None:
            handoff_letters = (*domain.LADDER, LetterKind.HANDOFF, LetterKind.ISSUE_TRANSFER)
            issuer = bureau.office if kind in handoff_letters else bureau.name
        contact = f"联系单位：{bureau.office}    投诉举报电话：12333"
        content = compose(kind, facts=template_facts, issuer=issuer, document_number=number_text,
                          addressee=printed_addressee, issued_at=now, rows=rows, evidence=evidence,
                          contact=contact, copy_to=copy_to, reference=letter_id, template_name=template_name)
        pdf = await asyncio.to_thread(render_pdf, content, self._font)
        digest = sha256(pdf)
        row = {
            "letter_id": letter_id, "idempotency_key": key, "request_hash": request_hash, "kind": kind.value,
            "year": year, "number": number, "document_number": number_text, "case_id": facts["case_id"],
            "county": county, "addressee": department.id,
            "handoff_id": handoff["handoff_id"] if handoff else None, "referral_id": referral_id,
            "issued_at": now, "response_due_date": due_date, "response_due_at": due_at,
            "facts": {"title": content.title, "rows": rows, "paragraphs": content.paragraphs,
                      "copy_to": copy_to, "evidence": evidence or []},
            "pdf": pdf, "sha256": digest, "size_bytes": len(pdf),
        }
        await store.insert_letter(conn, row)
        await store.publish(conn, _event(facts["case_id"], LetterIssued(
            letter_id=letter_id, document_number=number_text, kind=kind, case_id=facts["case_id"], county=county,
            addressee=department.id, handoff_id=row["handoff_id"], referral_id=referral_id, issued_at=now,
            response_due_date=due_date, sha256=digest, size_bytes=len(pdf),
        ), now))
        return row

    def _template_facts(self, facts: dict[str, Any], department: Department, due_date: date | None,
                        handoff: dict[str, Any] | None, previous: list[dict[str, Any]]) -> dict[str, Any]:
        amount = facts["confirmed_amount"] if facts["confirmed_amount"] is not None else facts["amount_claimed"]
        workers = facts["confirmed_workers"] or facts["workers_claimed"]
        values: dict[str, Any] = {
            "case_id": facts["case_id"],
            "employer_name": facts["employer_name"],
            "project_name": facts["project_name"],
            "credit_code": facts["employer_credit_code"] or "未登记",
            "county_name": self.departments.bureau.county_name(facts["county"]),
            "workers": workers,
            "amount": domain.money_text(amount),
            "complaints": facts["complaints"],
            "outcome_text": domain.VERIFICATION_TEXT.get(facts["outcome"] or "", "非欠薪类纠纷"),
            "due_date_text": domain.date_text(due_date),
            "department_name": department.name,
        }
        handoff_letter = next((p for p in previous if p["kind"] == LetterKind.HANDOFF.value), None)
        if handoff_letter is not None:
            values["handoff_number"] = handoff_letter["document_number"]
            values["handoff_date_text"] = domain.date_text(domain.china_date(handoff_letter["issued_at"]))
            values["handoff_due_text"] = domain.date_text(handoff_letter["response_due_date"])
        rungs = [p for p in previous if p["kind"] in {k.value for k in domain.LADDER}]
        if rungs:
            done = "、".join(f"{domain.LETTER_NAMES[LetterKind(p['kind'])]}（{p['document_number']}）" for p in rungs)
            values["previous_text"] = f"其间我办已发出{done}"
        else:
            values["previous_text"] = "逾期未反馈"
        return values

    def _rows(self, facts: dict[str, Any], department: Department, due_date: date | None,
              values: dict[str, Any], handoff: dict[str, Any] | None) -> list[tuple[str, str]]:
        rows = [
            ("案件编号", facts["case_id"]),
            ("用人单位", facts["employer_name"]),
            ("统一社会信用代码", values["credit_code"]),
            ("项目名称", facts["project_name"]),
            ("所在县区", values["county_name"]),
            ("涉及人数", f"{values['workers']}人"),
            ("涉及金额", f"{values['amount']}元"),
            ("投诉件数", f"{values['complaints']}件"),
        ]
        if "handoff_number" in values:
            rows.append(("交办函文号", values["handoff_number"]))
        rows.append(("承办单位", department.name))
        rows.append(("反馈期限", domain.date_text(due_date)))
        return [(label, str(value)) for label, value in rows]

    async def letter(self, principal: Principal, letter_id: str) -> dict[str, Any]:
        return await in_scope(self._pool, store.get_letter, letter_id, "letter",
                              lambda row: self._may_see_letter(principal, row))

    async def letter_pdf(self, principal: Principal, letter_id: str) -> tuple[dict[str, Any], bytes]:
        row = await self.letter(principal, letter_id)
        async with self._pool.connection() as conn:
            pdf = await store.letter_pdf(conn, letter_id)
        assert pdf is not None
        return row, pdf

    async def letters(self, principal: Principal, *, case_id: str | None, handoff_id: str | None,
                      referral_id: str | None, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the letters named, those the caller may read (a page may hold fewer than `limit`)."""
        if case_id is None and handoff_id is None and referral_id is None:
            raise Incomplete("Filter required", "name a case_id, handoff_id or referral_id")
        async with self._pool.connection() as conn:
            rows, next_cursor = await store.page_letters(conn, case_id=case_id, handoff_id=handoff_id,
                                                         referral_id=referral_id, limit=limit, cursor=cursor)
        return [r for r in rows if self._may_see_letter(principal, r)], next_cursor

    def _may_see_letter(self, principal: Principal, row: dict[str, Any]) -> bool:
        department = self.departments.get(row["addressee"])
        kind = department.kind.value if department else row["addressee"]
        return domain.may_see_letter(principal, row["addressee"], kind, row["county"])

    # --- handoffs -----------------------------------------------------------------------------------------

    async def handoffs(self, principal: Principal, *, status: str | None, case_id: str | None,
                       limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        department = county = None
        if principal.role is Role.department:
            department = principal.department or "-"
        elif principal.role in domain.COUNTY_READERS:
            county = principal.county
        elif principal.role not in domain.CITY_READERS:
            raise Forbidden(f"the role {principal.role.value} has no handoffs")
        async with self._pool.connection() as conn:
            return await store.list_handoffs(conn, department=department, county=county, status=status,
                                             case_id=case_id, limit=limit, cursor=cursor)

    async def handoff(self, principal: Principal, handoff_id: str) -> dict[str, Any]:
        row = await in_scope(self._pool, store.get_handoff, handoff_id, "handoff",
                             lambda row: domain.may_see_handoff(principal, row["department"], row["county"]))
        return await self._with_letters(row, handoff_id=handoff_id)

    async def _with_letters(self, row: dict[str, Any], **of: str) -> dict[str, Any]:
        async with self._pool.connection() as conn:
            row["letters"] = await store.letters_of(conn, **of)
        return row

    async def _answerable(self, principal: Principal, handoff_id: str) -> dict[str, Any]:
        row = await self.handoff(principal, handoff_id)
        if not domain.may_answer_handoff(principal, row["department"]):
            raise Forbidden("only the department the case was handed off to answers it")
        return row

    async def acknowledge(self, principal: Principal, handoff_id: str) -> dict[str, Any]:
        row = await self._answerable(principal, handoff_id)
        domain.check_acknowledge(HandoffStatus(row["status"]))
        now = datetime.now(UTC)
        async with self._pool.connection() as conn, conn.transaction():
            if not await store.acknowledge_handoff(conn, handoff_id, principal.client_id, now):
                raise _handoff_changed()
            await store.publish(conn, _event(row["case_id"], HandoffAcknowledged(
                handoff_id=handoff_id, case_id=row["case_id"], county=row["county"], department=row["department"],
                acknowledged_by=principal.client_id,
            ), now))
            await audit.record(conn, principal, "handoff.acknowledge", handoff_id)
        return await self.handoff(principal, handoff_id)

    async def respond(self, principal: Principal, handoff_id: str, outcome: HandoffOutcome, summary: str,
                      files: list[dict[str, str]]) -> dict[str, Any]:
        row = await self._answerable(principal, handoff_id)
        domain.check_answer(HandoffStatus(row["status"]))
        decoded = [self._decode_file(f) for f in files]
        await self._tell_case(
            row["case_id"], Updates.RECORD_HANDOFF_RESPONSE,
            HandoffResponse(department=row["department"], summary=domain.workflow_summary_of_response(outcome, summary),
                            responded_by=principal.client_id),
            update_id=f"{handoff_id}:answer",
        )
        now = datetime.now(UTC)
        async with self._pool.connection() as conn, conn.transaction():
            stored: list[dict[str, Any]] = []
            for name, media_type, content in decoded:
                digest = sha256(content)
                file_id = f"F-{digest[:16].upper()}"
                if file_id not in {s["file_id"] for s in stored}:
                    await store.insert_handoff_file(conn, file_id=file_id, handoff_id=handoff_id, name=name,
                                                    media_type=media_type, sha256=digest, content=content)
                    stored.append({"file_id": file_id, "name": name, "media_type": media_type, "sha256": digest,
                                   "size_bytes": len(content)})
            if not await store.respond_handoff(conn, handoff_id, by=principal.client_id, at=now,
                                               outcome=outcome.value, summary=summary, files=stored):
                raise _handoff_changed()
            await store.publish(conn, _event(row["case_id"], HandoffResponded(
                handoff_id=handoff_id, case_id=row["case_id"], county=row["county"], department=row["department"],
                outcome=outcome, files_count=len(stored), responded_by=principal.client_id,
                late=domain.is_late(now, row["due_at"]),
            ), now))
            await audit.record(conn, principal, "handoff.respond", handoff_id, detail={"outcome": outcome.value})
        return await self.handoff(principal, handoff_id)

    async def return_handoff(self, principal: Principal, handoff_id: str, reason: ReturnReason,
                             explanation: str) -> dict[str, Any]:
        row = await self._answerable(principal, handoff_id)
        domain.check_answer(HandoffStatus(row["status"]))
        # The case goes back to verification: the inspector decides anew (another department, or a wage case).
        await self._tell_case(
            row["case_id"], Updates.RECORD_HANDOFF_RETURN,
            HandoffReturn(department=row["department"], reason=domain.workflow_reason_of_return(reason, explanation),
                          returned_by=principal.client_id),
            update_id=f"{handoff_id}:answer",
        )
        now = datetime.now(UTC)
        async with self._pool.connection() as conn, conn.transaction():
            if not await store.return_handoff(conn, handoff_id, by=principal.client_id, at=now, reason=reason.value,
                                              explanation=explanation):
                raise _handoff_changed()
            await store.publish(conn, _event(row["case_id"], HandoffReturned(
                handoff_id=handoff_id, case_id=row["case_id"], county=row["county"], department=row["department"],
                reason=reason, returned_by=principal.client_id,
            ), now))
            await audit.record(conn, principal, "handoff.return", handoff_id, detail={"reason": reason.value})
        return await self.handoff(principal, handoff_id)

    async def handoff_file(self, principal: Principal, handoff_id: str, file_id: str) -> dict[str, Any]:
        await self.handoff(principal, handoff_id)
        async with self._pool.connection() as conn:
            row = await store.handoff_file(conn, handoff_id, file_id)
        if row is None:
            raise NotFound("No such file", f"file {file_id} is not attached to handoff {handoff_id}")
        return row

    @staticmethod
    def _decode_file(item: dict[str, str]) -> tuple[str, str, bytes]:
        try:
            content = base64.b64decode(item["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise Invalid("The request is not valid", f"file {item['name']!r}: content_base64 is not base64") from None
        if not content:
            raise Invalid("The request is not valid", f"file {item['name']!r} is empty")
        return item["name"], item.get("media_type") or "application/octet-stream", content

    # --- referrals ----------------------------------------------------------------------------------------

    async def make_referral(self, key: str, request: ReferralRequest) -> tuple[dict[str, Any], bool]:
        """A referral from the case workflow (police, procuratorate, arbitration), once per key."""
        same_key(key, request)
        return await self._referral(
            key, request_hash(request), kind=ReferralKind(request.target), case_id=request.case_id,
            county=request.county, employer_ref=request.employer_ref, unpaid_amount=request.unpaid_amount,
            workers=request.workers, basis=request.basis, created_by="lifecycle",
        )

    async def make_agency_referral(self, principal: Principal, key: str, kind: ReferralKind, case_id: str,
                                   basis: str, fingerprint: str) -> tuple[dict[str, Any], bool]:
        """A fast-track referral an inspector makes (legal aid's green channel, arbitration's fast track)."""
        async with self._pool.connection() as conn:
            facts = await store.case_facts(conn, case_id)
        if facts is None or not principal.may_see_county(facts["county"]):
            raise NotFound("No such case", f"case {case_id} is not known in your scope")
        amount = facts["confirmed_amount"] if facts["confirmed_amount"] is not None else facts["amount_claimed"]
        unpaid = max(amount - facts["amount_paid"], 0)
        result = await self._referral(
            key, fingerprint, kind=kind, case_id=case_id, county=facts["county"], employer_ref=facts["employer_ref"],
            unpaid_amount=unpaid, workers=facts["confirmed_workers"] or facts["workers_claimed"], basis=basis,
            created_by=principal.client_id,
        )
        if result[1]:
            async with self._pool.connection() as conn, conn.transaction():
                await audit.record(conn, principal, f"referral.{kind.value}", result[0]["id"])
        return result

    async def _referral(self, key: str, fingerprint: str, *, kind: ReferralKind, case_id: str, county: str,
                        employer_ref: str, unpaid_amount: Any, workers: int, basis: str,
                        created_by: str) -> tuple[dict[str, Any], bool]:
        receiver = self.departments.receiver(kind)

        async def create(conn: store.Conn) -> dict[str, Any]:
            facts = await store.case_facts(conn, case_id)
            if facts is None:
                raise _facts_missing(case_id)
            now = datetime.now(UTC)
            days, unit = receiver.response_period()
            due_date, due_at = domain.period_due(now, days, unit, self._calendar())
            referral_id = domain.record_id("REF", key)
            related = None
            extra: dict[str, Any] = {"basis": basis, "unpaid_amount": domain.money_text(unpaid_amount)}
            if kind is ReferralKind.PROCURATORATE:
                police = await store.latest_referral(conn, case_id, ReferralKind.POLICE.value)
                if police is not None:
                    related = police["referral_id"]
                    police_letter = await store.get_letter(conn, police["letter_id"])
                    assert police_letter is not None
                    extra["police_referral_number"] = police_letter["document_number"]
                    extra["police_referral_date_text"] = domain.date_text(domain.china_date(police["created_at"]))
                else:
                    extra["police_referral_number"] = "（未移送）"
                    extra["police_referral_date_text"] = "（未移送）"
            package = self._package(facts, kind, unpaid_amount, workers, basis)
            extra.update(package["texts"])
            letter = await self._new_letter(
                conn, domain.REFERRAL_LETTER[kind], f"{key}#letter", fingerprint, facts, receiver, now, due_date,
                due_at, county=county, referral_id=referral_id, extra_facts=extra, evidence=package["evidence"],
            )
            await store.insert_referral(conn, {
                "referral_id": referral_id, "idempotency_key": key, "request_hash": fingerprint, "case_id": case_id,
                "county": county, "employer_ref": employer_ref, "target": kind.value, "unpaid_amount": unpaid_amount,
                "workers": workers, "basis": basis, "package": package["summary"], "letter_id": letter["letter_id"],
                "related_referral_id": related, "created_by": created_by, "created_at": now, "due_date": due_date,
                "due_at": due_at,
            })
            await store.publish(conn, _event(case_id, ReferralMade(
                referral_id=referral_id, case_id=case_id, county=county, employer_ref=employer_ref, target=kind,
                letter_id=letter["letter_id"], document_number=letter["document_number"], unpaid_amount=unpaid_amount,
                workers=workers, due_date=due_date, due_at=due_at, related_referral_id=related,
            ), now))
            return {"id": referral_id}

        async with self._pool.connection() as conn:
            return await self._referrals.once(conn, key, fingerprint, create)

    def _package(self, facts: dict[str, Any], kind: ReferralKind, unpaid: Any, workers: int,
                 basis: str) -> dict[str, Any]:
        """The referral package: case summary, workers and amounts, the order and its proof of service, the
        missed deadline and the evidence list (criminal referrals need them all)."""
        order_due = self._order_due(facts)
        served = (f"{domain.date_text(domain.china_date(facts['served_at']))}"
                  f"以{'直接送达' if facts['service_method'] == 'in_person' else '张贴送达'}方式送达"
                  if facts["served_at"] else "（送达记录待补）")
        evidence: list[tuple[str, str]] = [
            ("1  投诉材料", f"{facts['complaints']}件投诉，附证据{facts['evidence_count']}份"),
            ("2  限期改正指令书", facts["order_id"] or "（无）"),
        ]
        for i, item in enumerate(facts["service_evidence"] or [], start=3):
            evidence.append((f"{i}  送达证据（{item.get('kind', '')}）", str(item.get("ref", ""))))
        evidence.append((f"{len(evidence) + 1}  逾期未支付情况", f"限期届满日{domain.date_text(order_due)}，尚欠{domain.money_text(unpaid)}元"))
        summary = {
            "case_id": facts["case_id"], "employer_ref": facts["employer_ref"], "employer_name": facts["employer_name"],
            "employer_credit_code": facts["employer_credit_code"], "project_name": facts["project_name"],
            "county": facts["county"], "workers": workers, "unpaid_amount": str(unpaid),
            "amount_claimed": str(facts["amount_claimed"]), "complaints": facts["complaints"],
            "order": {"order_id": facts["order_id"], "issued_at": _iso(facts["order_issued_at"]),
                      "pay_days": facts["order_pay_days"], "pay_unit": facts["order_pay_unit"]},
            "service": {"method": facts["service_method"], "served_at": _iso(facts["served_at"]),
                        "evidence": facts["service_evidence"] or []},
            "missed_deadline": order_due.isoformat() if order_due else None,
            "basis": basis, "target": kind.value,
            "evidence": [{"item": a, "detail": b} for a, b in evidence],
        }
        texts = {
            "order_id": facts["order_id"] or "（无）",
            "order_date_text": domain.date_text(domain.china_date(facts["order_issued_at"]))
            if facts["order_issued_at"] else "（未记录）",
            "served_text": served,
        }
        return {"summary": summary, "evidence": evidence, "texts": texts}

    def _order_due(self, facts: dict[str, Any]) -> date | None:
        if not facts["served_at"] or not facts["order_pay_days"]:
            return None
        calendar = WorkingCalendar(self._calendar())
        start = domain.china_date(facts["served_at"])
        if facts["order_pay_unit"] == DayUnit.WORKING.value:
            return calendar.add_working_days(start, facts["order_pay_days"])
        return calendar.add_calendar_days(start, facts["order_pay_days"])

    async def withdraw(self, key: str, request: WithdrawReferralRequest) -> dict[str, Any]:
        same_key(key, request)
        fingerprint = request_hash(request)

        async def create(conn: store.Conn) -> dict[str, Any]:
            row = await _referral_of_case(conn, request.referral_id, request.case_id)
            if row["status"] == "accepted":
                raise domain.Refused("the receiving body has accepted the referral (立案/受理); "
                                     "it can no longer be withdrawn")
            now = datetime.now(UTC)
            if row["status"] != "withdrawn":
                await store.withdraw_referral(conn, request.referral_id, reason=request.reason, at=now)
                await store.publish(conn, _event(row["case_id"], ReferralWithdrawn(
                    referral_id=row["referral_id"], case_id=row["case_id"], county=row["county"],
                    target=ReferralKind(row["target"]),
                ), now))
            response = {"id": row["referral_id"]}
            await store.remember(conn, key, "withdrawal", fingerprint, response)
            return response

        async with self._pool.connection() as conn:
            answer, _ = await self._requests.once(conn, key, fingerprint, create, kind="withdrawal")
        return answer

    async def supplement_referral(self, key: str, request: ReferralSupplementRequest) -> tuple[dict[str, Any], bool]:
        """A supplementary notice (补充材料函) to the body a case was referred to, once per key: wages were paid
        after the referral, with the payment's evidence; a `referral.supplemented` event with it."""
        same_key(key, request)
        fingerprint = request_hash(request)

        async def create(conn: store.Conn) -> dict[str, Any]:
            referral = await _referral_of_case(conn, request.referral_id, request.case_id)
            facts = await store.case_facts(conn, referral["case_id"])
            if facts is None:
                raise _facts_missing(referral["case_id"])
            target = ReferralKind(referral["target"])
            receiver = self.departments.receiver(target)
            first = await store.get_letter(conn, referral["letter_id"])
            assert first is not None
            now = datetime.now(UTC)
            extra = {
                "referral_date_text": domain.date_text(domain.china_date(referral["created_at"])),
                "referral_number": first["document_number"],
                "amount_paid": domain.money_text(request.amount_paid),
                "payment_ids": "、".join(request.payment_ids),
            }
            letter = await self._new_letter(
                conn, LetterKind.SUPPLEMENTARY_NOTICE, key, "supplement", facts, receiver, now, None, None,
                county=referral["county"], referral_id=referral["referral_id"], extra_facts=extra,
                evidence=[(f"{i}  支付凭证（{e.kind.value}）", e.ref) for i, e in enumerate(request.evidence, start=1)],
                issuer=self.departments.bureau.name,
            )
            await store.publish(conn, _event(referral["case_id"], ReferralSupplemented(
                referral_id=referral["referral_id"], case_id=referral["case_id"], county=referral["county"],
                target=target, letter_id=letter["letter_id"], amount_paid=request.amount_paid,
            ), now))
            response = {"id": letter["letter_id"]}
            await store.remember(conn, key, "supplement", fingerprint, response)
            return response

        async with self._pool.connection() as conn:
            return await self._requests.once(conn, key, fingerprint, create, kind="supplement")

    async def escalate_referral(self, referral_id: str, kind: LetterKind, key: str,
                                phase: str = ANSWER) -> dict[str, Any]:
        """One rung of a referral's follow-up, once per key: a letter to the receiving body and a
        `referral.escalated` event, unless the referral has been answered or withdrawn meanwhile (for an
        arbitration award: unless the award has been recorded)."""
        async with self._pool.connection() as conn, conn.transaction():
            await store.lock_key(conn, key)
            existing = await store.letter_by_key(conn, key)
            if existing is not None:
                return {"closed": False, "letter_id": existing["letter_id"],
                        "next_due_at": existing["response_due_at"].isoformat()}
            referral = await store.get_referral(conn, referral_id, for_update=True)
            open_status = "accepted" if phase == AWARD else "sent"
            if referral is None or referral["status"] != open_status or referral["awarded_on"] is not None:
                return {"closed": True, "letter_id": None, "next_due_at": None}
            facts = await store.case_facts(conn, referral["case_id"])
            if facts is None:
                raise RuntimeError(f"case facts of {referral['case_id']} are missing")
            target = ReferralKind(referral["target"])
            receiver = self.departments.receiver(target)
            rungs = receiver.award.ladder if phase == AWARD and receiver.award else receiver.ladder
            rung = next((r for r in rungs if r.kind.value == kind.value), None)
            now = datetime.now(UTC)
            due_date, due_at = domain.working_days_due(now, rung.wait_working_days if rung else 1, self._calendar())
            previous = [p for p in await store.letters_of(conn, referral_id=referral_id)
                        if p["kind"] in {k.value for k in domain.LADDER}
                        and (phase != AWARD or p["issued_at"] >= referral["decided_at"])]
            first = await store.get_letter(conn, referral["letter_id"])
            assert first is not None
            extra = {
                "referral_name": domain.REFERRAL_NAMES[target],
                "rung_name": domain.LETTER_NAMES[kind],
                "referral_date_text": domain.date_text(domain.china_date(referral["created_at"])),
                "referral_number": first["document_number"],
                "referral_due_text": domain.date_text(referral["award_due_date"] if phase == AWARD
                                                      else referral["due_date"]),
                "expected_action": domain.AWARD_ACTION if phase == AWARD else domain.EXPECTED_ACTION[target],
                "rung_demand": domain.RUNG_DEMAND[kind],
                "previous_text": ("其间我局已发出" + "、".join(
                    f"{domain.LETTER_NAMES[LetterKind(p['kind'])]}（{p['document_number']}）" for p in previous))
                if previous else "该期限已届满",
            }
            letter = await self._new_letter(
                conn, kind, key, "follow-up", facts, receiver, now, due_date, due_at, county=referral["county"],
                referral_id=referral_id, extra_facts=extra, template_name="referral_follow_up",
                issuer=self.departments.bureau.name,
            )
            await store.publish(conn, _event(referral["case_id"], ReferralEscalated(
                referral_id=referral_id, case_id=referral["case_id"], county=referral["county"], target=target,
                kind=kind, letter_id=letter["letter_id"], due_date=due_date,
            ), now))
            return {"closed": False, "letter_id": letter["letter_id"], "next_due_at": due_at.isoformat()}

    async def referrals(self, principal: Principal, *, status: str | None, case_id: str | None,
                        target: ReferralKind | None, limit: int,
                        cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        county = None
        kinds = [k for k, role in domain.REFERRAL_ROLE.items() if role is principal.role]
        if kinds:
            target = kinds[0]
        elif principal.role in domain.COUNTY_READERS:
            county = principal.county
        elif principal.role not in domain.CITY_READERS:
            raise Forbidden(f"the role {principal.role.value} receives no referrals")
        async with self._pool.connection() as conn:
            return await store.list_referrals(conn, target=target.value if target else None, county=county,
                                              status=status, case_id=case_id, limit=limit, cursor=cursor)

    async def referral(self, principal: Principal, referral_id: str) -> dict[str, Any]:
        row = await in_scope(self._pool, store.get_referral, referral_id, "referral",
                             lambda row: domain.may_see_referral(principal, ReferralKind(row["target"]), row["county"]))
        return await self._with_letters(row, referral_id=referral_id)

    async def decide(self, principal: Principal, referral_id: str, decision: ReferralDecision,
                     decision_ref: str | None, decline_reason: DeclineReason | None, reasons: str | None,
                     assigned_to: str | None) -> dict[str, Any]:
        row = await self.referral(principal, referral_id)
        kind = ReferralKind(row["target"])
        if principal.role is not domain.REFERRAL_ROLE[kind]:
            raise Forbidden(f"only the {kind.value} answers this referral")
        if decision is ReferralDecision.DECLINED and (decline_reason is None or not reasons):
            raise Invalid("The request is not valid", "a refusal needs a decline_reason and written reasons")
        domain.check_referral_decision(row["status"], kind, decision, assigned_to)
        if kind is ReferralKind.POLICE:
            police_decision = (PoliceDecision.CASE_OPENED if decision is ReferralDecision.ACCEPTED
                               else PoliceDecision.DECLINED)
            await self._tell_case(
                row["case_id"], Updates.RECORD_POLICE_DECISION,
                PoliceDecisionRecord(decision=police_decision, police_ref=decision_ref,
                                     recorded_by=principal.client_id),
                update_id=f"{referral_id}:decision",
            )
        now = datetime.now(UTC)
        async with self._pool.connection() as conn, conn.transaction():
            status = "accepted" if decision is ReferralDecision.ACCEPTED else "declined"
            if not await store.decide_referral(conn, referral_id, status=status, decision=decision.value,
                                               decision_ref=decision_ref,
                                               reasons=f"{decline_reason.value}: {reasons}" if decline_reason else reasons,
                                               by=principal.client_id, at=now, assigned_to=assigned_to):
                raise Conflict("The referral changed", "the referral was answered or withdrawn meanwhile")
            award_due: tuple[date, datetime] | tuple[None, None] = (None, None)
            award = self.departments.receiver(kind).award
            if decision is ReferralDecision.ACCEPTED and award is not None:
                # The award limit runs from the acceptance (劳动争议调解仲裁法 art. 43).
                award_due = domain.period_due(now, award.days, DayUnit.CALENDAR, self._calendar())
                await store.set_award_due(conn, referral_id, due_date=award_due[0], due_at=award_due[1])
            await store.publish(conn, _event(row["case_id"], ReferralDecided(
                referral_id=referral_id, case_id=row["case_id"], county=row["county"], target=kind, decision=decision,
                decline_reason=decline_reason, decision_ref=decision_ref, decided_by=principal.client_id,
                assigned=bool(assigned_to), late=domain.is_late(now, row["due_at"]),
                award_due_date=award_due[0], award_due_at=award_due[1],
            ), now))
            await audit.record(conn, principal, f"referral.decide.{kind.value}", referral_id,
                               detail={"decision": decision.value})
        return await self.referral(principal, referral_id)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
