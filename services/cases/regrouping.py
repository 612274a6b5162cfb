"""Regrouping the ledger: merging two cases and splitting complaints off into a case of their own.

A merge regroups the ledger (the other case's id becomes an alias) and, where the law lets it, the process
too: each open process of the merged case that is not yet verified is asked to move its complaints into the
surviving case's process (`merge_into`, workflows/case/merge.py), and closes as merged. A process that is
past verification has its own order or handoff; it refuses, and stays beside the survivor's under the one
ledger case, as the answer says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.cases import domain, store
from services.common import audit
from services.common.auth import Principal
from services.common.errors import Conflict, Refused, Unprocessable
from services.contracts.case_ledger_events import CaseMerged, CaseSplit
from services.contracts.events import EventEnvelope
from services.contracts.lifecycle import CaseMergeRequest, Updates, case_workflow_id

if TYPE_CHECKING:
    from services.cases.actions import Cases


async def merge(cases: Cases, principal: Principal, case_id: str, other_id: str, reason: str) -> dict[str, Any]:
    case = await cases.visible_case(principal, case_id)
    other = await cases.visible_case(principal, other_id)
    if other["case_id"] == case["case_id"]:
        raise Conflict("Nothing to merge", f"{other_id} is already part of case {case['case_id']}")
    if other["county"] != case["county"]:
        raise Unprocessable(
            "Cases of different counties",
            f"{case['case_id']} is in {case['county']} and {other['case_id']} in {other['county']}: "
            "only cases of one county can be merged",
        )
    survivor, merged, kept = await _merge_processes(cases, principal, case, other, reason)
    payload = CaseMerged(
        case_id=case["case_id"],
        merged_case_id=other["case_id"],
        county=case["county"],
        actor=principal.client_id,
        reason=reason,
        processes_merged=merged,
        into_process_case_id=survivor if merged else None,
    )
    event = EventEnvelope.wrap(payload, subject=case["case_id"], producer="cases")
    async with cases.pool.connection() as conn, conn.transaction():
        await store.add_event(conn, event, payload.agency_texts())
        await audit.record(
            conn,
            principal,
            "case.merge",
            case["case_id"],
            detail={"merged": other["case_id"], "processes_merged": merged},
        )
    return {
        "accepted": True,
        "case_id": case["case_id"],
        "merged_case_id": other["case_id"],
        "processes_merged": merged,
        "processes_kept": kept,
        "event_id": str(event.event_id),
    }


async def _merge_processes(
    cases: Cases, principal: Principal, case: dict[str, Any], other: dict[str, Any], reason: str
) -> tuple[str | None, list[str], dict[str, str]]:
    """Move the merged case's processes into the survivor's where each allows it: (the surviving process,
    those merged, those kept with why)."""
    survivors = [p for p in case["process_case_ids"] if p not in other["process_case_ids"]]
    if not survivors:
        return None, [], {pid: "the surviving case has no process yet" for pid in other["process_case_ids"]}
    survivor = survivors[0]
    merged: list[str] = []
    kept: dict[str, str] = {}
    for pid in other["process_case_ids"]:
        request = CaseMergeRequest(into_case_id=survivor, merged_by=principal.client_id, reason=reason)
        try:
            await cases.processes.update(
                case_workflow_id(pid), Updates.MERGE_INTO, request, update_id=f"merge:{pid}:{survivor}"
            )
        except Refused as refused:
            kept[pid] = refused.detail or refused.title
        else:
            merged.append(pid)
    return survivor, merged, kept


async def split(
    cases: Cases, principal: Principal, case_id: str, complaint_ids: list[str], reason: str
) -> dict[str, Any]:
    case = await cases.visible_case(principal, case_id)
    async with cases.pool.connection() as conn:
        members = {c["complaint_id"] for c in await store.case_complaints(conn, case["case_id"])}
    wanted = list(dict.fromkeys(complaint_ids))
    strangers = [c for c in wanted if c not in members]
    if strangers:
        raise Unprocessable(
            "Complaints not in this case",
            f"these complaints are not part of case {case['case_id']}: {', '.join(strangers)}",
        )
    if set(wanted) >= members:
        raise Unprocessable(
            "Nothing would remain",
            "a split must leave at least one complaint in the case; to regroup all, merge instead",
        )
    new_case_id = domain.split_case_id(case["case_id"], wanted)
    payload = CaseSplit(
        case_id=case["case_id"],
        new_case_id=new_case_id,
        complaint_ids=wanted,
        county=case["county"],
        actor=principal.client_id,
        reason=reason,
    )
    event = EventEnvelope.wrap(payload, subject=case["case_id"], producer="cases")
    async with cases.pool.connection() as conn, conn.transaction():
        await store.add_event(conn, event, payload.agency_texts())
        await audit.record(
            conn, principal, "case.split", case["case_id"], detail={"new_case_id": new_case_id, "complaints": wanted}
        )
    return {
        "accepted": True,
        "case_id": case["case_id"],
        "new_case_id": new_case_id,
        "complaint_ids": wanted,
        "event_id": str(event.event_id),
    }
