"""`anxin case show`, `anxin case retry` and `anxin stuck`: a complaint's or case's whole story, the work that is
stuck (parked steps, deadlines passed, activities failing, events set aside) and the retry of a parked step.

What they read and do is in `stories.py`, `stuck_work.py` and `parked.py`; `anxin stuck` is registered on the
top-level command by `cli.py`.
"""

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
from operations.i18n import _, command
from operations.views import print_json, wrapping_table

case_app = typer.Typer(help=_("Complaints and cases."), no_args_is_help=True)


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
