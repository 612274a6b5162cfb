"""`anxin audit ledger`: the case ledger and the blacklist listings compared with their workflows
(`ledger_audit.py`, `listing_audit.py`), each disagreement printed, and with --fix the workflows asked to report
their state again. Registered under `anxin audit` by `cli.py`."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from operations.cli_support import (
    JsonOption,
    console,
    operator_settings,
    service_database_urls,
    status_console,
    temporal_client,
)
from operations.i18n import _
from operations.views import print_json


def audit_ledger_command(
    fix: Annotated[
        bool, typer.Option("--fix", help=_("ask each disagreeing workflow to report its state again"))
    ] = False,
    closed_within_days: Annotated[int, typer.Option(help=_("also check processes closed this many days ago"))] = 7,
    settle: Annotated[float, typer.Option(help=_("seconds between re-reads of a disagreement in flight"))] = 3.0,
    case: Annotated[
        list[str] | None,
        typer.Option(
            "--case", help=_("only this ledger case (repeatable; listings are then not audited)"), show_default=False
        ),
    ] = None,
    listing: Annotated[
        list[str] | None,
        typer.Option(
            "--listing",
            help=_("only this blacklist listing (repeatable; the ledger is then not audited)"),
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Compare every open (and recently closed) complaint and case in the ledger, and every blacklist listing
    not final (or changed recently) in the sanctions service, with its workflow.

    Prints each disagreement (stage, status, deadlines, overdue, amounts, listing dates); exit code 1 when
    any remains. With --fix the workflows are asked to report their state again; no record is written from here.
    """
    from datetime import timedelta

    from operations.ledger_audit import Disagreement, audit_ledger
    from operations.listing_audit import audit_listings

    async def run() -> int:
        client = await temporal_client(operator_settings())
        urls = service_database_urls()
        within = timedelta(days=closed_within_days)
        compared, found = 0, []
        with status_console.status(_("comparing the ledger and the listings with the workflows…")):
            audits: list[tuple[str, tuple[int, list[Disagreement]]]] = []
            if not listing:
                audits.append(
                    (
                        "processes",
                        await audit_ledger(
                            client,
                            urls["cases"],
                            closed_within=within,
                            case_ids=set(case) if case else None,
                            settle_seconds=settle,
                            fix=fix,
                        ),
                    )
                )
            if not case:
                audits.append(
                    (
                        "listings",
                        await audit_listings(
                            client,
                            urls["sanctions"],
                            changed_within=within,
                            listing_ids=set(listing) if listing else None,
                            settle_seconds=settle,
                            fix=fix,
                        ),
                    )
                )
        for _what, (count, disagreeing) in audits:
            compared += count
            found += disagreeing
        if as_json:
            print_json(
                {
                    "compared": compared,
                    "fix": fix,
                    "disagreements": found,
                    "audits": [
                        {"what": what, "compared": count, "disagree": len(disagreeing)}
                        for what, (count, disagreeing) in audits
                    ],
                }
            )
            return 1 if found else 0
        for what, (count, disagreeing) in audits:
            label = {"processes": _("processes"), "listings": _("listings")}[what]
            console.print(
                _("{count} {what} compared, {disagree} disagree").format(
                    count=count, what=label, disagree=len(disagreeing)
                )
            )
        for d in found:
            console.print(
                f"[bold]{d.workflow_id}[/bold] "
                + _("(case {case_id})").format(case_id=d.case_id)
                + ("" if d.running else _(" — workflow finished or missing: cannot report again"))
            )
            for line in d.differences:
                console.print(f"  {line}")
        console.print(_("{compared} compared, {disagree} disagree").format(compared=compared, disagree=len(found)))
        return 1 if found else 0

    raise typer.Exit(asyncio.run(run()))
