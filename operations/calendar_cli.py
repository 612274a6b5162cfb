"""`anxin calendar`: the official working-day calendar — a year entered (checked, kept for the services, sent to
every open workflow) and what is still counted on the fallback."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from operations.cli_support import JsonOption, console, operator_settings, status_console, temporal_client
from operations.i18n import _, command
from operations.views import print_json

calendar_app = typer.Typer(help=_("The official working-day calendar."), no_args_is_help=True)


@command(calendar_app, "load")
def calendar_load(
    file: Annotated[Path, typer.Argument(exists=True, readable=True, help=_("years as .toml or .json"))],
) -> None:
    """Enter official calendar years (the configuration's `calendar.years` shape): checked, written to
    calendar.toml beside the lifecycle configuration, then sent to every open complaint, case, blacklist
    listing and referral follow-up (`calendar_updated`), which recompute their pending deadlines. A refusal writes and sends nothing."""
    from operations import calendar as official

    settings = operator_settings()
    try:
        prepared = official.prepare_load(settings, file.read_text(encoding="utf-8-sig"), str(file))
    except ValueError as exc:
        console.print(_("[red]refused; nothing written, nothing sent:[/] {reason}").format(reason=exc))
        raise typer.Exit(1) from None

    async def run() -> int:
        client = await temporal_client(settings)  # before writing: a calendar written must also reach the workflows
        official.write_calendar_file(prepared)
        with console.status(_("signalling open workflows…")):
            counts = await official.signal_open_workflows(client, prepared.calendar)
        for line in official.load_report(prepared, counts):
            console.print(line)
        return 1 if any(c.failed for c in counts.values()) else 0

    raise typer.Exit(asyncio.run(run()))


@command(calendar_app, "status")
def calendar_status_command(
    limit: Annotated[int, typer.Option(help=_("open workflows to ask, per kind"))] = 5000, as_json: JsonOption = False
) -> None:
    """The years the calendar package and the configuration cover, and every pending deadline of an open
    complaint, case or blacklist listing still counted on the fallback (provisional)."""
    from operations.calendar import calendar_status, status_report

    async def run() -> None:
        settings = operator_settings()
        client = await temporal_client(settings)
        with status_console.status(_("asking the open workflows…")):
            status = await calendar_status(client, settings, limit=limit)
        if as_json:
            print_json(status)
            return
        for part in status_report(status):
            console.print(part)

    asyncio.run(run())
