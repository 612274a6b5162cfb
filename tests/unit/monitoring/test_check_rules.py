"""The monthly checks' rules (services/monitoring/checks.py): each check fails on what it watches and only on
that, with counts and amounts as its facts and no worker in them; the levels climb month by month."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.contracts.legal_time import end_of_day
from services.contracts.lifecycle import CalendarConfig
from services.contracts.monitoring_events import (
    Company,
    DepositForm,
    DepositStatus,
    ProjectFacts,
    WageAccount,
    WageDeposit,
    WarningCheck,
    WarningLevel,
    WarningResolution,
)
from services.monitoring.checks import (
    CheckRules,
    Fact,
    Failure,
    KnownWarning,
    check_day,
    check_month,
    level_of,
    plan_warnings,
    required_deposit,
)
from services.monitoring.feeds import FeedWorker, summarise_month

OCTOBER = date(2026, 10, 1)
RULES = CheckRules()


def project(**changes: object) -> ProjectFacts:
    facts: dict[str, object] = {
        "project_id": "PRJ-1",
        "code": "130402202601010101",
        "county": "130402",
        "name": "邯郸东区学校",
        "owner": Company(name="邯郸建设投资有限公司", credit_code="91130400MA0000001X"),
        "general_contractor": Company(name="河北建工集团有限责任公司", credit_code="91130000104321234P"),
        "contract_value": Decimal("10000000.00"),
        "start_date": date(2026, 3, 1),
        "planned_end_date": date(2027, 6, 30),
        "department": "housing",
        "wage_account": WageAccount(bank="工商银行邯郸分行", opened_on=date(2026, 2, 20)),
        "deposit": WageDeposit(amount=Decimal("200000.00"), form=DepositForm.CASH, status=DepositStatus.LODGED),
        "version": 1,
    }
    return ProjectFacts.model_validate({**facts, **changes})


def worker(ref: str, *, amount: str | None = None, days: str | None = None) -> FeedWorker:
    return FeedWorker(
        f"person_{ref}", "张*丰", amount=Decimal(amount) if amount else None, days=Decimal(days) if days else None
    )


ROSTER = [worker("a", days="20"), worker("b", days="20"), worker("c", days="10")]
PAID = [worker("a", amount="6000"), worker("b", amount="6000"), worker("c", amount="3000")]


def failed(
    facts: ProjectFacts, roster: list[FeedWorker] | None, payroll: list[FeedWorker] | None, rules: CheckRules = RULES
) -> dict[WarningCheck, dict[str, Fact]]:
    summary = summarise_month(OCTOBER, roster, payroll, tolerance=Decimal("0.3"))
    return {check: f.facts for check, f in check_month(facts, summary, rules).items() if f is not None}


def test_a_project_paying_everyone_in_line_with_its_duties_met_passes_every_check() -> None:
    assert failed(project(), ROSTER, PAID) == {}


def test_a_missing_payroll_is_one_warning_with_the_roster_s_counts() -> None:
    assert failed(project(), ROSTER, None) == {
        WarningCheck.PAYROLL_RECEIVED: {"roster_received": True, "workers_on_roster": 3, "days_worked": "50"}
    }
    # Nothing received at all is still a missing payroll.
    assert set(failed(project(), None, None)) == {WarningCheck.PAYROLL_RECEIVED}


def test_a_partial_payroll_counts_the_workers_on_the_roster_not_paid() -> None:
    assert failed(project(), ROSTER, PAID[:2]) == {
        WarningCheck.ROSTER_PAID: {
            "workers_on_roster": 3,
            "workers_paid": 2,
            "workers_on_roster_not_paid": 1,
            "days_not_paid": "10",
        }
    }


def test_pay_below_the_days_worked_is_a_warning_with_the_shortfall() -> None:
    short = [*PAID[:2], worker("c", amount="1000")]
    assert failed(project(), ROSTER, short) == {
        WarningCheck.PAY_IN_LINE: {
            "workers_paid_short": 1,
            "shortfall": "1100.00",
            "day_rate": "300.00",
            "tolerance": "0.3",
        }
    }


def test_the_deposit_must_be_lodged_and_not_below_the_share_of_the_contract_value() -> None:
    # Hebei's share, 2% of the contract value, by default.
    assert required_deposit(Decimal("10000000.00"), RULES) == Decimal("200000.00")
    below = WageDeposit(amount=Decimal("199999.99"), form=DepositForm.CASH, status=DepositStatus.LODGED)
    assert failed(project(deposit=below), ROSTER, PAID) == {
        WarningCheck.DEPOSIT: {"status": "lodged", "amount": "199999.99", "required": "200000.00", "ratio": "0.02"}
    }
    enough = WageDeposit(amount=Decimal("200000.00"), form=DepositForm.BANK_GUARANTEE, status=DepositStatus.LODGED)
    assert failed(project(deposit=enough), ROSTER, PAID) == {}
    drawn = WageDeposit(amount=Decimal("200000.00"), form=DepositForm.CASH, status=DepositStatus.DRAWN)
    assert set(failed(project(deposit=drawn), ROSTER, PAID)) == {WarningCheck.DEPOSIT}
    assert failed(project(deposit=None), ROSTER, PAID)[WarningCheck.DEPOSIT]["status"] is None
    exempt = WageDeposit(amount=Decimal("0"), form=DepositForm.CASH, status=DepositStatus.EXEMPT)
    assert failed(project(deposit=exempt), ROSTER, PAID) == {}
    # The project's 2% deposit is enough where the province sets 1%, and too small where it sets 3%.
    assert failed(project(), ROSTER, PAID, CheckRules(deposit_ratio=Decimal("0.01"))) == {}
    assert set(failed(project(), ROSTER, PAID, CheckRules(deposit_ratio=Decimal("0.03")))) == {WarningCheck.DEPOSIT}


def test_the_deposit_required_stops_at_the_cap() -> None:
    # 2% of ¥400m is ¥8m; Hebei asks at most ¥5m of one project.
    assert required_deposit(Decimal("400000000.00"), RULES) == Decimal("5000000.00")
    assert required_deposit(Decimal("400000000.00"), CheckRules(deposit_cap=None)) == Decimal("8000000.00")
    big = project(contract_value=Decimal("400000000.00"))
    assert failed(big, ROSTER, PAID)[WarningCheck.DEPOSIT] == {
        "status": "lodged",
        "amount": "200000.00",
        "required": "5000000.00",
        "ratio": "0.02",
        "cap": "5000000.00",
    }
    capped = WageDeposit(amount=Decimal("5000000.00"), form=DepositForm.BANK_GUARANTEE, status=DepositStatus.LODGED)
    assert failed(project(contract_value=Decimal("400000000.00"), deposit=capped), ROSTER, PAID) == {}


def test_the_wage_account_must_be_opened_by_the_start_of_work() -> None:
    late = WageAccount(bank="工商银行邯郸分行", opened_on=date(2026, 10, 11))
    assert failed(project(wage_account=late), ROSTER, PAID) == {
        WarningCheck.WAGE_ACCOUNT: {"opened_on": "2026-10-11", "start_date": "2026-03-01", "days_late": 224}
    }
    on_the_day = WageAccount(bank="工商银行邯郸分行", opened_on=date(2026, 3, 1))
    assert failed(project(wage_account=on_the_day), ROSTER, PAID) == {}
    assert set(failed(project(wage_account=None), ROSTER, PAID)) == {WarningCheck.WAGE_ACCOUNT}


def test_no_warning_names_a_worker() -> None:
    facts = failed(
        project(deposit=None, wage_account=None), ROSTER, [worker("a", amount="10"), worker("z", amount="9")]
    )
    assert "person_" not in repr(facts) and "张" not in repr(facts)


def test_the_level_climbs_each_month_the_check_fails_in_a_row_up_to_red() -> None:
    assert [level_of(n, RULES) for n in (1, 2, 3, 4)] == [
        WarningLevel.YELLOW,
        WarningLevel.ORANGE,
        WarningLevel.RED,
        WarningLevel.RED,
    ]
    slower = CheckRules(months_per_level=2)
    assert [level_of(n, slower) for n in (1, 2, 3, 4, 5)] == [
        WarningLevel.YELLOW,
        WarningLevel.YELLOW,
        WarningLevel.ORANGE,
        WarningLevel.ORANGE,
        WarningLevel.RED,
    ]


def test_the_check_day_is_the_nth_working_day_of_the_next_month_on_the_official_calendar() -> None:
    # October 2026's fifth working day of November: 2, 3, 4, 5, 6 November (a plain week).
    day = check_day(OCTOBER, 5, CalendarConfig())
    assert day.day == date(2026, 11, 6) and day.at == end_of_day(date(2026, 11, 6)) and not day.provisional
    # September's: after the National Day holiday (1-7 October 2026), the 8th is the first working day.
    september = check_day(date(2026, 9, 1), 1, CalendarConfig())
    assert september.day == date(2026, 10, 8)


def test_a_late_opened_wage_account_fails_the_months_worked_without_it_only() -> None:
    late = project(wage_account=WageAccount(bank="工商银行邯郸分行", opened_on=date(2026, 10, 15)))
    summary = summarise_month(date(2026, 11, 1), ROSTER, PAID, tolerance=Decimal("0.3"))
    assert check_month(late, summary, RULES)[WarningCheck.WAGE_ACCOUNT] is None
    assert set(failed(late, ROSTER, PAID)) == {WarningCheck.WAGE_ACCOUNT}


def known(
    month: date, check: WarningCheck, months_failing: int = 1, resolution: WarningResolution | None = None
) -> KnownWarning:
    return KnownWarning(f"WRN-{month:%Y%m}-{check.value}", month, check, months_failing, resolution)


def outcomes(*failing: WarningCheck) -> dict[WarningCheck, Failure | None]:
    return {check: Failure(check, {"n": 1}) if check in failing else None for check in WarningCheck}


def test_a_failed_check_raises_once_a_month_and_climbs_from_the_month_before() -> None:
    september = date(2026, 9, 1)
    plan = plan_warnings(
        OCTOBER,
        outcomes(WarningCheck.PAYROLL_RECEIVED, WarningCheck.DEPOSIT),
        [known(september, WarningCheck.PAYROLL_RECEIVED, 2)],
        RULES,
    )
    assert [(w.check, w.level, w.months_failing) for w in plan.raised] == [
        (WarningCheck.PAYROLL_RECEIVED, WarningLevel.RED, 3),
        (WarningCheck.DEPOSIT, WarningLevel.YELLOW, 1),
    ]
    # Checked again (an activity retried): nothing new.
    again = plan_warnings(
        OCTOBER, outcomes(WarningCheck.PAYROLL_RECEIVED), [known(OCTOBER, WarningCheck.PAYROLL_RECEIVED, 3)], RULES
    )
    assert again.raised == [] and again.resolved == []
    # A month before whose payroll came late after all does not count.
    late = plan_warnings(
        OCTOBER,
        outcomes(WarningCheck.PAYROLL_RECEIVED),
        [known(september, WarningCheck.PAYROLL_RECEIVED, 1, WarningResolution.CHECK_PASSED)],
        RULES,
    )
    assert [w.level for w in late.raised] == [WarningLevel.YELLOW]


def test_a_passed_check_resolves_the_open_warnings_of_its_month_and_before_only() -> None:
    november = date(2026, 11, 1)
    warnings = [
        known(date(2026, 9, 1), WarningCheck.ROSTER_PAID),
        known(OCTOBER, WarningCheck.ROSTER_PAID),
        known(november, WarningCheck.ROSTER_PAID),
        known(OCTOBER, WarningCheck.DEPOSIT),
        known(date(2026, 8, 1), WarningCheck.ROSTER_PAID, resolution=WarningResolution.INSPECTOR),
    ]
    plan = plan_warnings(OCTOBER, outcomes(WarningCheck.DEPOSIT), warnings, RULES)
    assert plan.resolved == ["WRN-202609-roster_paid", "WRN-202610-roster_paid"] and plan.raised == []
