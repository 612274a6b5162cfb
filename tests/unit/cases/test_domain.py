"""The cases service's pure rules: the ledger summary, action targets, scope, periods, figures, CSV."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.cases import domain, periods, report_figures
from services.common.auth import Principal, Role
from services.common.errors import Refused

T0 = datetime(2026, 10, 9, 2, 0, tzinfo=UTC)


def complaint(cid: str, **kw: Any) -> dict[str, Any]:
    row = {
        "complaint_id": cid,
        "complainant_ref": f"person:{cid}",
        "amount_owed": Decimal("1000.00"),
        "workers_affected": 1,
        "submitted_at": T0,
        "stage": "awaiting_acceptance",
        "status": "open",
        "decision": None,
        "decided_at": None,
        "closure_reason": None,
        "closed_at": None,
        "overdue": False,
        "deadlines": [{"name": "acceptance", "due_at": "2026-10-16T00:00:00+08:00", "outcome": "pending"}],
    }
    row.update(kw)
    return row


def process(pid: str, **kw: Any) -> dict[str, Any]:
    row = {
        "process_case_id": pid,
        "opened_at": T0,
        "stage": "verification",
        "status": "open",
        "classification": None,
        "outcome": None,
        "overdue": False,
        "investigation_overdue": False,
        "amount_verified": None,
        "workers_verified": None,
        "closure_reason": None,
        "closed_at": None,
        "deadlines": [{"name": "investigation.limit.60", "due_at": "2027-01-10T00:00:00+08:00", "outcome": "pending"}],
        "stage_times": {"verification": T0.isoformat()},
    }
    row.update(kw)
    return row


def test_a_new_case_waits_for_acceptance_and_sums_its_complaints() -> None:
    s = domain.summarize([complaint("A", workers_affected=2), complaint("B", amount_owed=Decimal("500.50"))], [], {})
    assert (s.stage, s.status, s.complaint_count, s.complainant_count) == ("acceptance", "open", 2, 2)
    assert s.workers_affected == 3 and s.amount_claimed == Decimal("1500.50")
    assert s.next_deadline == datetime.fromisoformat("2026-10-16T00:00:00+08:00")
    assert s.stage_times == {"received": T0.isoformat()}


def test_the_same_complainant_twice_counts_once_and_rejected_complaints_do_not_count() -> None:
    s = domain.summarize(
        [
            complaint("A"),
            complaint("B", complainant_ref="person:A"),
            complaint("C", status="closed", stage="callback", closure_reason="rejected", closed_at=T0),
        ],
        [],
        {},
    )
    assert s.complaint_count == 3 and s.complainant_count == 1 and s.amount_claimed == Decimal("2000.00")


def test_an_open_process_gives_the_stage_and_verified_figures_win() -> None:
    accepted = complaint("A", stage="in_case", decision="accept", decided_at=T0, deadlines=[])
    p = process(
        "C-1",
        stage="payment",
        classification="wage_arrears",
        amount_verified=Decimal("900"),
        workers_verified=4,
        stage_times={"verification": T0.isoformat(), "payment": T0.isoformat()},
    )
    s = domain.summarize([accepted, complaint("B")], [p], {"C-1": Decimal("300")})
    assert (s.stage, s.classification, s.workers_affected) == ("payment", "wage_arrears", 4)
    assert s.amount_verified == Decimal("900") and s.amount_recovered == Decimal("300")
    # The earliest pending deadline among open complaints and processes.
    assert s.next_deadline == datetime.fromisoformat("2026-10-16T00:00:00+08:00")
    assert {"received", "accepted", "verification", "payment"} <= set(s.stage_times)


def test_a_case_closes_when_its_process_and_complaints_have_closed() -> None:
    closed_at = datetime(2026, 11, 2, tzinfo=UTC)
    c = complaint(
        "A",
        stage="callback",
        status="closed",
        decision="accept",
        decided_at=T0,
        closure_reason="paid_in_full",
        closed_at=closed_at,
        deadlines=[],
    )
    p = process("C-1", stage="closed", status="closed", closure_reason="paid_in_full", closed_at=closed_at)
    s = domain.summarize([c], [p], {})
    assert (s.stage, s.status, s.closure_reason, s.closed_at) == ("closed", "closed", "paid_in_full", closed_at)
    assert s.next_deadline is None and not s.overdue
    assert s.stage_times["closed"] == closed_at.isoformat()


def test_overdue_comes_from_open_parts_only() -> None:
    s = domain.summarize([complaint("A", overdue=True)], [], {})
    assert s.overdue
    p = process("C-1", investigation_overdue=True, status="closed", stage="closed", closed_at=T0)
    assert not domain.summarize([complaint("A", status="closed", stage="callback", closed_at=T0)], [p], {}).overdue


def test_an_action_goes_to_the_only_process_or_the_one_named() -> None:
    assert domain.target_process(["C-1"], None) == "C-1"
    assert domain.target_process(["C-1", "C-2"], "C-2") == "C-2"
    with pytest.raises(Refused) as none:
        domain.target_process([], None)
    assert not none.value.request_at_fault
    with pytest.raises(Refused) as several:
        domain.target_process(["C-1", "C-2"], None)
    assert several.value.request_at_fault and "C-2" in (several.value.detail or "")
    with pytest.raises(Refused) as unknown:
        domain.target_process(["C-1"], "C-9")
    assert unknown.value.request_at_fault


def test_scope() -> None:
    county = Principal("inspector-130402", Role.county_inspector, county="130402")
    city = Principal("city-office", Role.city_office)
    clerk = Principal("clerk-130402", Role.intake_clerk, county="130402")
    assert domain.may_see(county, "130402") and not domain.may_see(county, "130403")
    assert domain.may_see(city, "130403") and not domain.may_see(clerk, "130402")
    assert domain.county_scope(county) == "130402" and domain.county_scope(city) is None
    assert domain.city_of("130402") == "130400"


def test_split_ids_are_stable_and_distinct() -> None:
    one = domain.split_case_id("C-1", ["B", "A"])
    assert one == domain.split_case_id("C-1", ["A", "B"]) and one.startswith("C-S")
    assert one != domain.split_case_id("C-1", ["A"])


@pytest.mark.parametrize(
    ("kind", "day", "start", "end", "label"),
    [
        ("daily", date(2026, 11, 28), date(2026, 11, 28), date(2026, 11, 29), "2026-11-28"),
        ("weekly", date(2026, 11, 28), date(2026, 11, 23), date(2026, 11, 30), "2026-W48"),
        ("quarterly", date(2026, 11, 28), date(2026, 10, 1), date(2027, 1, 1), "2026-Q4"),
        ("quarterly", date(2026, 2, 1), date(2026, 1, 1), date(2026, 4, 1), "2026-Q1"),
    ],
)
def test_periods(kind: periods.PeriodKind, day: date, start: date, end: date, label: str) -> None:
    period = periods.period_containing(kind, day)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert periods.parse_period(kind, label) == period


def test_the_previous_period_is_the_last_complete_one() -> None:
    assert periods.previous_period("quarterly", date(2027, 1, 1)).label == "2026-Q4"
    assert periods.previous_period("weekly", date(2026, 11, 30)).label == "2026-W48"
    with pytest.raises(ValueError, match="2026-Q4"):
        periods.parse_period("quarterly", "2026-Q5")


def test_period_bounds_are_china_standard_time_days() -> None:
    start, end = periods.parse_period("daily", "2026-11-28").bounds()
    assert start == datetime(2026, 11, 27, 16, 0, tzinfo=UTC) and end == datetime(2026, 11, 28, 16, 0, tzinfo=UTC)


def test_figures_by_county_sum_into_their_city() -> None:
    facts = report_figures.ReportFacts(
        received=Counter({"130402": 2, "130403": 1}),
        accepted=Counter({"130402": 1}),
        confirmed=Counter({"130403": 1}),
        resolved=Counter({("130402", True): 1, ("130402", False): 1, ("130403", True): 1}),
        recovered={"130403": Decimal("1300.00")},
        helped=Counter({"130403": 3}),
        facts=Counter(
            {
                ("130402", "criminal_referral"): 1,
                ("130402", "blacklist"): 1,
                ("130403", "handoff_overdue"): 1,
                ("130403", "something_else"): 1,
            }
        ),
    )
    rows = report_figures.report_rows(report_figures.compute_figures(facts))
    assert [(r["level"], r["area"]) for r in rows] == [("county", "130402"), ("county", "130403"), ("city", "130400")]
    a, b, city = rows
    assert (a["clues_received"], a["resolved"], a["on_time_rate"], a["criminal_referrals"], a["blacklist_entries"]) == (
        2,
        2,
        "0.5000",
        1,
        1,
    )
    assert (b["amount_recovered"], b["workers_helped"], b["handoffs_overdue"], b["on_time_rate"]) == (
        "1300.00",
        3,
        1,
        "1.0000",
    )
    assert (city["clues_received"], city["resolved"], city["resolved_on_time"], city["on_time_rate"]) == (
        3,
        3,
        2,
        "0.6667",
    )
    assert report_figures.Figures().as_dict()["on_time_rate"] is None


def test_the_csv_has_machine_and_chinese_headers_and_one_row_per_area() -> None:
    period = periods.parse_period("quarterly", "2026-Q4")
    rows = report_figures.report_rows(
        report_figures.compute_figures(report_figures.ReportFacts(received=Counter({"130402": 1})))
    )
    parsed = list(csv.reader(io.StringIO(report_figures.report_csv(period, rows))))
    assert parsed[0][:4] == ["period", "level", "area", "clues_received"]
    assert parsed[1][:4] == ["期间", "层级", "地区", "收到线索"]
    assert parsed[2][:4] == ["2026-Q4", "county", "130402", "1"] and parsed[3][:3] == ["2026-Q4", "city", "130400"]
    assert parsed[2][parsed[0].index("on_time_rate")] == ""


def test_deadlines_from_a_status_are_sorted() -> None:
    entries = domain.deadlines_from_status(
        {
            "b": {"due_at": "2026-12-02T00:00:00+08:00", "outcome": "pending"},
            "a": {"due_at": "2026-12-01T00:00:00+08:00", "outcome": "met", "provisional": True},
        }
    )
    assert [e["name"] for e in entries] == ["a", "b"] and entries[0]["provisional"]
