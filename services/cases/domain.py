"""The cases service's rules, free of I/O: how a ledger case is summed up from its complaints and its
process, which process an action goes to, scope, periods and the report figures."""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from services.common.auth import Principal, Role
from services.common.errors import Refused
from services.contracts.legal_time import CHINA_TZ
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
) -> LedgerSummary:
    """Sum a ledger case up from its complaints and the case processes (workflows) it holds.

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

    received_at = min(
        [_as_datetime(c["submitted_at"]) for c in complaints]
        or [_as_datetime(p["opened_at"]) for p in processes]
    )
    times: dict[str, datetime] = {"received": received_at}
    decided = [_as_datetime(c["decided_at"]) for c in complaints if c.get("decision") == "accept" and c.get("decided_at")]
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


# --- periods ---------------------------------------------------------------------------------------------

PeriodKind = Literal["daily", "weekly", "quarterly"]


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    start: date  # inclusive
    end: date  # exclusive

    @property
    def label(self) -> str:
        if self.kind == "quarterly":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "weekly":
            iso = self.start.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        return self.start.isoformat()

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as instants: whole legal days in China Standard Time."""
        return (
            datetime.combine(self.start, datetime.min.time(), CHINA_TZ),
            datetime.combine(self.end, datetime.min.time(), CHINA_TZ),
        )


def period_containing(kind: PeriodKind, day: date) -> Period:
    if kind == "daily":
        return Period(kind, day, day + timedelta(days=1))
    if kind == "weekly":
        start = day - timedelta(days=day.weekday())
        return Period(kind, start, start + timedelta(days=7))
    first_month = (day.month - 1) // 3 * 3 + 1
    start = date(day.year, first_month, 1)
    end = date(day.year + 1, 1, 1) if first_month == 10 else date(day.year, first_month + 3, 1)
    return Period(kind, start, end)


def previous_period(kind: PeriodKind, day: date) -> Period:
    """The last complete period before `day` (what a schedule firing on `day` reports)."""
    current = period_containing(kind, day)
    return period_containing(kind, current.start - timedelta(days=1))


def parse_period(kind: PeriodKind, label: str) -> Period:
    """'2026-11-28' (daily), '2026-W48' (weekly) or '2026-Q4' (quarterly)."""
    try:
        if kind == "quarterly":
            year, quarter = label.split("-Q")
            q = int(quarter)
            if not 1 <= q <= 4:
                raise ValueError
            return period_containing(kind, date(int(year), 3 * q - 2, 1))
        if kind == "weekly":
            year, week = label.split("-W")
            return period_containing(kind, date.fromisocalendar(int(year), int(week), 1))
        return period_containing(kind, date.fromisoformat(label))
    except ValueError:
        examples = {"daily": "2026-11-28", "weekly": "2026-W48", "quarterly": "2026-Q4"}
        raise ValueError(f"period {label!r} is not a {kind} period such as {examples[kind]}") from None


# --- report figures ----------------------------------------------------------------------------------------

FIGURES = (
    "clues_received",
    "accepted",
    "confirmed_arrears",
    "resolved",
    "resolved_on_time",
    "on_time_rate",
    "amount_recovered",
    "workers_helped",
    "handoffs_overdue",
    "criminal_referrals",
    "blacklist_entries",
)

FIGURE_LABELS = {
    "clues_received": "收到线索",
    "accepted": "受理",
    "confirmed_arrears": "确属欠薪",
    "resolved": "办结",
    "resolved_on_time": "按时办结",
    "on_time_rate": "时限办结率",
    "amount_recovered": "追回金额(元)",
    "workers_helped": "惠及工人",
    "handoffs_overdue": "交办超期",
    "criminal_referrals": "移送公安",
    "blacklist_entries": "列入失信名单",
}


