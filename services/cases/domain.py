"""The cases service's rules, free of I/O: how a ledger case is summed up from its complaints and its
process, which process an action goes to, scope and the deadlines. The reports' periods are in `periods.py`,
their figures in `report_figures.py`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from services.common.auth import Principal, Role
from services.common.errors import Refused
from services.contracts.legal_time import legal_date as legal_date  # re-exported: domain.legal_date

# Complaints that ended before joining a case do not count toward its workers and amounts.
NOT_COUNTED = {"rejected", "forwarded", "information_not_supplied", "withdrawn"}
# Closures where the workers got their wages.
PAID_CLOSURES = {"paid_in_full", "already_paid"}

LEDGER_STAGES = (
    "acceptance",  # complaints awaiting the acceptance decision (受理)
    "information",  # more information requested (补正)
    "verification",  # accepted; investigating (核实)
    "handoff",
    "service",
    "payment",
    "refusal",
    "closed",
)

READ_ROLES = (Role.county_inspector, Role.bureau_head, Role.city_office, Role.operator)
ACT_ROLES = (Role.county_inspector, Role.city_office)


def city_of(county: str) -> str:
    """行政区划代码: the city (地级市) is the county code's first four digits followed by 00."""
    return county[:4] + "00"


def may_see(principal: Principal, county: str) -> bool:
    if principal.role in (Role.city_office, Role.operator):
        return True
    # A county's inspectors and its bureau head (who decides its criminal referrals): their county only.
    return principal.role in (Role.county_inspector, Role.bureau_head) and principal.county == county


def county_scope(principal: Principal) -> str | None:
    """The only county a principal may list, or None for all (city office, operators)."""
    if principal.role in (Role.city_office, Role.operator):
        return None
    return principal.county or "-"


def split_case_id(case_id: str, complaint_ids: Iterable[str]) -> str:
    """The id of the case split off `case_id` with these complaints: the same split gives the same id."""
    digest = hashlib.sha256("\x1f".join(["split", case_id, *sorted(complaint_ids)]).encode()).hexdigest()
    return f"C-S{digest[:15].upper()}"


# --- deadlines ------------------------------------------------------------------------------------------


