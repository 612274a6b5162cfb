"""Pure rules: document numbers, due dates on the official calendar, handoff states and scopes."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.common.auth import Principal, Role
from services.common.problems import PROBLEM_BASE, problem_of
from services.contracts.lifecycle import DayUnit
from services.contracts.referrals_events import HandoffStatus, ReferralDecision, ReferralKind
from services.referrals import domain

CST = domain.CHINA_TZ


def test_document_numbers() -> None:
    assert domain.document_number("邯欠薪办交", 2026, 3) == "邯欠薪办交〔2026〕3号"
    with pytest.raises(ValueError):
        domain.document_number("邯欠薪办交", 2026, 0)
    assert domain.record_id("LTR", "k") == domain.record_id("LTR", "k") != domain.record_id("LTR", "k2")


def test_green_channel_is_due_at_the_end_of_the_working_day() -> None:
    # A Wednesday: the same day.
    due, due_at = domain.working_days_due(datetime(2026, 4, 15, 10, tzinfo=CST), 0)
    assert due == date(2026, 4, 15) and due_at == datetime(2026, 4, 16, tzinfo=CST)
    # National Day holiday (2026-10-01 … 10-07): the first working day after it.
    due, _ = domain.working_days_due(datetime(2026, 10, 2, 9, tzinfo=CST), 0)
    assert due == date(2026, 10, 8)


def test_working_day_deadlines_skip_holidays_and_count_make_up_days() -> None:
    # 5 working days from Monday 2026-09-28 cross National Day: 29, 30 Sep, then 8, 9, 10 Oct (10 Oct is a
    # make-up working day, a Saturday).
    due, _ = domain.working_days_due(datetime(2026, 9, 28, 9, tzinfo=CST), 5)
    assert due == date(2026, 10, 10)


def test_handoff_states() -> None:
    domain.check_acknowledge(HandoffStatus.SENT)
    for status in (HandoffStatus.ACKNOWLEDGED, HandoffStatus.RESPONDED, HandoffStatus.RETURNED):
        with pytest.raises(domain.Refused):
            domain.check_acknowledge(status)
    domain.check_answer(HandoffStatus.SENT)
    domain.check_answer(HandoffStatus.ACKNOWLEDGED)
    for status in (HandoffStatus.RESPONDED, HandoffStatus.RETURNED):
        with pytest.raises(domain.Refused):
            domain.check_answer(status)


def test_a_refusing_rule_is_answered_as_not_possible_now() -> None:
    with pytest.raises(domain.Refused) as refused:
        domain.check_acknowledge(HandoffStatus.RETURNED)
    problem = problem_of(refused.value)
    assert (problem.status, problem.type, problem.title) == (409, f"{PROBLEM_BASE}action-refused", "Not possible now")
    assert problem.detail == str(refused.value) and "退回" in str(refused.value)


def test_referral_decisions() -> None:
    domain.check_referral_decision("sent", ReferralKind.POLICE, ReferralDecision.ACCEPTED, None)
    with pytest.raises(domain.Refused, match="指派"):
        domain.check_referral_decision("sent", ReferralKind.LEGAL_AID, ReferralDecision.ACCEPTED, None)
    domain.check_referral_decision("sent", ReferralKind.LEGAL_AID, ReferralDecision.ACCEPTED, "LAW-1")
    for status in ("accepted", "declined", "withdrawn"):
        with pytest.raises(domain.Refused):
            domain.check_referral_decision(status, ReferralKind.POLICE, ReferralDecision.DECLINED, None)


def test_scopes() -> None:
    housing = Principal("dept-housing", Role.department, department="housing")
    transport = Principal("dept-transport", Role.department, department="transport")
    no_claim = Principal("dept-x", Role.department)
    inspector = Principal("inspector-130402", Role.county_inspector, county="130402")
    city = Principal("city-office", Role.city_office)
    police = Principal("police", Role.police)
    assert domain.may_see_handoff(housing, "housing", "130402")
    assert not domain.may_see_handoff(transport, "housing", "130402")
    assert not domain.may_see_handoff(no_claim, "housing", "130402")
    assert domain.may_see_handoff(inspector, "housing", "130402")
    assert not domain.may_see_handoff(inspector, "housing", "130403")
    assert domain.may_see_handoff(city, "housing", "130403")
    assert not domain.may_see_handoff(police, "housing", "130402")
    assert domain.may_answer_handoff(housing, "housing")
    assert not domain.may_answer_handoff(city, "housing")
    assert domain.may_see_referral(police, ReferralKind.POLICE, "130402")
    assert not domain.may_see_referral(police, ReferralKind.PROCURATORATE, "130402")
    assert not domain.may_see_referral(housing, ReferralKind.POLICE, "130402")
    assert domain.may_see_letter(housing, "housing", "industry_regulator", "130402")
    assert not domain.may_see_letter(transport, "housing", "industry_regulator", "130402")
    assert domain.may_see_letter(police, "police", "police", "130402")
    assert not domain.may_see_letter(police, "procuratorate", "procuratorate", "130402")


def test_arbitrations_five_days_are_calendar_days_ending_on_a_working_day() -> None:
    # 劳动争议调解仲裁法 art. 29: 5 days. From Tuesday 2026-04-14 that is Sunday 19 April, a rest day, so the
    # period ends on Monday 20 April; 5 working days would reach Tuesday 21 April.
    due, due_at = domain.period_due(datetime(2026, 4, 14, 10, tzinfo=CST), 5, DayUnit.CALENDAR)
    assert due == date(2026, 4, 20) and due_at == datetime(2026, 4, 21, tzinfo=CST)
    working, _ = domain.period_due(datetime(2026, 4, 14, 10, tzinfo=CST), 5, DayUnit.WORKING)
    assert working == date(2026, 4, 21)


def test_the_award_limit_counts_45_days_from_acceptance_and_the_extension_from_the_same_day() -> None:
    accepted = date(2026, 3, 2)
    due, _ = domain.period_due(datetime(2026, 3, 2, 9, tzinfo=CST), 45, DayUnit.CALENDAR, start=accepted)
    assert due == date(2026, 4, 16)
    extended, _ = domain.period_due(datetime(2026, 4, 10, 9, tzinfo=CST), 45 + 15, DayUnit.CALENDAR, start=accepted)
    # 1 May is a Friday inside the Labour Day holiday (1–5 May 2026): the period ends on Wednesday 6 May.
    assert extended == date(2026, 5, 6)
