"""`anxin calendar load`, up to the point where it reaches Temporal: the years are checked with the
configuration's own rules, refused with nothing written, or merged into the calendar file the services read."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from operations.calendar import Signalled, calendar_file_text, load_report, prepare_load, provisional_in
from operations.cli import app
from services.common.lifecycle_config import DEFAULT_PATH, load_lifecycle_config, parse_calendar_years
from services.common.settings import CommonSettings
from services.contracts.legal_time import CHINA_TZ
from services.contracts.lifecycle import ComplaintStage, ComplaintStatus, DayUnit, Deadline, Status
from tests.support.calendars import arrangement_2027, calendar_toml


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CommonSettings:
    shutil.copy(DEFAULT_PATH, tmp_path / "lifecycle.toml")
    monkeypatch.setenv("ANXIN_LIFECYCLE_CONFIG", str(tmp_path / "lifecycle.toml"))
    return CommonSettings()


def test_the_calendar_file_reads_back_as_written() -> None:
    entry = arrangement_2027()
    text = calendar_file_text([entry])
    assert text.startswith("# The official calendar years loaded with `anxin calendar load`")
    assert parse_calendar_years(text, "calendar.toml") == [entry]


def test_a_load_is_checked_merged_and_sent_whole(settings: CommonSettings, tmp_path: Path) -> None:
    prepared = prepare_load(settings, calendar_toml(arrangement_2027()), "2027.toml")
    assert prepared.calendar_file == tmp_path / "calendar.toml"
    assert prepared.loaded == [2027] and prepared.replaced == []
    assert prepared.calendar.years == [arrangement_2027()]
    assert not prepared.calendar_file.exists()  # prepared, not written

    # A year already in the file is replaced by the newer entry; other years stay.
    corrected = arrangement_2027().model_copy(update={"make_up_workdays": []})
    (tmp_path / "calendar.toml").write_text(calendar_file_text([arrangement_2027()]), encoding="utf-8")
    again = prepare_load(settings, calendar_toml(corrected), "2027.toml")
    assert again.replaced == [2027] and again.years == [corrected]


def test_a_year_configured_in_the_lifecycle_file_is_refused(settings: CommonSettings, tmp_path: Path) -> None:
    lifecycle = tmp_path / "lifecycle.toml"
    lifecycle.write_text(
        lifecycle.read_text(encoding="utf-8")
        + "\n[calendar]\n"
        + calendar_toml(arrangement_2027()).replace("[[years]]", "[[calendar.years]]"),
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="2027 configured both"):
        prepare_load(settings, calendar_toml(arrangement_2027()), "2027.toml")


def test_the_command_refuses_an_empty_year_and_writes_nothing(
    settings: CommonSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANXIN_DATA_KEYS", "{}")  # keeps a development stack's keys out of this process
    bad = tmp_path / "2027.json"
    bad.write_text('{"years": [{"year": 2027, "holidays": [], "make_up_workdays": []}]}', encoding="utf-8")
    result = CliRunner().invoke(app, ["calendar", "load", str(bad)], env={"COLUMNS": "300"})
    assert result.exit_code == 1
    assert "refused; nothing written, nothing sent" in result.output and "lists no holidays" in result.output
    assert not (tmp_path / "calendar.toml").exists()
    assert load_lifecycle_config(settings).calendar.years == []


def test_the_report_says_what_was_written_and_signalled(settings: CommonSettings) -> None:
    prepared = prepare_load(settings, calendar_toml(arrangement_2027()), "2027.toml")
    counts = {
        "complaints": Signalled(signalled=3),
        "cases": Signalled(signalled=2, finished=1),
        "blacklist listings": Signalled(),
        "referral follow-ups": Signalled(signalled=4),
    }
    lines = load_report(prepared, counts)
    assert lines[0].startswith(f"2027 written to {prepared.calendar_file}")
    assert lines[1] == "signalled calendar_updated: 3 complaints, 2 cases, 0 blacklist listings, 4 referral follow-ups"
    assert lines[2] == "1 finished before their signal"
    assert len(lines) == 3


def test_only_pending_provisional_deadlines_are_listed() -> None:
    def deadline(name: str, provisional: bool, outcome: str) -> Deadline:
        start = datetime(2026, 12, 1, 10, tzinfo=CHINA_TZ)
        return Deadline(
            name=name,
            legal_start=start,
            amount=60,
            unit=DayUnit.WORKING,
            due_date=date(2027, 2, 26),
            due_at=start,
            fire_at=start,
            provisional=provisional,
            outcome=outcome,
        )  # type: ignore[arg-type]

    deadlines = [
        deadline("acceptance", True, "met"),
        deadline("callback", False, "pending"),
        deadline("information#1", True, "pending"),
    ]
    status = ComplaintStatus(
        complaint_id="TS-1",
        case_id="C-1",
        county="130402",
        stage=ComplaintStage.AWAITING_INFORMATION,
        status=Status.OPEN,
        overdue=False,
        deadlines={d.name: d for d in deadlines},
        next_deadline=None,
        case_stage=None,
        closure_reason=None,
        satisfaction=None,
        timeline=[],
    )
    rows = provisional_in("complaint:TS-1", status)
    assert [(r.deadline, r.due_date) for r in rows] == [("information#1", date(2027, 2, 26))]
