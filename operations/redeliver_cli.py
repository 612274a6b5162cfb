"""`anxin redeliver`: events a consumer set aside, handed back to it through its service's outbox once the cause
is fixed (`operations.redelivery.redeliver`)."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer

from operations.cli_support import console, service_database_urls
from operations.i18n import _


def redeliver_command(
    event_ids: Annotated[
        list[str] | None, typer.Argument(help=_("event ids as `anxin stuck` prints them"), show_default=False)
    ] = None,
    consumer: Annotated[
        str | None, typer.Option(help=_("only this consumer, as SERVICE/NAME (e.g. intake/intake-workflow-starter)"))
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help=_("every event the --consumer set aside (after one bug set many aside)"))
    ] = False,
) -> None:
    """Hand events set aside back to the consumers that set them aside, once the cause is fixed and deployed.

    Each event is published again through the service's outbox; consumers that applied it before skip it.
    Each redelivery is written to the service's audit trail. The databases are reached as `anxin stuck`
    reaches them; with DATABASE_URL the role needs DELETE on each schema's dead_letters and inbox, and
    INSERT on its outbox and audit_log.
    """
    import getpass

    from deploy.engines import SERVICES
    from operations.redelivery import redeliver

    if every and not consumer:
        raise typer.BadParameter(_("--all redelivers one consumer's events: name it with --consumer SERVICE/NAME"))
    if not event_ids and not every:
        raise typer.BadParameter(_("name the event ids, or give --consumer SERVICE/NAME --all"))
    if event_ids and every:
        raise typer.BadParameter(_("give either event ids or --all, not both"))
    if consumer and (consumer.count("/") != 1 or consumer.split("/")[0] not in SERVICES):
        raise typer.BadParameter(
            _("--consumer is SERVICE/NAME with SERVICE one of {services}").format(services=", ".join(SERVICES))
        )
    try:
        operator = f"operator:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in the environment or the password database
        operator = f"operator:uid-{os.getuid()}"
    try:
        rows = asyncio.run(
            redeliver(service_database_urls(), operator=operator, event_ids=event_ids, consumer=consumer)
        )
    except ValueError as exc:  # a mistyped event id, before any database was touched
        raise typer.BadParameter(str(exc)) from None
    failed = [row for row in rows if row.error]
    for row in rows:
        if row.error:
            console.print(
                _("[red]{service}: not redelivered[/] {reason}").format(service=row.service, reason=row.error)
            )
        else:
            console.print(
                _("{event_type} for {subject} queued again on {topic} for {consumer} (event {event_id})").format(
                    event_type=row.event_type,
                    subject=row.subject,
                    topic=row.topic,
                    consumer=f"{row.service}/{row.consumer}",
                    event_id=row.event_id,
                )
            )
    if len(failed) == len(rows):
        if not rows:
            console.print(_("nothing set aside matches (`anxin stuck` lists what is)"))
        raise typer.Exit(1)
    console.print(_("{count} redelivered").format(count=len(rows) - len(failed)))
    if failed:
        raise typer.Exit(1)
