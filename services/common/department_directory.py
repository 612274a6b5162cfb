"""The referrals service's department directory as another service keeps it (`departments.configured`, table
`department_directory` in its own schema): the whole directory replaces the one before, and an older
configuration arriving late changes nothing. The cases service keeps whether each department takes handoffs;
the sanctions service does not need it."""

from __future__ import annotations

from typing import Any

from services.contracts.events import EventEnvelope
from services.contracts.referrals_events import DepartmentsConfigured


def keep_department_directory(
    conn: Any, event: EventEnvelope, directory: DepartmentsConfigured, *, takes_handoffs: bool = False
) -> None:
    newest = conn.execute("SELECT max(updated_at) AS at FROM department_directory").fetchone()
    if newest is not None and newest["at"] is not None and newest["at"] > event.occurred_at:
        return
    conn.execute("DELETE FROM department_directory")
    columns = "department, name, kind, county, config_sha256, updated_at" + (
        ", takes_handoffs" if takes_handoffs else ""
    )
    for entry in directory.departments:
        values: list[Any] = [entry.id, entry.name, entry.kind, entry.county, directory.config_sha256, event.occurred_at]
        if takes_handoffs:
            values.append(entry.takes_handoffs)
        conn.execute(f"INSERT INTO department_directory ({columns}) VALUES ({', '.join(['%s'] * len(values))})", values)
