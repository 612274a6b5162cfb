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
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from operations.audit_chain_cli import verify_command
from operations.calendar_cli import calendar_app
from operations.cli_support import (
    DATA_DIR,
    JsonOption,
    agency_token,
    console,
    development_stack,
    operator_settings,
    service_database_urls,
    status_console,
    temporal_client,
)
from operations.i18n import _, command, translate_help_panels
from operations.migrate_cli import migrate_command
from operations.redeliver_cli import redeliver_command
from operations.users_cli import users_app
from operations.views import print_json, wrapping_table
from services.common.temporal import exit_program

translate_help_panels()
app = typer.Typer(help=_("Anxin (安薪) operator and clerk commands."), no_args_is_help=True)
stack_app = typer.Typer(help=_("The local stack."), no_args_is_help=True)
clues_app = typer.Typer(help=_("Clues from other platforms."), no_args_is_help=True)
case_app = typer.Typer(help=_("Complaints and cases."), no_args_is_help=True)
audit_app = typer.Typer(help=_("Consistency checks."), no_args_is_help=True)
app.add_typer(stack_app, name="stack")
app.add_typer(clues_app, name="clues")
app.add_typer(case_app, name="case")
app.add_typer(audit_app, name="audit")
app.add_typer(calendar_app, name="calendar")
app.add_typer(users_app, name="users")
command(app, "migrate")(migrate_command)
command(app, "redeliver")(redeliver_command)
command(audit_app, "verify")(verify_command)


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


@command(clues_app, "import")
def import_clues(
    file: Annotated[Path, typer.Argument(exists=True, readable=True, help=_("clues as .jsonl or .csv"))],
    url: Annotated[str, typer.Option(help=_("intake's base URL"))] = "http://127.0.0.1:8001",
    source: Annotated[str, typer.Option(help=_("where the clues come from"))] = "national-platform",
    batch: Annotated[int, typer.Option(min=1, max=1000, help=_("rows per request"))] = 100,
    client_id: Annotated[str | None, typer.Option()] = None,
    client_secret: Annotated[str | None, typer.Option()] = None,
    issuer_url: Annotated[
        str | None,
        typer.Option(help=_("the token issuer's base URL (default: the one intake names, or ANXIN_TOKEN_ISSUER_URL)")),
    ] = None,
) -> None:
    """Import clues in batches, showing progress, and print a result per row that was not filed."""
    from operations.clue_batches import ClueFileInvalid, read_clue_file

    try:
        clues = read_clue_file(file.read_bytes().decode("utf-8-sig"), is_csv=file.suffix.lower() == ".csv")
    except ClueFileInvalid as exc:
        console.print(f"[red]{file.name}:[/] {exc}")
        raise typer.Exit(1) from exc
    token = agency_token(url, client_id, client_secret, "city-office", issuer_url)
    counts: dict[str, int] = {}
    problems: list[tuple[int, dict[str, object]]] = []
    with (
        Progress(
            TextColumn(_("[bold]importing")), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console
        ) as progress,
        httpx.Client(timeout=120) as http,
    ):
        task = progress.add_task("clues", total=len(clues.rows))
        for chunk in clues.batches(batch):
            response = http.post(
                f"{url}/v1/clues/import",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": (file.name, chunk.body, "text/plain")},
                data={"source": source},
            )
            if response.status_code != 200:
                console.print(
                    _("[red]batch from row {row} refused:[/] {reason}").format(row=chunk.rows[0], reason=response.text)
                )
                raise typer.Exit(1)
            for result in response.json()["results"]:
                counts[result["result"]] = counts.get(result["result"], 0) + 1
                if result["result"] != "filed":
                    problems.append((chunk.file_row(result["row"]), result))
            progress.advance(task, len(chunk.rows))
    for row, result in problems:
        console.print(
            _("row {row}:").format(row=row)
            + f" {result['result']} {json.dumps(result.get('errors') or result.get('complaint_id') or result.get('reason'), ensure_ascii=False)}"
        )
    console.print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))


@command(case_app, "show")
def case_show(
    subject: Annotated[str, typer.Argument(help=_("complaint number (TS-…) or case id (C-…)"))],
    no_events: Annotated[bool, typer.Option("--no-events", help=_("skip reading Kafka"))] = False,
    as_json: JsonOption = False,
) -> None:
    """The whole story in order: workflow steps and timers, the status timeline, events, and what it waits for."""
    from operations.stories import tell_story
    from operations.views import render_story, story_document

    async def run() -> None:
        settings = operator_settings()
        client = await temporal_client(settings)
        with status_console.status(_("reading history and events…")):
            story = await tell_story(client, settings, subject, kafka=not no_events)
        if as_json:
            print_json(story_document(story))
        else:
            render_story(story, console)

    asyncio.run(run())


@command(case_app, "retry")
def case_retry(
    subject: Annotated[
        str, typer.Argument(help=_("complaint number (TS-…), case id (C-…) or workflow id (complaint:…, case:…)"))
    ],
) -> None:
    """Retry the step a service refused for good (a parked step, as `anxin stuck` shows it), once its cause is
    fixed. A workflow with nothing parked is left alone (exit code 1)."""
    from operations.parked import describe, retry_parked
    from operations.stories import workflow_id_for

    async def run() -> int:
        client = await temporal_client(operator_settings())
        workflow_id = workflow_id_for(subject)
        parked = await retry_parked(client, workflow_id)
        if parked is None:
            console.print(
                _("{workflow_id}: nothing is parked (`anxin stuck` lists what is)").format(workflow_id=workflow_id)
            )
            return 1
        console.print(
            _("{workflow_id}: retrying — was {parked}").format(workflow_id=workflow_id, parked=describe(parked))
        )
        return 0

    raise typer.Exit(asyncio.run(run()))


@command(app, "stuck")
def stuck_command(
    limit: Annotated[int, typer.Option(help=_("workflows to look at"))] = 200, as_json: JsonOption = False
) -> None:
    """Steps parked by a service's refusal (with the command to retry), workflows past a deadline, activities
    failing and retrying, and events set aside, with why.

    The services' databases are read with DATABASE_URL when it is set (a role that may read every
    service's schema), otherwise with the development stack's own service roles.
    """
    from operations.stuck_work import dead_letters, stuck

    async def run() -> None:
        client = await temporal_client(operator_settings())
        with status_console.status(_("looking for stuck work…")):
            urls = service_database_urls()
            rows = await stuck(client, limit=limit, ledger_url=urls.get("cases"))
            rows += dead_letters(urls, limit=limit)
        if as_json:
            print_json({"stuck": rows})
            return
        table = wrapping_table(_("workflow or subject"), _("why"), wide=(_("why"),))
        for row in rows:
            table.add_row(row["workflow_id"], row["why"])
        console.print(table if rows else _("nothing is stuck"))

    asyncio.run(run())


@command(audit_app, "ledger")
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
