"""`anxin migrate`: every service's schema migrations (and the token issuer's) as a step of their own, before the processes start (in
Kubernetes a Job), then each service's runtime role granted exactly what its processes use
(`services.common.database_roles`).

    ANXIN_MIGRATION_DATABASE_URL   the migration role's URL, owner of the schemas (else DATABASE_URL, with a warning)
    ANXIN_RUNTIME_ROLE_<SERVICE>   the runtime role of a service (default: the service's name)
"""

from __future__ import annotations

from typing import Annotated

import typer

from operations.cli_support import console
from operations.i18n import _


def migrate_command(
    service: Annotated[list[str] | None, typer.Option("--service", help=_("only this service (repeatable)"))] = None,
) -> None:
    """Apply every service's pending migrations as the migration role and grant each runtime role its rights.
    Idempotent: a second run changes nothing and says so. Exits non-zero, naming the service, on failure."""
    from deploy.engines import DATABASE_SCHEMAS as SERVICES
    from services.common.database_roles import MigrationError, migrate_all
    from services.common.settings import MigrationSettings

    unknown = sorted(set(service or []) - set(SERVICES))
    if unknown:
        raise typer.BadParameter(
            _("unknown service {unknown}; one of {services}").format(
                unknown=", ".join(unknown), services=", ".join(SERVICES)
            )
        )
    settings = MigrationSettings()
    url, fallback = settings.url()
    if url is None:
        console.print(_("[red]set ANXIN_MIGRATION_DATABASE_URL[/] (the migration role's URL) or DATABASE_URL"))
        raise typer.Exit(2)
    if fallback:
        console.print(_("[yellow]warning:[/] ANXIN_MIGRATION_DATABASE_URL not set; migrating with DATABASE_URL"))
    chosen = [s for s in SERVICES if not service or s in service]
    try:
        report = migrate_all(url, settings.runtime_roles(chosen))
    except MigrationError as exc:
        console.print(_("[red]migration failed:[/] {reason}").format(reason=exc))
        raise typer.Exit(1) from None
    for line in report.lines():
        console.print(line, highlight=False)
