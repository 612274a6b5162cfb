"""The departments configuration: the shipped file is valid and matches the development clients; wrong
files are refused with a message naming the entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.secrets import DEVELOPMENT_CLIENTS
from services.common.auth import Role
from services.contracts.lifecycle import DayUnit
from services.contracts.referrals_events import LetterKind, ReferralKind
from services.referrals.departments import DepartmentKind, DepartmentsConfigError, load_departments
from services.referrals.settings import DEFAULT_DEPARTMENTS


def test_the_shipped_departments_cover_every_client_and_every_receiver() -> None:
    config = load_departments(DEFAULT_DEPARTMENTS)
    claims = {c["department"] for c in DEVELOPMENT_CLIENTS if c["role"] is Role.department}
    assert claims == {"housing", "transport"}
    assert claims <= {d.id for d in config.departments}
    kinds = {d.kind for d in config.departments}
    assert {
        DepartmentKind.INDUSTRY_REGULATOR,
        DepartmentKind.COUNTY_HRSS,
        DepartmentKind.POLICE,
        DepartmentKind.PROCURATORATE,
        DepartmentKind.COURT,
        DepartmentKind.ARBITRATION,
        DepartmentKind.LEGAL_AID,
    } <= kinds
    for target in ReferralKind:
        assert config.receiver(target).kind.value == target.value
    assert config.receiver(ReferralKind.LEGAL_AID).response_working_days == 0
    assert set(config.bureau.prefixes) == set(LetterKind)
    housing = config.get("housing")
    assert housing is not None and housing.rung(LetterKind.WARNING_LETTER) is not None
    assert housing.rung(LetterKind.WARNING_LETTER).copy_to == ["superior"]  # type: ignore[union-attr]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "departments.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _with(replace: str, by: str, tmp_path: Path) -> Path:
    text = DEFAULT_DEPARTMENTS.read_text(encoding="utf-8")
    assert replace in text
    return _write(tmp_path, text.replace(replace, by, 1))


def test_a_duplicate_department_is_refused(tmp_path: Path) -> None:
    path = _with('id = "transport"', 'id = "housing"', tmp_path)
    with pytest.raises(DepartmentsConfigError, match="unique: housing"):
        load_departments(path)


def test_a_copy_to_an_unknown_body_is_refused(tmp_path: Path) -> None:
    path = _with('copy_to = ["superior"]', 'copy_to = ["mayor"]', tmp_path)
    with pytest.raises(DepartmentsConfigError, match="mayor"):
        load_departments(path)


def test_a_missing_document_prefix_is_refused(tmp_path: Path) -> None:
    path = _with('legal_aid_referral = "邯人社援转"\n', "", tmp_path)
    with pytest.raises(DepartmentsConfigError, match="legal_aid_referral"):
        load_departments(path)


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DepartmentsConfigError, match="cannot read"):
        load_departments(_write(tmp_path, "[bureau\nname ="))


def test_the_directory_names_who_takes_handoffs_and_its_hash_follows_the_configuration(tmp_path: Path) -> None:
    config = load_departments(DEFAULT_DEPARTMENTS)
    directory = config.directory()
    takes = {e.id for e in directory.departments if e.takes_handoffs}
    assert {"housing", "transport", "hrss-130402"} <= takes
    assert not takes & {"police", "procuratorate", "court"}
    assert load_departments(DEFAULT_DEPARTMENTS).directory().config_sha256 == directory.config_sha256
    renamed = DEFAULT_DEPARTMENTS.read_text(encoding="utf-8").replace('id = "water"', 'id = "water-resources"')
    changed = load_departments(_write(tmp_path, renamed)).directory()
    assert changed.config_sha256 != directory.config_sha256
    assert "water-resources" in {e.id for e in changed.departments}


def test_arbitration_counts_calendar_days_and_has_the_award_limit_of_art_43() -> None:
    config = load_departments(DEFAULT_DEPARTMENTS)
    arbitration = config.receiver(ReferralKind.ARBITRATION)
    assert arbitration.response_period() == (5, DayUnit.CALENDAR)
    assert arbitration.award is not None
    assert (arbitration.award.days, arbitration.award.extension_days) == (45, 15)
    assert [r.kind for r in arbitration.award.ladder] == [LetterKind.REMINDER, LetterKind.SUPERVISION]
    # A county HRSS hands its terms to the case workflow: 5 working days and the default ladder.
    terms = config.get("hrss-130402").terms()  # type: ignore[union-attr]
    assert (terms.response_days, terms.response_unit, len(terms.ladder)) == (5, DayUnit.WORKING, 5)


def test_a_department_gives_one_response_period(tmp_path: Path) -> None:
    path = _with("response_calendar_days = 5\n", "response_calendar_days = 5\nresponse_working_days = 5\n", tmp_path)
    with pytest.raises(DepartmentsConfigError, match="one"):
        load_departments(path)


def test_only_an_arbitration_body_has_an_award_limit(tmp_path: Path) -> None:
    path = _with('id = "court"', 'id = "court"\naward = { days = 45 }', tmp_path)
    with pytest.raises(DepartmentsConfigError, match="only an arbitration body"):
        load_departments(path)
