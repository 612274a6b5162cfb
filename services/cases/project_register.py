"""The monitoring service's project register in the cases service's read model (table `projects`): the newest
version of each project from `project.registered` and `project.updated`, for the quarterly circular's
coverage of wage accounts and deposits (`circular.py`), and for early-warning cases (`projection_warnings.py`):
the general contractor they are opened against and the QR poster sites whose complaints join them. Handlers of
the ledger projection's inbox."""

from __future__ import annotations

from typing import Any

from services.contracts.events import EventEnvelope
from services.contracts.monitoring_events import ProjectFacts, ProjectRegistered, ProjectUpdated

# Where a deposit counts as in place for the circular: lodged, or exempt as the measures allow.
DEPOSIT_IN_PLACE = ("lodged", "exempt")


def keep_project(conn: Any, event: EventEnvelope, change: ProjectRegistered | ProjectUpdated) -> None:
    """The project as the event has it, unless a newer version is already kept."""
    p: ProjectFacts = change.project
    conn.execute(
        "INSERT INTO projects (project_id, county, name, general_contractor_credit_code, start_date, "
        "planned_end_date, wage_account_opened_on, deposit_status, deposit_amount, version, updated_at, "
        "general_contractor_name, site_ids) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (project_id) DO UPDATE SET county = EXCLUDED.county, name = EXCLUDED.name, "
        "general_contractor_credit_code = EXCLUDED.general_contractor_credit_code, "
        "general_contractor_name = EXCLUDED.general_contractor_name, site_ids = EXCLUDED.site_ids, "
        "start_date = EXCLUDED.start_date, planned_end_date = EXCLUDED.planned_end_date, "
        "wage_account_opened_on = EXCLUDED.wage_account_opened_on, deposit_status = EXCLUDED.deposit_status, "
        "deposit_amount = EXCLUDED.deposit_amount, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at "
        "WHERE projects.version < EXCLUDED.version",
        (
            p.project_id,
            p.county,
            p.name,
            p.general_contractor.credit_code,
            p.start_date,
            p.planned_end_date,
            p.wage_account.opened_on if p.wage_account else None,
            p.deposit.status.value if p.deposit else None,
            p.deposit.amount if p.deposit else None,
            p.version,
            event.occurred_at,
            p.general_contractor.name,
            p.site_ids,
        ),
    )
