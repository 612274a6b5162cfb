"""The working-day calendar moved to `services/contracts/working_days.py`, where services and workflows both
import it from (services may not import `workflows`).

This module only re-exports it for `services/cases/projection.py` and `services/referrals/commands.py`, which
still import it from here (allow-listed in tests/unit/test_layers.py); remove it once they import the
contracts module.
"""

from __future__ import annotations

from services.contracts.working_days import (
    CalendarNotCovered,
    PackageCalendar,
    WorkingCalendar,
    compute_deadline,
    installed_package,
)

__all__ = ["CalendarNotCovered", "PackageCalendar", "WorkingCalendar", "compute_deadline", "installed_package"]
