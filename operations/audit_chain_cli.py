"""`anxin audit verify`: walk each service's audit chain and report its first broken link
(`operations.audit_chain`). The databases are read as the other commands read them (`service_database_urls`):
DATABASE_URL when set (a role that may read every schema's audit_log), else the development stack's roles."""

from __future__ import annotations

from typing import Annotated

import typer

from operations.cli_support import JsonOption, console, service_database_urls
from operations.i18n import _
from operations.views import print_json


def verify_command(
    service: Annotated[list[str] | None, typer.Option("--service", help=_("only this service (repeatable)"))] = None,
    as_json: JsonOption = False,
) -> None:
    """Check that every row of each service's audit trail is as written and none is missing: prints
    `N rows, chain intact` and the head's hash per service (keep it elsewhere: a later run that finds an
    earlier head changed shows a rewritten chain), or the first broken row; exit code 1 when any is broken."""
    from deploy.engines import SERVICES
    from operations.audit_chain import verify_chain

    unknown = sorted(set(service or []) - set(SERVICES))
    if unknown:
        raise typer.BadParameter(
            _("unknown service {unknown}; one of {services}").format(
                unknown=", ".join(unknown), services=", ".join(SERVICES)
            )
        )
    urls = service_database_urls()
    reports = [verify_chain(urls[name], name) for name in SERVICES if not service or name in service]
    if as_json:
        print_json(
            {
                "services": [
                    {
                        "service": r.service,
                        "rows": r.rows,
                        "intact": r.intact,
                        "broken_at": r.broken_at,
                        "reason": r.reason,
                        "head": r.head.hex(),
                    }
                    for r in reports
                ]
            }
        )
    else:
        for report in reports:
            console.print(report.describe() if report.intact else f"[red]{report.describe()}[/]", highlight=False)
    raise typer.Exit(0 if all(r.intact for r in reports) else 1)
