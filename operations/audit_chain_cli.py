"""`anxin audit verify`: walk each service's audit chain and report its first broken link
(`operations.audit_chain`). The databases are read as the other commands read them (`service_database_urls`):
DATABASE_URL when set (a role that may read every schema's audit_log), else the development stack's roles."""

from __future__ import annotations

from typing import Annotated

import typer

from operations.cli_support import console, service_database_urls


def verify_command(
    service: Annotated[list[str] | None, typer.Option("--service", help="only this service (repeatable)")] = None,
) -> None:
    """Check that every row of each service's audit trail is as written and none is missing: prints
    `N rows, chain intact` and the head's hash per service (keep it elsewhere: a later run that finds an
    earlier head changed shows a rewritten chain), or the first broken row; exit code 1 when any is broken."""
    from deploy.engines import SERVICES
    from operations.audit_chain import verify_chain

    unknown = sorted(set(service or []) - set(SERVICES))
    if unknown:
        raise typer.BadParameter(f"unknown service {', '.join(unknown)}; one of {', '.join(SERVICES)}")
    urls = service_database_urls()
    broken = 0
    for name in [s for s in SERVICES if not service or s in service]:
        report = verify_chain(urls[name], name)
        broken += not report.intact
        console.print(report.describe() if report.intact else f"[red]{report.describe()}[/]", highlight=False)
    raise typer.Exit(1 if broken else 0)
