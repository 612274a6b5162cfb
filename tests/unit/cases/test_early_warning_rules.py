"""The pure rules of early-warning cases: the case id derived from the project, the verification of a case no
complaint has joined, the ledger row summed up without a complaint, and the workflow input the cases worker
starts it with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.cases import domain
from services.cases.early_warning_cases import early_warning_case_input
from services.cases.projection_warnings import warning_summary
from services.contracts.case_warning_events import EarlyWarningCaseOpened
from services.contracts.cases import (
    case_id_for,
    early_warning_case_id,
    employer_ref,
    project_ref,
    registered_project_ref,
)
from services.contracts.lifecycle import (
    CaseKind,
    CaseOrigin,
    LifecycleConfig,
    VerificationOutcome,
    check_business_id,
    verification_refusal,
)
from services.contracts.monitoring_events import ProjectWarningRaised, WarningCheck, WarningLevel

CONTRACTOR = "91130400MA0A1B2C3X"
OPENED = datetime(2026, 11, 5, 16, 0, tzinfo=UTC)
ORIGIN = CaseOrigin(project_id="PRJ-20261101-0001", warning_ids=["WRN-1"], opened_at=OPENED)


# --- the case id ---------------------------------------------------------------------------------------------


def test_the_case_id_is_derived_from_the_contractor_and_the_project_and_the_same_every_time() -> None:
    first = early_warning_case_id(CONTRACTOR, "PRJ-20261101-0001")
    assert first == early_warning_case_id(CONTRACTOR, "PRJ-20261101-0001", 1)
    assert first == case_id_for(employer_ref(CONTRACTOR, ""), registered_project_ref("PRJ-20261101-0001"))
    assert check_business_id(first, "case id") == first and first.startswith("C-")
    # Another project, another contractor, or the project's next case after the first closed: another case.
    others = {
        early_warning_case_id(CONTRACTOR, "PRJ-20261101-0002"),
        early_warning_case_id("91130400MA0A1B2C4Y", "PRJ-20261101-0001"),
        early_warning_case_id(CONTRACTOR, "PRJ-20261101-0001", 2),
        early_warning_case_id(CONTRACTOR, "PRJ-20261101-0001", 3),
    }
    assert first not in others and len(others) == 4


def test_a_registered_projects_reference_never_meets_a_sites_or_a_names() -> None:
    ref = registered_project_ref("PRJ-20261101-0001")
    assert ref.startswith("P-R") and ref == registered_project_ref("PRJ-20261101-0001", 1)
    assert ref != registered_project_ref("PRJ-20261101-0001", 2)
    # A complaint's project is its QR site (`P-<site id>`) or its name's digest (`P-N…`): a site id may look like
    # anything a register id does, so the register's reference is a digest of its own.
    assert ref not in {project_ref("PRJ-20261101-0001", "130402", ""), project_ref(None, "130402", "PRJ-20261101-0001")}
    # A complaint against the contractor at one of the project's sites derives a case of its own, which the
    # ledger places in the early-warning case while it is open.
    assert case_id_for(employer_ref(CONTRACTOR, ""), project_ref("HD-2026-0001", "130402", "")) != (
        early_warning_case_id(CONTRACTOR, "PRJ-20261101-0001")
    )


@pytest.mark.parametrize("round_", [0, -1])
def test_rounds_count_from_one(round_: int) -> None:
    with pytest.raises(ValueError, match="round"):
        early_warning_case_id(CONTRACTOR, "PRJ-1", round_)


# --- verifying a case no complaint has joined -------------------------------------------------------------------


def refusal(
    outcome: VerificationOutcome,
    *,
    origin: CaseOrigin | None = ORIGIN,
    members: bool = False,
    amount: Decimal | None = None,
    workers: int | None = None,
) -> str | None:
    return verification_refusal(origin, members, outcome, amount, workers)


def test_confirmed_arrears_without_a_complaint_need_the_inspectors_figures() -> None:
    assert "confirmed_amount" in (refusal(VerificationOutcome.WAGE_ARREARS) or "")
    assert "confirmed_amount" in (refusal(VerificationOutcome.WAGE_ARREARS, amount=Decimal(5000)) or "")
    assert refusal(VerificationOutcome.WAGE_ARREARS, amount=Decimal(48000), workers=12) is None
    # Once a complaint joined, its claim is there to sum, as in any case.
    assert refusal(VerificationOutcome.WAGE_ARREARS, members=True) is None


@pytest.mark.parametrize(
    "outcome", [VerificationOutcome.UNFOUNDED, VerificationOutcome.WITHDRAWN, VerificationOutcome.LABOUR_DISPUTE]
)
def test_outcomes_that_speak_of_a_complainant_need_one(outcome: VerificationOutcome) -> None:
    assert "no complainant" in (refusal(outcome) or "")
    assert refusal(outcome, members=True) is None
    assert refusal(outcome, origin=None) is None


def test_no_arrears_found_is_the_outcome_of_an_early_warning_case_without_complaints() -> None:
    assert refusal(VerificationOutcome.NO_ARREARS_FOUND) is None
    assert "early-warning" in (refusal(VerificationOutcome.NO_ARREARS_FOUND, origin=None) or "")
    assert "complaints joined" in (refusal(VerificationOutcome.NO_ARREARS_FOUND, members=True) or "")


@pytest.mark.parametrize(
    "outcome",
    [
        VerificationOutcome.ALREADY_PAID,
        VerificationOutcome.DUPLICATE,
        VerificationOutcome.FORWARDED,
        VerificationOutcome.PROJECT_PAYMENT_DISPUTE,
        VerificationOutcome.QUANTITY_DISPUTE,
    ],
)
def test_the_other_outcomes_fit_an_early_warning_case(outcome: VerificationOutcome) -> None:
    assert refusal(outcome) is None


def test_a_complaint_case_is_verified_as_before() -> None:
    for outcome in VerificationOutcome:
        if outcome is not VerificationOutcome.NO_ARREARS_FOUND:
            assert refusal(outcome, origin=None, members=True) is None


# --- the ledger row ---------------------------------------------------------------------------------------------


def _process(**overrides: object) -> dict[str, object]:
    return {
        "process_case_id": "C-EW1",
        "status": "open",
        "stage": "verification",
        "opened_at": OPENED + timedelta(seconds=3),
        "classification": None,
        "outcome": None,
        "amount_verified": None,
        "workers_verified": None,
        "deadlines": [],
        "stage_times": {"verification": (OPENED + timedelta(seconds=3)).isoformat()},
        "closure_reason": None,
        "closed_at": None,
        "overdue": False,
        "investigation_overdue": False,
        **overrides,
    }


def test_an_early_warning_case_without_complaints_counts_no_complaint_and_was_received_with_its_warning() -> None:
    s = domain.summarize([], [_process()], {}, opened_at=OPENED)
    assert (s.complaint_count, s.complainant_count, s.workers_affected, s.amount_claimed) == (0, 0, 0, Decimal(0))
    assert (s.stage, s.status, s.received_at) == ("verification", "open", OPENED)
    assert s.stage_times["received"] == OPENED.isoformat()
    verified = domain.summarize(
        [], [_process(amount_verified=Decimal(48000), workers_verified=12, stage="service")], {}, opened_at=OPENED
    )
    assert (verified.amount_verified, verified.workers_affected, verified.stage) == (Decimal(48000), 12, "service")
    # Without an opening instant (a complaint case), receipt is its first complaint's, else its process's.
    assert domain.summarize([], [_process()], {}).received_at == OPENED + timedelta(seconds=3)


# --- the workflow input and the timeline --------------------------------------------------------------------------


def test_the_workflow_starts_with_the_cases_origin_and_no_member() -> None:
    opened = EarlyWarningCaseOpened(
        case_id=early_warning_case_id(CONTRACTOR, "PRJ-20261101-0001"),
        county="130402",
        employer_ref=employer_ref(CONTRACTOR, ""),
        employer_name="河北某建设集团有限公司",
        employer_credit_code=CONTRACTOR,
        project_ref=registered_project_ref("PRJ-20261101-0001"),
        project_id="PRJ-20261101-0001",
        project_name="邯山区某安置房项目",
        warning_id="WRN-1",
        month="2026-10",
        check="payroll_received",
        level="yellow",
    )
    config = LifecycleConfig.model_validate({"province": "henan"})
    case = early_warning_case_input(opened, OPENED, config)
    assert (case.case_id, case.employer_ref, case.project_ref) == (
        opened.case_id,
        opened.employer_ref,
        opened.project_ref,
    )
    assert case.origin == ORIGIN and case.origin.kind is CaseKind.EARLY_WARNING
    assert case.resume is None and case.config == config


def test_the_timeline_names_the_warning_its_month_and_level_and_no_worker() -> None:
    raised = ProjectWarningRaised(
        warning_id="WRN-1",
        project_id="PRJ-1",
        county="130402",
        month="2026-10",
        check=WarningCheck.PAYROLL_RECEIVED,
        level=WarningLevel.ORANGE,
        facts={"roster_received": True, "workers_on_roster": 12},
    )
    assert warning_summary(raised) == "橙色预警：2026-10 当月工资发放记录未按时报送（WRN-1）"
