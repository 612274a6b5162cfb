"""What the referrals service's commands share (`commands.py`, `handoff_answers.py`, `referral_making.py`,
`referral_progress.py`): the engines they use, the event they wrap, the live case process they tell an agency's
answer, and a letter drafted, numbered, rendered to PDF and stored with its `letter.issued` event (a handoff
letter, a ladder rung, a referral letter and its follow-ups all go through it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel
from temporalio.client import Client

from services.common.commands import KeyedRecords
from services.common.errors import (
    Invalid,
    NotFound,
    Unavailable,
)
from services.common.process_gateway import ProcessGateway, Wording
from services.contracts.events import EventEnvelope
from services.contracts.lifecycle import (
    CalendarConfig,
    Queries,
    case_workflow_id,
)
from services.contracts.referrals_events import (
    LetterIssued,
    LetterKind,
    ReferralsEvent,
)
from services.referrals import domain, referral_store, store
from services.referrals.departments import Department, DepartmentsConfig
from services.referrals.letters import compose, render_pdf, sha256

PRODUCER = "referrals"
# The case workflow takes the agencies' answers; refused there, nothing is recorded.
CASE_PROCESS = Wording(
    refused="The case process refused the answer",
    late=("The case process did not answer in time", "{workflow_id} did not answer within {seconds}s; try again"),
    finished=(
        "The case process is not running",
        "{workflow_id} is not running (finished or never started): the answer cannot be taken into account",
    ),
    missing=None,
)


def case_event(case_id: str, payload: ReferralsEvent, at: datetime) -> EventEnvelope:
    """A referrals event about a case, keyed by the case so its events stay in order."""
    return EventEnvelope.wrap(payload, subject=case_id, producer=PRODUCER, occurred_at=at)


def facts_missing(case_id: str) -> Unavailable:
    # Retryable on purpose: the case's complaint.submitted event is on its way through Kafka; the lifecycle
    # activity retries and the letter is issued, with the right facts, once it has arrived.
    return Unavailable(
        "Case facts not known yet",
        f"the referrals service has not yet received the complaints of case {case_id}; retry shortly",
    )


async def referral_of_case(conn: store.Conn, referral_id: str, case_id: str) -> dict[str, Any]:
    """The referral, locked for the change about to be made, when it is the case's; otherwise `NotFound`."""
    row = await referral_store.get_referral(conn, referral_id, for_update=True)
    if row is None or row["case_id"] != case_id:
        raise NotFound("No such referral", f"referral {referral_id} of case {case_id} was not found")
    return row


class CommandBase:
    """The engines and configuration every command reads, and what more than one area of commands does."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        client: Client | None,
        departments: DepartmentsConfig,
        font: Path,
        calendar: Callable[[], CalendarConfig] | None = None,
    ) -> None:
        self._pool = pool
        self._process = (
            ProcessGateway(client, status_query=Queries.STATUS, wording=CASE_PROCESS) if client is not None else None
        )
        self._letters = KeyedRecords(
            store.letter_by_key, answer=lambda row: {"id": row["letter_id"]}, kind="letter", lock=store.lock_key
        )
        self._referrals = KeyedRecords(
            referral_store.referral_by_key,
            answer=lambda row: {"id": row["referral_id"]},
            kind="referral",
            lock=store.lock_key,
        )
        self._requests = KeyedRecords(store.remembered, answer=lambda row: dict(row["response"]), lock=store.lock_key)
        self.departments = departments
        self._font = font
        # The official calendar entries as the configuration says now (a year may be loaded meanwhile).
        self._calendar = calendar or CalendarConfig

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

    async def _with_letters(self, row: dict[str, Any], **of: str) -> dict[str, Any]:
        async with self._pool.connection() as conn:
            row["letters"] = await store.letters_of(conn, **of)
        return row

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
        content = compose(
            kind,
            facts=template_facts,
            issuer=issuer,
            document_number=number_text,
            addressee=printed_addressee,
            issued_at=now,
            rows=rows,
            evidence=evidence,
            contact=contact,
            copy_to=copy_to,
            reference=letter_id,
            template_name=template_name,
        )
        pdf = await asyncio.to_thread(render_pdf, content, self._font)
        digest = sha256(pdf)
        row = {
            "letter_id": letter_id,
            "idempotency_key": key,
            "request_hash": request_hash,
            "kind": kind.value,
            "year": year,
            "number": number,
            "document_number": number_text,
            "case_id": facts["case_id"],
            "county": county,
            "addressee": department.id,
            "handoff_id": handoff["handoff_id"] if handoff else None,
            "referral_id": referral_id,
            "issued_at": now,
            "response_due_date": due_date,
            "response_due_at": due_at,
            "facts": {
                "title": content.title,
                "rows": rows,
                "paragraphs": content.paragraphs,
                "copy_to": copy_to,
                "evidence": evidence or [],
            },
            "pdf": pdf,
            "sha256": digest,
            "size_bytes": len(pdf),
        }
        await store.insert_letter(conn, row)
        await store.publish(
            conn,
            case_event(
                facts["case_id"],
                LetterIssued(
                    letter_id=letter_id,
                    document_number=number_text,
                    kind=kind,
                    case_id=facts["case_id"],
                    county=county,
                    addressee=department.id,
                    handoff_id=row["handoff_id"],
                    referral_id=referral_id,
                    issued_at=now,
                    response_due_date=due_date,
                    sha256=digest,
                    size_bytes=len(pdf),
                ),
                now,
            ),
        )
        return row

    def _template_facts(
        self,
        facts: dict[str, Any],
        department: Department,
        due_date: date | None,
        handoff: dict[str, Any] | None,
        previous: list[dict[str, Any]],
    ) -> dict[str, Any]:
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

    def _rows(
        self,
        facts: dict[str, Any],
        department: Department,
        due_date: date | None,
        values: dict[str, Any],
        handoff: dict[str, Any] | None,
    ) -> list[tuple[str, str]]:
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
