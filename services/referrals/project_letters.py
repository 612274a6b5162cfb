"""The ladder against projects as the referrals service's commands (`commands.py` composes them): a rung's letter
written with its event in one transaction (the activity `referrals.issue_project_letter`), the pending wait
counted again on an entered calendar (`referrals.recompute_project_ladder`), and a project's letters and
ladders read by the agencies that see the project. The workflow is in `project_ladder.py`, the consumer that
starts and stops it in `project_ladder_starter.py`, the rules in `project_letter_rules.py`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from services.common.auth import Principal
from services.common.errors import NotFound
from services.contracts.events import EventEnvelope
from services.contracts.monitoring_events import WarningCheck
from services.contracts.referrals_events import (
    LetterKind,
    ProjectLadderEnd,
    ProjectLadderEnded,
    ProjectLetterIssued,
    ReferralsEvent,
)
from services.referrals import domain, store
from services.referrals import project_letter_store as ladders
from services.referrals.command_base import PRODUCER, CommandBase
from services.referrals.letters import compose, render_pdf, sha256
from services.referrals.project_ladder import IssueProjectLetterRequest, RecomputeProjectLadderRequest
from services.referrals.project_letter_rules import (
    ARTICLES_TEXT,
    CHECK_TEXT,
    DEPARTMENT,
    GENERAL_CONTRACTOR,
    LEVEL_TEXT,
    SYSTEM_TEXT,
    highest_level,
    may_see_project,
    months_text,
    previous_text,
    recipient_of,
    template_name,
)

CLOSED: dict[str, Any] = {"closed": True, "letter_id": None, "next_due_at": None}


def project_event(project_id: str, payload: ReferralsEvent, at: datetime) -> EventEnvelope:
    """An event of the ladder against a project, keyed by the project so its letters stay in order."""
    return EventEnvelope.wrap(payload, subject=project_id, producer=PRODUCER, occurred_at=at)


class ProjectLetters(CommandBase):
    """The ladder against projects: its letters written, its waits recounted, its records read."""

    async def issue_project_letter(self, request: IssueProjectLetterRequest) -> dict[str, Any]:
        """One rung, once per key: the letter to the rung's recipient and `project_letter.issued` (with
        `project_ladder.ended` on the last rung), unless every warning of the ladder's check was resolved
        meanwhile ("closed", which ends the ladder)."""
        key = request.idempotency_key
        async with self._pool.connection() as conn, conn.transaction():
            await store.lock_key(conn, key)
            existing = await ladders.letter_by_key(conn, key)
            if existing is not None:
                return {"closed": False, "letter_id": existing["letter_id"], "next_due_at": existing["response_due_at"]}
            ladder = await ladders.ladder(conn, request.ladder_id, for_update=True)
            if ladder is None:
                # The consumer records the ladder in the transaction that starts it: not committed yet. Retried.
                raise RuntimeError(f"ladder {request.ladder_id} is not recorded yet")
            if ladder["ended_at"] is not None or ladder["closed_at"] is not None:
                return CLOSED
            warnings = await ladders.open_warnings(conn, ladder["project_id"], ladder["check"])
            if not warnings:
                return CLOSED
            project = await ladders.project(conn, ladder["project_id"])
            if project is None:
                # Its register event has not reached this service (or is past the topic's retention); retried
                # until it has, visibly (`anxin stuck`).
                raise RuntimeError(f"project {ladder['project_id']} is not in the referrals service's register")
            kind = LetterKind(request.kind)
            addressee, printed = self._project_addressee(request.to, project)
            now = datetime.now(UTC)
            due_date, due_at = domain.working_days_due(now, request.wait_working_days, self._calendar())
            check = WarningCheck(ladder["check"])
            facts = self._project_facts(
                project, check, warnings, await ladders.ladder_letters(conn, ladder["ladder_id"])
            )
            facts["due_date_text"] = domain.date_text(due_date)
            facts["addressee_name"] = printed
            rows = _project_rows(facts)
            rung = self.departments.project_ladder.rung(kind)
            copy_to = [self.departments.bureau.escalation[k] for k in (rung.copy_to if rung else [])]
            bureau = self.departments.bureau
            year = domain.china_date(now).year
            number = await store.next_document_number(conn, kind.value, year)
            number_text = domain.document_number(bureau.prefixes[kind], year, number)
            letter_id = domain.record_id("PLT", key)
            content = compose(
                kind,
                facts=facts,
                issuer=bureau.office,
                document_number=number_text,
                addressee=printed,
                issued_at=now,
                rows=rows,
                contact=f"联系单位：{bureau.office}    投诉举报电话：12333",
                copy_to=copy_to,
                reference=letter_id,
                template_name=template_name(kind),
            )
            pdf = await asyncio.to_thread(render_pdf, content, self._font)
            digest = sha256(pdf)
            recipient = recipient_of(request.to)
            await ladders.insert_letter(
                conn,
                {
                    "letter_id": letter_id,
                    "idempotency_key": key,
                    "ladder_id": ladder["ladder_id"],
                    "project_id": project["project_id"],
                    "county": project["county"],
                    "department": project["department"],
                    "check": check.value,
                    "kind": kind.value,
                    "recipient": recipient.value,
                    "addressee": addressee,
                    "year": year,
                    "number": number,
                    "document_number": number_text,
                    "issued_at": now,
                    "response_due_date": due_date,
                    "response_due_at": due_at,
                    "facts": {
                        "title": content.title,
                        "rows": rows,
                        "paragraphs": content.paragraphs,
                        "copy_to": copy_to,
                    },
                    "pdf": pdf,
                    "sha256": digest,
                    "size_bytes": len(pdf),
                },
            )
            await ladders.record_rung(conn, ladder["ladder_id"], kind.value, due_at)
            about = {
                "ladder_id": ladder["ladder_id"],
                "project_id": project["project_id"],
                "county": project["county"],
                "department": project["department"],
                "check": check,
            }
            issued = ProjectLetterIssued(
                **about,
                kind=kind,
                recipient=recipient,
                letter_id=letter_id,
                document_number=number_text,
                issued_at=now,
                response_due_date=due_date,
                sha256=digest,
                size_bytes=len(pdf),
            )
            await store.publish(conn, project_event(project["project_id"], issued, now))
            if request.last and await ladders.end_ladder(
                conn, ladder["ladder_id"], ProjectLadderEnd.LAST_RUNG.value, now
            ):
                ended = ProjectLadderEnded(
                    **about, reason=ProjectLadderEnd.LAST_RUNG, letters=ladder["letters"] + 1, last_kind=kind
                )
                await store.publish(conn, project_event(project["project_id"], ended, now))
            return {"closed": False, "letter_id": letter_id, "next_due_at": due_at}

    async def recompute_project_ladder(self, request: RecomputeProjectLadderRequest) -> datetime:
        """The pending wait counted again on the calendar as entered now, from the last letter (or the warning
        that opened the ladder): later if the calendar says so, never earlier than `request.due_at`."""
        async with self._pool.connection() as conn, conn.transaction():
            ladder = await ladders.ladder(conn, request.ladder_id, for_update=True)
            if ladder is None:
                return request.due_at
            start = ladder["opened_at"]
            if request.after_kind is not None:
                letters = await ladders.ladder_letters(conn, request.ladder_id)
                start = next((x["issued_at"] for x in letters if x["kind"] == request.after_kind), start)
            _, counted = domain.working_days_due(start, request.wait_working_days, self._calendar())
            due_at = max(request.due_at, counted)
            if due_at != ladder["next_due_at"]:
                await ladders.set_next_due(conn, request.ladder_id, due_at)
        return due_at

    def _project_addressee(self, to: str, project: dict[str, Any]) -> tuple[str, str]:
        """Whom a rung's letter goes to: the id the record keeps and the name the letter prints."""
        if to == GENERAL_CONTRACTOR:
            return project["general_contractor_credit_code"], project["general_contractor_name"]
        if to == DEPARTMENT:
            department = self.departments.get(project["department"])
            if department is None:
                raise RuntimeError(f"the project's department {project['department']!r} is not in the directory")
            return department.id, department.name
        return to, self.departments.bureau.escalation[to]

    def _project_facts(
        self,
        project: dict[str, Any],
        check: WarningCheck,
        warnings: list[dict[str, Any]],
        previous: list[dict[str, Any]],
    ) -> dict[str, Any]:
        department = self.departments.get(project["department"])
        return {
            "project_name": project["name"],
            "project_code": project["code"],
            "county_name": self.departments.bureau.county_name(project["county"]),
            "contractor_name": project["general_contractor_name"],
            "credit_code": project["general_contractor_credit_code"],
            "department_name": department.name if department else project["department"],
            "check_text": CHECK_TEXT[check],
            "system_text": SYSTEM_TEXT[check],
            "articles_text": ARTICLES_TEXT[check],
            "months_text": months_text(w["month"] for w in warnings),
            "level_text": LEVEL_TEXT[highest_level(w["level"] for w in warnings)],
            "previous_text": previous_text(previous),
        }

    async def _project_in_scope(self, principal: Principal, project_id: str) -> dict[str, Any]:
        async with self._pool.connection() as conn:
            project = await ladders.project(conn, project_id)
        if project is None or not may_see_project(principal, project["county"], project["department"]):
            raise NotFound("No such project", f"project {project_id} was not found in your scope")
        return project

    async def project_letters(
        self, principal: Principal, project_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        await self._project_in_scope(principal, project_id)
        async with self._pool.connection() as conn:
            return await ladders.page_letters(conn, project_id, limit=limit, cursor=cursor)

    async def project_letter(self, principal: Principal, project_id: str, letter_id: str) -> dict[str, Any]:
        await self._project_in_scope(principal, project_id)
        async with self._pool.connection() as conn:
            row = await ladders.letter(conn, letter_id)
        if row is None or row["project_id"] != project_id:
            raise NotFound("No such letter", f"letter {letter_id} of project {project_id} was not found")
        return row

    async def project_letter_pdf(
        self, principal: Principal, project_id: str, letter_id: str
    ) -> tuple[dict[str, Any], bytes]:
        row = await self.project_letter(principal, project_id, letter_id)
        async with self._pool.connection() as conn:
            pdf = await ladders.letter_pdf(conn, letter_id)
        assert pdf is not None
        return row, pdf

    async def project_ladders(
        self, principal: Principal, project_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        await self._project_in_scope(principal, project_id)
        async with self._pool.connection() as conn:
            return await ladders.page_ladders(conn, project_id, limit=limit, cursor=cursor)


def _project_rows(facts: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("项目名称", facts["project_name"]),
        ("项目编号", facts["project_code"]),
        ("所在县区", facts["county_name"]),
        ("施工总承包单位", facts["contractor_name"]),
        ("统一社会信用代码", facts["credit_code"]),
        ("行业主管部门", facts["department_name"]),
        ("预警事项", facts["check_text"]),
        ("预警月份", facts["months_text"]),
        ("预警等级", facts["level_text"]),
        ("反馈期限", facts["due_date_text"]),
    ]
