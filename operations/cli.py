"""`anxin`: the operator's and clerk's command line.

    anxin stack status                 which engines and processes of the local stack are up
    anxin case show ID                 a complaint's (TS-…) or case's (C-…) whole story, and what it waits for
    anxin stuck                        parked steps, workflows past a deadline, activities failing, events set aside
    anxin case retry ID                retry a step its service refused (parked), once the cause is fixed
    anxin redeliver EVENT_ID…          hand events set aside back to their consumers, once the cause is fixed
    anxin replay [--query Q]           replay workflow histories against the current code (before a deploy)
    anxin audit ledger [--fix]         compare the ledger and the listings with every open (and recently closed) workflow
    anxin audit verify [--service S]   walk each service's audit chain: the first changed or missing row, or intact
    anxin trace ID                     the spans of the traces that touched a complaint, case or trace id
    anxin clues import FILE            import clues (JSON lines or CSV) through intake, with a progress bar
    anxin calendar load FILE           enter a year's official holidays: checked, kept for the services, sent to open workflows
    anxin calendar status              the years the calendar covers, and open deadlines still provisional
    anxin migrate [--service NAME]     apply the schemas' migrations and grant the runtime roles (before the processes start)
    anxin users add ID --name N --role R [--county C] [--totp]   a person's account for the console (at the issuer)
    anxin users disable ID / list      disable an account (no more tokens) / every account, without secrets

Agency commands get a token with client credentials: `--client-id/--client-secret` (or ANXIN_CLIENT_ID /
ANXIN_CLIENT_SECRET); on a development stack the clients made by `make run` are used by default.

Every command that only reads (stack status, case show, stuck, audit ledger, audit verify, trace, replay,
calendar status) takes `--json`: one JSON document on standard output instead of tables, in the shapes of
`operations/json_shapes.py`. Tables wrap to the terminal's width (`operations/views.py`).

This module wires the commands together and holds `stack status`, `replay` and `trace`; the others are in modules
of their own, one per group: `case_cli.py` (case show, case retry, stuck), `clues_cli.py`, `ledger_audit_cli.py`
(audit ledger), `audit_chain_cli.py` (audit verify), `calendar_cli.py`, `migrate_cli.py`, `redeliver_cli.py` and
`users_cli.py`, on what they share in `cli_support.py`.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from operations.audit_chain_cli import verify_command
from operations.calendar_cli import calendar_app
from operations.case_cli import case_app, stuck_command
from operations.cli_support import (
    DATA_DIR,
    JsonOption,
    console,
    development_stack,
    operator_settings,
    status_console,
    temporal_client,
)
from operations.clues_cli import clues_app
from operations.i18n import _, command, translate_help_panels
from operations.ledger_audit_cli import audit_ledger_command
from operations.migrate_cli import migrate_command
from operations.redeliver_cli import redeliver_command
from operations.users_cli import users_app
from operations.views import print_json, wrapping_table
from services.common.temporal import exit_program

translate_help_panels()
app = typer.Typer(help=_("Anxin (安薪) operator and clerk commands."), no_args_is_help=True)
stack_app = typer.Typer(help=_("The local stack."), no_args_is_help=True)
audit_app = typer.Typer(help=_("Consistency checks."), no_args_is_help=True)
app.add_typer(stack_app, name="stack")
app.add_typer(clues_app, name="clues")
app.add_typer(case_app, name="case")
app.add_typer(audit_app, name="audit")
app.add_typer(calendar_app, name="calendar")
app.add_typer(users_app, name="users")
# In the order `anxin --help` lists them: the commands of their own modules first, then replay and trace below.
command(app, "migrate")(migrate_command)
command(app, "redeliver")(redeliver_command)
command(app, "stuck")(stuck_command)
command(audit_app, "verify")(verify_command)
command(audit_app, "ledger")(audit_ledger_command)


@command(stack_app, "status")
def stack_status(as_json: JsonOption = False) -> None:
    """Show each engine and process of the local stack and whether it is ready."""
    from deploy.engines import port_open

    stack = development_stack()
    engines = [
        {"name": name, "where": f"127.0.0.1:{port}", "up": port_open("127.0.0.1", port)}
        for name, port in (
            ("PostgreSQL", stack.ports.postgres),
            ("Temporal", stack.ports.temporal),
            ("Kafka", stack.ports.kafka),
        )
    ]
    processes = stack.status()
    if as_json:
        print_json({"engines": engines, "processes": processes})
        return
    table = wrapping_table(_("component"), _("where"), _("state"), whole=(_("state"),))
    for engine in engines:
        table.add_row(
            str(engine["name"]), str(engine["where"]), _("[green]up[/]") if engine["up"] else _("[red]down[/]")
        )
    for row in processes:
        state = (
            _("[green]ready[/]")
            if row["ready"]
            else _("[red]down[/]")
            if row["http"] is None
            else _("[yellow]not ready[/]")
        )
        table.add_row(str(row["name"]), str(row["url"]), state)
    console.print(table)


@command(app, "replay")
def replay_command(
    query: Annotated[str | None, typer.Option(help=_("visibility query, e.g. \"ExecutionStatus='Running'\""))] = None,
    limit: Annotated[int, typer.Option(help=_("histories to replay"))] = 100,
    as_json: JsonOption = False,
) -> None:
    """Fetch histories of running or closed workflows and replay them against the current code."""
    from operations.operator import replay

    workflows = all_workflow_types()

    async def run() -> int:
        client = await temporal_client(operator_settings())
        with Progress(TextColumn(_("[bold]replaying")), BarColumn(), MofNCompleteColumn(), console=status_console):
            results = await replay(client, workflows, query=query, limit=limit)
        failed = [r for r in results if r["result"] != "ok"]
        if as_json:
            print_json({"replayed": len(results), "failed": len(failed), "results": results})
            return 1 if failed else 0
        for row in failed:
            console.print(f"[red]{row['workflow_id']}[/] {row['result']}")
        console.print(_("{replayed} replayed, {failed} failed").format(replayed=len(results), failed=len(failed)))
        return 1 if failed else 0

    raise typer.Exit(asyncio.run(run()))


def all_workflow_types() -> list[type]:
    """Every workflow definition of the project: the lifecycle's and those the services host themselves.
    (Operator tooling is the one place that knows them all.)"""
    from services.cases.report_workflow import ReportWorkflow
    from services.referrals.follow_up import ReferralFollowUpWorkflow
    from services.sanctions.blacklist import BlacklistWorkflow
    from workflows.worker import WORKFLOWS

    return [*WORKFLOWS, BlacklistWorkflow, ReferralFollowUpWorkflow, ReportWorkflow]


@command(app, "trace")
def trace_command(
    subject: Annotated[str, typer.Argument(help=_("complaint number, case id or trace id"))],
    as_json: JsonOption = False,
) -> None:
    """The spans (from the local trace files) of every trace that touched the complaint, case or trace."""
    from operations.operator import spans_for

    spans = spans_for(DATA_DIR, subject)
    if as_json:
        print_json({"subject": subject, "spans": spans})
        return
    table = wrapping_table(
        _("start"), _("process"), _("span"), _("trace"), whole=(_("start"), _("trace")), wide=(_("span"),)
    )
    for span in spans:
        table.add_row(
            span["start_time"][11:23],
            span["resource"]["attributes"].get("service.name", "?"),
            span["name"],
            span["context"]["trace_id"][2:10],
        )
    console.print(
        table
        if spans
        else _("no spans mention {subject} under {folder}").format(subject=subject, folder=DATA_DIR / "traces")
    )


def main() -> None:
    # Commands that used a Temporal client end without the interpreter's finalization (exit_program says why).
    try:
        app()
    except SystemExit as done:
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
        exit_program(done.code if isinstance(done.code, int) else (0 if done.code is None else 1))
    exit_program(0)


if __name__ == "__main__":
    main()
