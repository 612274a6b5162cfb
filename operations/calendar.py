"""`anxin calendar load FILE` and `anxin calendar status`: entering a year's official calendar, and which open
processes still count on the provisional fallback.

`load` reads one or more years (TOML or JSON, the shape of the configuration's `calendar.years`), checks them
as a service checks its configuration at start (services/contracts/official_calendar.py) — a refusal
changes nothing — then writes them into `calendar.toml` beside the lifecycle configuration
(services/common/lifecycle_config.py), where every service reads them: new complaints carry them, the
referrals and sanctions services count their own periods with them. Last, every running workflow that keeps
deadlines of its own gets the whole calendar in the `calendar_updated` signal, found through the visibility
store (`WorkflowType = … AND ExecutionStatus = 'Running'`): complaints and cases recompute their provisional
deadlines (workflows/deadlines.py), blacklist listings their defence period
(services/sanctions/defence_period.py), referral follow-ups the period they wait for
(services/referrals/follow_up.py, counted again by the referrals service: later if the entered year says so,
never earlier than the date the receiving body was told — an arbitration award limit counted on a guessed
Spring Festival, for one), and the ladders against projects the wait before their next letter
(services/referrals/project_ladder.py, the same way).

`status` asks each running complaint, case and listing for its status and lists the pending deadlines still
marked provisional, with the years the calendar package and the configuration cover.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from rich.table import Table
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from operations.i18n import _
from operations.views import wrapping_table
from services.common.lifecycle_config import (
    calendar_file_path,
    load_lifecycle_config,
    parse_calendar_years,
    read_calendar_file,
)
from services.common.settings import CommonSettings
from services.contracts.lifecycle import (
    CASE_WORKFLOW_TYPE,
    COMPLAINT_WORKFLOW_TYPE,
    CalendarConfig,
    CalendarYear,
    CaseStatus,
    ComplaintStatus,
    Queries,
    Signals,
)
from services.contracts.official_calendar import check_entered_years
from services.contracts.sanctions_workflows import BLACKLIST_WORKFLOW_TYPE, ListingStage, ListingStatus
from services.contracts.working_days import installed_package
from services.referrals.follow_up import FOLLOW_UP_WORKFLOW_TYPE
from services.referrals.project_ladder import PROJECT_LADDER_WORKFLOW_TYPE

# The workflows that keep deadlines of their own and recompute them on `calendar_updated`, by what they are.
SIGNALLED: dict[str, str] = {
    "complaints": COMPLAINT_WORKFLOW_TYPE,
    "cases": CASE_WORKFLOW_TYPE,
    "blacklist listings": BLACKLIST_WORKFLOW_TYPE,
    "referral follow-ups": FOLLOW_UP_WORKFLOW_TYPE,
    "project letter ladders": PROJECT_LADDER_WORKFLOW_TYPE,
}
STATUS_TYPES: dict[str, type[ComplaintStatus] | type[CaseStatus] | type[ListingStatus]] = {
    COMPLAINT_WORKFLOW_TYPE: ComplaintStatus,
    CASE_WORKFLOW_TYPE: CaseStatus,
    BLACKLIST_WORKFLOW_TYPE: ListingStatus,
}
QUERY_TIMEOUT = timedelta(seconds=10)


def running(workflow_type: str) -> str:
    return f"WorkflowType = '{workflow_type}' AND ExecutionStatus = 'Running'"


# --- load ---------------------------------------------------------------------------------------------------


@dataclass
class PreparedLoad:
    """What `load` will write and send, checked; nothing is changed yet."""

    calendar_file: Path
    years: list[CalendarYear]  # every year the file will hold
    loaded: list[int]
    replaced: list[int]  # loaded years the file held before (a corrected arrangement)
    calendar: CalendarConfig  # the whole configured calendar, as the services will read it


def prepare_load(settings: CommonSettings, text: str, source: str) -> PreparedLoad:
    """Check the years in `text` and the configuration they would make; a ValueError says why not."""
    loaded = parse_calendar_years(text, source)
    check_entered_years(CalendarConfig(years=loaded), source)
    calendar_file = calendar_file_path(settings)
    kept = {entry.year: entry for entry in read_calendar_file(calendar_file)}
    replaced = sorted(entry.year for entry in loaded if entry.year in kept)
    kept.update({entry.year: entry for entry in loaded})
    years = [kept[year] for year in sorted(kept)]
    config = load_lifecycle_config(settings, calendar_years=years)
    return PreparedLoad(calendar_file, years, sorted(e.year for e in loaded), replaced, config.calendar)


def calendar_file_text(years: list[CalendarYear]) -> str:
    def dates(days: list[date]) -> str:
        rows = [", ".join(d.isoformat() for d in days[i : i + 7]) for i in range(0, len(days), 7)]
        return "[]" if not days else "[\n" + "".join(f"  {row},\n" for row in rows) + "]"

    lines = [
        "# The official calendar years loaded with `anxin calendar load`; written by that command, read by every",
        "# service beside the lifecycle configuration (services/common/lifecycle_config.py). Each entry replaces",
        "# the calendar package's data for its year.",
    ]
    for entry in years:
        lines += [
            "",
            "[[years]]",
            f"year = {entry.year}",
            f"holidays = {dates(sorted(entry.holidays))}",
            f"make_up_workdays = {dates(sorted(entry.make_up_workdays))}",
        ]
    return "\n".join(lines) + "\n"


def write_calendar_file(prepared: PreparedLoad) -> None:
    """Replace the calendar file in one step: a service reading it sees the old file or the new one."""
    path = prepared.calendar_file
    descriptor, temporary = tempfile.mkstemp(prefix=".calendar-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(calendar_file_text(prepared.years))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass
class Signalled:
    signalled: int = 0
    finished: int = 0  # ended between the listing and the signal
    failed: list[str] = field(default_factory=list)


async def signal_open_workflows(
    client: Client, calendar: CalendarConfig, concurrency: int = 16
) -> dict[str, Signalled]:
    """Send `calendar_updated` with `calendar` to every running workflow of the kinds in SIGNALLED."""
    limit = asyncio.Semaphore(concurrency)
    results: dict[str, Signalled] = {}

    async def one(counts: Signalled, workflow_id: str) -> None:
        async with limit:
            try:
                await client.get_workflow_handle(workflow_id).signal(Signals.CALENDAR_UPDATED, calendar)
                counts.signalled += 1
            except RPCError as exc:
                if exc.status is RPCStatusCode.NOT_FOUND:
                    counts.finished += 1
                else:
                    counts.failed.append(f"{workflow_id}: {exc}"[:300])

    for kind, workflow_type in SIGNALLED.items():
        counts = results[kind] = Signalled()
        ids = [execution.id async for execution in client.list_workflows(running(workflow_type))]
        await asyncio.gather(*(one(counts, workflow_id) for workflow_id in ids))
    return results


async def count_running(client: Client, workflow_type: str) -> int:
    return (await client.count_workflows(running(workflow_type))).count


# --- status -------------------------------------------------------------------------------------------------


@dataclass
class ProvisionalDeadline:
    workflow_id: str
    deadline: str
    due_date: date | None
    note: str


@dataclass
class CalendarStatus:
    package_years: tuple[int, int]
    configured_years: list[int]
    fallback_from: int  # the first year after the package's that nobody entered: provisional
    examined: int = 0
    provisional: list[ProvisionalDeadline] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)


def provisional_in(workflow_id: str, status: ComplaintStatus | CaseStatus | ListingStatus) -> list[ProvisionalDeadline]:
    if isinstance(status, ListingStatus):
        waiting = status.stage in (ListingStage.NOTICE, ListingStage.DEFENCE)
        if waiting and status.defence_due_provisional:
            return [ProvisionalDeadline(workflow_id, "defence", status.defence_due_date, "")]
        return []
    return [
        ProvisionalDeadline(workflow_id, name, d.due_date, d.calendar_note or "")
        for name, d in status.deadlines.items()
        if d.provisional and d.outcome == "pending"
    ]


async def calendar_status(
    client: Client, settings: CommonSettings, *, limit: int, concurrency: int = 16
) -> CalendarStatus:
    package = installed_package()
    configured = sorted(y.year for y in load_lifecycle_config(settings).calendar.years)
    fallback_from = max(package.years) + 1
    while fallback_from in configured:
        fallback_from += 1
    result = CalendarStatus((min(package.years), max(package.years)), configured, fallback_from)
    gate = asyncio.Semaphore(concurrency)

    async def one(
        workflow_id: str, result_type: type[ComplaintStatus] | type[CaseStatus] | type[ListingStatus]
    ) -> None:
        async with gate:
            try:
                status = await client.get_workflow_handle(workflow_id).query(
                    Queries.STATUS, result_type=result_type, rpc_timeout=QUERY_TIMEOUT
                )
            except (RPCError, WorkflowQueryFailedError) as exc:
                result.unanswered.append(f"{workflow_id}: {exc}"[:300])
                return
            result.examined += 1
            result.provisional += provisional_in(workflow_id, status)

    for workflow_type, result_type in STATUS_TYPES.items():
        ids = [e.id async for e in client.list_workflows(running(workflow_type), limit=limit)]
        await asyncio.gather(*(one(workflow_id, result_type) for workflow_id in ids))
    result.provisional.sort(key=lambda p: (p.due_date or date.max, p.workflow_id, p.deadline))
    return result


# --- what the operator is told --------------------------------------------------------------------------------


def load_report(prepared: PreparedLoad, counts: dict[str, Signalled]) -> list[str]:
    years = ", ".join(map(str, prepared.loaded))
    replacing = (
        _(" (replacing the earlier {years})").format(years=", ".join(map(str, prepared.replaced)))
        if prepared.replaced
        else ""
    )
    lines = [
        _(
            "{years} written to {file}{replacing}; the services read it from their next use on, new complaints carry it"
        ).format(years=years, file=prepared.calendar_file, replacing=replacing)
    ]
    lines.append(
        _("signalled calendar_updated: {counts}").format(
            counts=", ".join(f"{c.signalled} {kind}" for kind, c in counts.items())
        )
    )
    finished = sum(c.finished for c in counts.values())
    if finished:
        lines.append(_("{count} finished before their signal").format(count=finished))
    lines += [_("not signalled: {failure}").format(failure=failure) for c in counts.values() for failure in c.failed]
    return lines


def status_report(status: CalendarStatus) -> list[str | Table]:
    first, last = status.package_years
    configured = ", ".join(map(str, status.configured_years)) or _("none")
    parts: list[str | Table] = [
        _(
            "calendar package {first}–{last}; configured {configured}; provisional from "
            "{fallback_from} (weekdays less the statutory holidays)"
        ).format(first=first, last=last, configured=configured, fallback_from=status.fallback_from)
    ]
    if status.provisional:
        due = _("due (provisional)")
        table = wrapping_table(_("workflow"), _("deadline"), due, _("note"), whole=(due,), wide=(_("note"),))
        for row in status.provisional:
            table.add_row(row.workflow_id, row.deadline, str(row.due_date or ""), row.note)
        parts.append(table)
    parts += [_("[yellow]no answer:[/] {line}").format(line=line) for line in status.unanswered]
    parts.append(
        _("{examined} open workflows asked, {provisional} provisional deadlines").format(
            examined=status.examined, provisional=len(status.provisional)
        )
    )
    return parts