@dataclass
class Figures:
    clues_received: int = 0
    accepted: int = 0
    confirmed_arrears: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    amount_recovered: Decimal = Decimal(0)
    workers_helped: int = 0
    handoffs_overdue: int = 0
    criminal_referrals: int = 0
    blacklist_entries: int = 0

    @property
    def on_time_rate(self) -> Decimal | None:
        if not self.resolved:
            return None
        return (Decimal(self.resolved_on_time) / Decimal(self.resolved)).quantize(Decimal("0.0001"))

    def add(self, other: Figures) -> None:
        for name in ("clues_received", "accepted", "confirmed_arrears", "resolved", "resolved_on_time",
                     "amount_recovered", "workers_helped", "handoffs_overdue", "criminal_referrals",
                     "blacklist_entries"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, Any]:
        rate = self.on_time_rate
        return {
            "clues_received": self.clues_received,
            "accepted": self.accepted,
            "confirmed_arrears": self.confirmed_arrears,
            "resolved": self.resolved,
            "resolved_on_time": self.resolved_on_time,
            "on_time_rate": str(rate) if rate is not None else None,
            "amount_recovered": str(self.amount_recovered.quantize(Decimal("0.01"))),
            "workers_helped": self.workers_helped,
            "handoffs_overdue": self.handoffs_overdue,
            "criminal_referrals": self.criminal_referrals,
            "blacklist_entries": self.blacklist_entries,
        }


@dataclass
class ReportFacts:
    """What the store counts for one period, per county (PostgreSQL counts; a quarter of a big city is
    hundreds of thousands of rows, which are not worth carrying to Python one by one)."""

    received: Counter[str] = field(default_factory=Counter)  # complaints received
    accepted: Counter[str] = field(default_factory=Counter)  # complaints accepted
    confirmed: Counter[str] = field(default_factory=Counter)  # case processes verified as arrears
    resolved: Counter[tuple[str, bool]] = field(default_factory=Counter)  # complaints closed, by (county, on time)
    recovered: dict[str, Decimal] = field(default_factory=dict)  # sum of the payments recorded
    helped: Counter[str] = field(default_factory=Counter)  # workers helped by cases paid and closed
    facts: Counter[tuple[str, str]] = field(default_factory=Counter)  # dated case facts, by (county, kind)


FACT_FIGURE = {
    "handoff_overdue": "handoffs_overdue",
    "criminal_referral": "criminal_referrals",
    "blacklist": "blacklist_entries",
}


def compute_figures(facts: ReportFacts) -> dict[str, Figures]:
    """Figures per county."""
    by_county: dict[str, Figures] = {}

    def of(county: str) -> Figures:
        return by_county.setdefault(county, Figures())

    for county, n in facts.received.items():
        of(county).clues_received += n
    for county, n in facts.accepted.items():
        of(county).accepted += n
    for county, n in facts.confirmed.items():
        of(county).confirmed_arrears += n
    for (county, on_time), n in facts.resolved.items():
        of(county).resolved += n
        of(county).resolved_on_time += n if on_time else 0
    for county, amount in facts.recovered.items():
        of(county).amount_recovered += Decimal(amount)
    for county, workers in facts.helped.items():
        of(county).workers_helped += workers
    for (county, kind), n in facts.facts.items():
        name = FACT_FIGURE.get(kind)
        if name:
            setattr(of(county), name, getattr(of(county), name) + n)
    return by_county


def report_rows(by_county: Mapping[str, Figures]) -> list[dict[str, Any]]:
    """One row per county, then one per city (the sum of its counties), counties in code order."""
    rows: list[dict[str, Any]] = []
    cities: dict[str, Figures] = {}
    for county in sorted(by_county):
        rows.append({"level": "county", "area": county, **by_county[county].as_dict()})
        cities.setdefault(city_of(county), Figures()).add(by_county[county])
    for city in sorted(cities):
        rows.append({"level": "city", "area": city, **cities[city].as_dict()})
    return rows


REPORT_HEADERS = (["period", "level", "area", *FIGURES], ["期间", "层级", "地区", *(FIGURE_LABELS[f] for f in FIGURES)])


def report_table(label: str, rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """The report's data rows, one per county and city, in the order of `REPORT_HEADERS`; amounts and rates as
    decimals (a stored report's JSON keeps them as strings)."""
    return [[label, row["level"], row["area"], *(_figure(row[f]) for f in FIGURES)] for row in rows]


def _figure(value: Any) -> Any:
    return Decimal(value) if isinstance(value, str) else value


def report_csv(period: Period, rows: Sequence[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(REPORT_HEADERS)
    writer.writerows([["" if v is None else v for v in row] for row in report_table(period.label, rows)])
    return out.getvalue()