def deadlines_from_status(deadlines: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The workflow's deadlines (name -> Deadline as JSON) as ledger entries, soonest first."""
    entries = []
    for name, d in deadlines.items():
        entries.append(
            {
                "name": name,
                "due_at": d["due_at"],
                "due_date": d.get("due_date"),
                "outcome": d.get("outcome", "pending"),
                "provisional": bool(d.get("provisional", False)),
            }
        )
    return sorted(entries, key=lambda e: e["due_at"])


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- the ledger row ----------------------------------------------------------------------------------


@dataclass
class LedgerSummary:
    complaint_count: int
    complainant_count: int
    workers_affected: int
    amount_claimed: Decimal
    amount_verified: Decimal | None
    amount_recovered: Decimal
    classification: str | None
    outcome: str | None
    stage: str
    status: str
    closure_reason: str | None
    closed_at: datetime | None
    deadlines: list[dict[str, Any]]
    next_deadline: datetime | None
    overdue: bool
    stage_times: dict[str, str]
    process_case_ids: list[str]
    received_at: datetime


def summarize(
    complaints: Sequence[Mapping[str, Any]],
    processes: Sequence[Mapping[str, Any]],
    recovered: Mapping[str, Decimal],
    opened_at: datetime | None = None,
) -> LedgerSummary:
    """Sum a ledger case up from its complaints and the case processes (workflows) it holds.

    `opened_at`: when an early-warning case was opened on its warning, before any complaint or process; it is
    the case's receipt (a complaint case is received with its first complaint, else its first process).

    `recovered` maps each process case id to the amount paid under it. A case's stage is the stage of its
    earliest open process; without one, the earliest stage any open complaint is in.
    """
    if not complaints and not processes:
        raise ValueError("a ledger case needs at least one complaint or process")
    counted = [c for c in complaints if c.get("closure_reason") not in NOT_COUNTED]
    refs = {c.get("complainant_ref") or c["complaint_id"] for c in counted}
    processes = sorted(processes, key=lambda p: (_as_datetime(p["opened_at"]), p["process_case_id"]))
    open_processes = [p for p in processes if p["status"] == "open"]
    primary = open_processes[0] if open_processes else (processes[-1] if processes else None)

    verified = [p["amount_verified"] for p in processes if p.get("amount_verified") is not None]
    workers_verified = [p["workers_verified"] for p in processes if p.get("workers_verified") is not None]
    workers_claimed = sum(int(c["workers_affected"]) for c in counted)
    amount_claimed = sum((Decimal(c["amount_owed"]) for c in counted), Decimal(0))

    open_complaints = [c for c in complaints if c["status"] == "open"]
    waiting = {c["stage"] for c in open_complaints}
    if open_processes:
        stage = open_processes[0]["stage"]
    elif "awaiting_acceptance" in waiting:
        stage = "acceptance"
    elif "awaiting_information" in waiting:
        stage = "information"
    elif "in_case" in waiting:
        stage = "verification"
    else:
        stage = "closed"
    status = "closed" if stage == "closed" else "open"

    closure_reason = None
    closed_at = None
    if status == "closed":
        ended = [(p.get("closed_at"), p.get("closure_reason")) for p in processes if p.get("closed_at")]
        ended += [(c.get("closed_at"), c.get("closure_reason")) for c in complaints if c.get("closed_at")]
        if ended:
            closed_at, closure_reason = max(ended, key=lambda e: _as_datetime(e[0]))
            closed_at = _as_datetime(closed_at)

    deadlines: list[dict[str, Any]] = []
    for c in open_complaints:
        for d in c.get("deadlines") or []:
            deadlines.append({**d, "subject": f"complaint:{c['complaint_id']}"})
    for p in open_processes:
        for d in p.get("deadlines") or []:
            deadlines.append({**d, "subject": f"case:{p['process_case_id']}"})
    deadlines.sort(key=lambda d: _as_datetime(d["due_at"]))
    pending = [_as_datetime(d["due_at"]) for d in deadlines if d.get("outcome", "pending") == "pending"]

    overdue = any(c.get("overdue") for c in open_complaints) or any(
        p.get("overdue") or p.get("investigation_overdue") for p in open_processes
    )

    received = [_as_datetime(c["submitted_at"]) for c in complaints] + ([opened_at] if opened_at else [])
    received_at = min(received or [_as_datetime(p["opened_at"]) for p in processes])
    times: dict[str, datetime] = {"received": received_at}
    decided = [
        _as_datetime(c["decided_at"]) for c in complaints if c.get("decision") == "accept" and c.get("decided_at")
    ]
    if decided:
        times["accepted"] = min(decided)
    for p in processes:
        for name, at in (p.get("stage_times") or {}).items():
            at_dt = _as_datetime(at)
            if name not in times or at_dt < times[name]:
                times[name] = at_dt
    if closed_at is not None:
        times["closed"] = closed_at

    return LedgerSummary(
        complaint_count=len(complaints),
        complainant_count=len(refs),
        workers_affected=sum(workers_verified) if workers_verified else workers_claimed,
        amount_claimed=amount_claimed,
        amount_verified=sum(verified, Decimal(0)) if verified else None,
        amount_recovered=sum(recovered.values(), Decimal(0)),
        classification=primary.get("classification") if primary else None,
        outcome=primary.get("outcome") if primary else None,
        stage=stage,
        status=status,
        closure_reason=closure_reason,
        closed_at=closed_at,
        deadlines=deadlines,
        next_deadline=min(pending) if pending else None,
        overdue=bool(overdue),
        stage_times={k: v.isoformat() for k, v in sorted(times.items(), key=lambda kv: kv[1])},
        # A process merged into another's handed its complaints over: actions go to the survivor.
        process_case_ids=[p["process_case_id"] for p in processes if p.get("closure_reason") != "merged"],
        received_at=received_at,
    )


# --- which process an action goes to -----------------------------------------------------------------------


def target_process(process_ids: Sequence[str], requested: str | None) -> str:
    """The case workflow a case-level action goes to: the only one, or the one the inspector names
    (`Refused` when there is none, or the request names none of several or one the case does not hold)."""
    if requested is not None:
        if requested not in process_ids:
            raise Refused(
                "Unknown case process",
                f"process_case_id {requested} is not part of this case (it holds: {', '.join(process_ids) or 'none'})",
                request_at_fault=True,
            )
        return requested
    if not process_ids:
        raise Refused(
            "The case has no investigation yet",
            "案件尚无已受理的投诉，调查流程未开始 (no complaint of this case has been accepted yet, so there is "
            "no case process to act on)",
        )
    if len(process_ids) > 1:
        raise Refused(
            "Name the case process",
            "this case was merged and holds several case processes; name one with process_case_id: "
            + ", ".join(process_ids),
            request_at_fault=True,
        )
    return process_ids[0]
