"""The monitoring service's processes can be built from its entry point (a broken import stops the stack), and
a new workflow's first month: the project's first, or the month before its registration for a project begun
earlier."""

from __future__ import annotations

import importlib
from datetime import date

from services.monitoring.monitoring_workflow import monitoring_workflow_id
from services.monitoring.spec import SPEC
from services.monitoring.worker import first_month_to_check


def test_the_entry_point_and_its_processes_import() -> None:
    main = importlib.import_module("services.monitoring.__main__")
    assert main.build_worker is not None and main.create_app is not None
    assert SPEC.has_worker and SPEC.worker_port == 8207


def test_the_first_month_checked() -> None:
    assert first_month_to_check(date(2026, 3, 1), date(2026, 12, 1)) == date(2026, 11, 1)
    assert first_month_to_check(date(2027, 2, 15), date(2026, 12, 1)) == date(2027, 2, 1)
    assert first_month_to_check(date(2026, 1, 10), date(2026, 1, 20)) == date(2026, 1, 1)


def test_the_workflow_id_names_the_project_only() -> None:
    assert monitoring_workflow_id("PRJ-0123456789ABCDEF") == "project-monitoring:PRJ-0123456789ABCDEF"
