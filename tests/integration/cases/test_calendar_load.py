"""`anxin calendar load` on the real stack: the year is kept for the services, every open workflow is told,
and a case's provisional investigation limit becomes official in the ledger.

The command signals every running workflow of the test stack, not only this test's: the others only get an
official 2027 that their later steps count on, as they would in a deployment."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.common.lifecycle_config import DEFAULT_PATH
from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.calendars import arrangement_2027, calendar_toml
from tests.support.factories import seed
from tests.support.operator_cli import anxin


def _limit(case: dict[str, Any]) -> dict[str, Any] | None:
    return next((d for d in case["deadlines"] if d["name"].startswith("investigation.limit")), None)


def test_loading_a_year_signals_open_workflows_and_a_provisional_limit_becomes_official(
    agencies: Agencies, tmp_path: Path
) -> None:
    a = agencies
    _, case_id = a.accepted_case(complaint_body(seed()))
    limit = _limit(
        a.case_until(case_id, lambda c: _limit(c) is not None, "the investigation limit in the ledger", timeout=30)
    )
    assert limit is not None
    if not limit["provisional"] or date.fromisoformat(limit["due_date"]).year != 2027:
        pytest.skip(f"the limit ({limit['due_date']}) does not reach into 2027 on the fallback today")

    # The services of the test stack read the repository's configuration: the command writes beside a copy.
    shutil.copy(DEFAULT_PATH, tmp_path / "lifecycle.toml")
    year_file = tmp_path / "2027.toml"
    year_file.write_text(calendar_toml(arrangement_2027()), encoding="utf-8")
    environment = {"ANXIN_LIFECYCLE_CONFIG": str(tmp_path / "lifecycle.toml")}

    loaded = anxin(a.stack, "calendar", "load", str(year_file), env=environment)

    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert (tmp_path / "calendar.toml").exists()
    counts = re.search(
        r"signalled calendar_updated: (\d+) complaints, (\d+) cases, (\d+) blacklist listings", loaded.stdout
    )
    assert counts is not None, loaded.stdout
    assert int(counts.group(1)) >= 1 and int(counts.group(2)) >= 1
    case = a.case_until(
        case_id,
        lambda c: not _limit(c)["provisional"],
        "the limit official in the ledger",  # type: ignore[index]
        timeout=30,
    )
    official = _limit(case)
    assert official is not None and official["outcome"] == "pending" and not official["calendar_note"]

    status = anxin(a.stack, "calendar", "status", env=environment)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "configured 2027" in status.stdout and "provisional from 2028" in status.stdout
    assert case["process_case_ids"]
    assert not any(f"case:{process}" in status.stdout for process in case["process_case_ids"]), status.stdout
