"""The referrals service's handoffs (`commands.py` composes them): the list and a handoff with its letters,
and a department's answers — acknowledged, responded to with its files, returned. A response or a return goes to
the case workflow first as a Temporal Update with a validator (refused there, nothing is recorded), then is stored
with its event and an audit row."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from services.common import audit
from services.common.auth import Principal, Role
from services.common.commands import in_scope
from services.common.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
)
from services.contracts.lifecycle import (
    HandoffResponse,
    HandoffReturn,
    Updates,
)
from services.contracts.referrals_events import (
    HandoffAcknowledged,
    HandoffOutcome,
    HandoffResponded,
    HandoffReturned,
    HandoffStatus,
    ReturnReason,
)
from services.referrals import domain, handoff_store, store
from services.referrals.command_base import CommandBase, case_event
from services.referrals.letters import sha256


def _handoff_changed() -> Conflict:
    return Conflict("The handoff changed", "the handoff was answered meanwhile; read it again")


class HandoffAnswers(CommandBase):
    """A department's handoffs: reading them and answering them."""

    async def handoffs(
        self, principal: Principal, *, status: str | None, case_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        department = county = None
        if principal.role is Role.department:
            department = principal.department or "-"
        elif principal.role in domain.COUNTY_READERS:
            county = principal.county
        elif principal.role not in domain.CITY_READERS:
            raise Forbidden(f"the role {principal.role.value} has no handoffs")
        async with self._pool.connection() as conn:
            return await handoff_store.list_handoffs(
                conn, department=department, county=county, status=status, case_id=case_id, limit=limit, cursor=cursor
            )

    async def handoff(self, principal: Principal, handoff_id: str) -> dict[str, Any]:
        row = await in_scope(
            self._pool,
            handoff_store.get_handoff,
            handoff_id,
            "handoff",
            lambda row: domain.may_see_handoff(principal, row["department"], row["county"]),
        )
        return await self._with_letters(row, handoff_id=handoff_id)

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
            if not await handoff_store.acknowledge_handoff(conn, handoff_id, principal.client_id, now):
                raise _handoff_changed()
            await store.publish(
                conn,
                case_event(
                    row["case_id"],
                    HandoffAcknowledged(
                        handoff_id=handoff_id,
                        case_id=row["case_id"],
                        county=row["county"],
                        department=row["department"],
                        acknowledged_by=principal.client_id,
                    ),
                    now,
                ),
            )
            await audit.record(conn, principal, "handoff.acknowledge", handoff_id)
        return await self.handoff(principal, handoff_id)

    async def respond(
        self, principal: Principal, handoff_id: str, outcome: HandoffOutcome, summary: str, files: list[dict[str, str]]
    ) -> dict[str, Any]:
        row = await self._answerable(principal, handoff_id)
        domain.check_answer(HandoffStatus(row["status"]))
        decoded = [self._decode_file(f) for f in files]
        await self._tell_case(
            row["case_id"],
            Updates.RECORD_HANDOFF_RESPONSE,
            HandoffResponse(
                department=row["department"],
                summary=domain.workflow_summary_of_response(outcome, summary),
                responded_by=principal.client_id,
            ),
            update_id=f"{handoff_id}:answer",
        )
        now = datetime.now(UTC)
        async with self._pool.connection() as conn, conn.transaction():
            stored: list[dict[str, Any]] = []
            for name, media_type, content in decoded:
                digest = sha256(content)
                file_id = f"F-{digest[:16].upper()}"
                if file_id not in {s["file_id"] for s in stored}:
                    await handoff_store.insert_handoff_file(
                        conn,
                        file_id=file_id,
                        handoff_id=handoff_id,
                        name=name,
                        media_type=media_type,
                        sha256=digest,
                        content=content,
                    )
                    stored.append(
                        {
                            "file_id": file_id,
                            "name": name,
                            "media_type": media_type,
                            "sha256": digest,
                            "size_bytes": len(content),
                        }
                    )
            if not await handoff_store.respond_handoff(
                conn, handoff_id, by=principal.client_id, at=now, outcome=outcome.value, summary=summary, files=stored
            ):
                raise _handoff_changed()
            await store.publish(
                conn,
                case_event(
                    row["case_id"],
                    HandoffResponded(
                        handoff_id=handoff_id,
                        case_id=row["case_id"],
                        county=row["county"],
                        department=row["department"],
                        outcome=outcome,
                        files_count=len(stored),
                        responded_by=principal.client_id,
                        late=domain.is_late(now, row["due_at"]),
                    ),
                    now,
                ),
            )
            await audit.record(conn, principal, "handoff.respond", handoff_id, detail={"outcome": outcome.value})
        return await self.handoff(principal, handoff_id)

    async def return_handoff(
        self, principal: Principal, handoff_id: str, reason: ReturnReason, explanation: str
    ) -> dict[str, Any]:
        row = await self._answerable(principal, handoff_id)
        domain.check_answer(HandoffStatus(row["status"]))
        # The case goes back to verification: the inspector decides anew (another department, or a wage case).
        await self._tell_case(
            row["case_id"],
            Updates.RECORD_HANDOFF_RETURN,
            HandoffReturn(
                department=row["department"],
                reason=domain.workflow_reason_of_return(reason, explanation),
                returned_by=principal.client_id,
            ),
            update_id=f"{handoff_id}:answer",
        )
        now = datetime.now(UTC)
        async with self._pool.connection() as conn, conn.transaction():
            if not await handoff_store.return_handoff(
                conn, handoff_id, by=principal.client_id, at=now, reason=reason.value, explanation=explanation
            ):
                raise _handoff_changed()
            await store.publish(
                conn,
                case_event(
                    row["case_id"],
                    HandoffReturned(
                        handoff_id=handoff_id,
                        case_id=row["case_id"],
                        county=row["county"],
                        department=row["department"],
                        reason=reason,
                        returned_by=principal.client_id,
                    ),
                    now,
                ),
            )
            await audit.record(conn, principal, "handoff.return", handoff_id, detail={"reason": reason.value})
        return await self.handoff(principal, handoff_id)

    async def handoff_file(self, principal: Principal, handoff_id: str, file_id: str) -> dict[str, Any]:
        await self.handoff(principal, handoff_id)
        async with self._pool.connection() as conn:
            row = await handoff_store.handoff_file(conn, handoff_id, file_id)
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
