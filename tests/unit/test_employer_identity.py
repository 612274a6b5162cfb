"""One rule for an employer's identity (services/contracts/cases.py `identify_employer`): a name alone joins the
credit code its county's register knows for it, so two complaints against one employer meet in one case."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from services.contracts.cases import case_refs, identify_employer
from services.contracts.intake_events import ComplaintSubmitted

CODE, OTHER = "91130400MA07ABCD12", "91130400MA07WXYZ3X"


def test_a_given_code_is_kept_and_a_link_wins_over_what_was_learnt() -> None:
    assert identify_employer(CODE, OTHER, [OTHER]) == (CODE, "given")
    assert identify_employer(None, OTHER, [CODE]) == (OTHER, "linked")
    assert identify_employer(None, None, [CODE]) == (CODE, "learnt")


def test_a_name_known_with_two_codes_or_none_stays_its_own_employer() -> None:
    assert identify_employer(None, None, [CODE, OTHER]) == (None, "ambiguous")
    assert identify_employer(None, None, [CODE, CODE]) == (CODE, "learnt")
    assert identify_employer(None, None, []) == (None, "name")


def submitted(**fields: object) -> ComplaintSubmitted:
    base: dict[str, object] = dict(
        complaint_id="TS-20261128-000001",
        channel="clerk",
        site_id=None,
        county_code="130402",
        project_name="某安置房项目",
        employer_name="邯郸市某建筑劳务有限公司",
        employer_name_key="邯郸市某建筑劳务有限公司",
        employer_credit_code=None,
        period_start=date(2026, 6, 1),
        period_end=date(2026, 9, 30),
        amount_owed=Decimal(8000),
        workers_affected=1,
        confidential=False,
        stale_for_rejection=False,
        person_ref="p",
        phone_ref="f",
        phone_masked="139****5678",
        evidence_count=0,
        submitted_at=datetime(2026, 11, 28, 1, tzinfo=UTC),
    )
    return ComplaintSubmitted.model_validate(base | fields)


def test_a_matched_name_joins_the_credit_codes_case_and_an_old_event_keeps_its_own() -> None:
    by_code = case_refs(submitted(employer_credit_code=CODE))
    matched = case_refs(submitted(employer_matched_credit_code=CODE, employer_match="learnt"))
    by_name = case_refs(submitted())  # as every complaint published before the register
    assert matched == by_code and matched.employer == f"E-{CODE}"
    assert by_name.case_id != by_code.case_id and by_name.employer.startswith("E-N")
