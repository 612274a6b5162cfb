"""An arbitration referral on the real stack: 5 calendar days to accept (劳动争议调解仲裁法 art. 29), then the
award within 45 days of the acceptance, extendable once by at most 15 (art. 43); the register shows the
limits, and the arbitration body records its extension and its award through the referrals API."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import psycopg
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from services.contracts.lifecycle import CalendarConfig, DayUnit
from services.referrals import domain
from tests.integration.referrals.conftest import Agencies, events_of
from tests.support.agencies import wait_for


def _today() -> date:
    return domain.china_date(datetime.now(domain.CHINA_TZ))


def _calendar_days(days: int, start: date | None = None) -> date:
    due, _ = domain.period_due(datetime.now(domain.CHINA_TZ), days, DayUnit.CALENDAR, CalendarConfig(), start=start)
    return due


def test_arbitration_accepts_in_calendar_days_and_its_award_limit_is_kept_extended_and_met(
    agencies: Agencies,
) -> None:
    a = agencies
    case = a.new_case()
    case_id = case["case_id"]
    made = a.inspector.post(
        "/v1/fast-track-referrals",
        headers={"Idempotency-Key": f"arb-{case_id}"},
        json={"case_id": case_id, "target": "arbitration", "basis": "劳动争议，申请仲裁速裁"},
    )
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    referral = a.arbitration.get(f"/v1/referrals/{rid}").json()
    assert referral["due_date"] == _calendar_days(5).isoformat()
    assert referral["award_due_date"] is None

    # Before acceptance there is no award to extend or record.
    early = a.arbitration.post(
        f"/v1/referrals/{rid}/award",
        headers={"Idempotency-Key": f"aw0-{rid}"},
        json={"award_ref": "邯劳人仲案字〔2026〕1号", "awarded_on": _today().isoformat()},
    )
    assert early.status_code == 409 and early.headers["content-type"].startswith("application/problem+json")

    accepted = a.arbitration.post(
        f"/v1/referrals/{rid}/decision", json={"decision": "accepted", "decision_ref": "邯劳人仲受〔2026〕7号"}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["award_due_date"] == _calendar_days(45).isoformat()
    # The award's follow-up runs on the referrals worker.
    wait_for(
        "the award follow-up",
        lambda: _status(a, f"referral:{rid}:award") is WorkflowExecutionStatus.RUNNING,
        timeout=60,
    )

    extension = {
        "days": 15,
        "approved_on": _today().isoformat(),
        "approval_ref": "邯劳人仲延〔2026〕2号",
        "reason": "案情复杂，需补充调查",
    }
    key = f"ext-{uuid.uuid4().hex[:8]}"
    # Scope: only the arbitration body records it; the police are not even shown the referral.
    assert (
        a.legal_aid.post(
            f"/v1/referrals/{rid}/award-extension", headers={"Idempotency-Key": key}, json=extension
        ).status_code
        == 403
    )
    assert (
        a.police.post(
            f"/v1/referrals/{rid}/award-extension", headers={"Idempotency-Key": key}, json=extension
        ).status_code
        == 403
    )
    # Bad input: more than 15 days is not a request the body can make; no key, no record.
    too_long = a.arbitration.post(
        f"/v1/referrals/{rid}/award-extension", headers={"Idempotency-Key": key}, json={**extension, "days": 91}
    )
    assert too_long.status_code == 422 and too_long.headers["content-type"].startswith("application/problem+json")
    assert a.arbitration.post(f"/v1/referrals/{rid}/award-extension", json=extension).status_code == 400
    first = a.arbitration.post(f"/v1/referrals/{rid}/award-extension", headers={"Idempotency-Key": key}, json=extension)
    assert first.status_code == 201, first.text
    extended_to = (_calendar_days(60, start=_today())).isoformat()
    assert first.json()["award_due_date"] == extended_to
    again = a.arbitration.post(f"/v1/referrals/{rid}/award-extension", headers={"Idempotency-Key": key}, json=extension)
    assert again.status_code == 200 and again.json() == first.json()
    assert (
        a.arbitration.post(
            f"/v1/referrals/{rid}/award-extension",
            headers={"Idempotency-Key": key},
            json={**extension, "reason": "另一理由"},
        ).status_code
        == 422
    )
    twice = a.arbitration.post(
        f"/v1/referrals/{rid}/award-extension", headers={"Idempotency-Key": f"ext2-{rid}"}, json=extension
    )
    assert twice.status_code == 409 and "once" in twice.json()["detail"]
    assert a.arbitration.get(f"/v1/referrals/{rid}").json()["award_due_date"] == extended_to

    future = (_today() + timedelta(days=2)).isoformat()
    assert (
        a.arbitration.post(
            f"/v1/referrals/{rid}/award",
            headers={"Idempotency-Key": f"aw1-{rid}"},
            json={"award_ref": "邯劳人仲案字〔2026〕1号", "awarded_on": future},
        ).status_code
        == 409
    )
    award = a.arbitration.post(
        f"/v1/referrals/{rid}/award",
        headers={"Idempotency-Key": f"aw2-{rid}"},
        json={"award_ref": "邯劳人仲案字〔2026〕1号", "awarded_on": _today().isoformat()},
    )
    assert award.status_code == 201 and award.json()["late"] is False, award.text
    register = a.city.get("/v1/referrals", params={"case_id": case_id}).json()["items"][0]
    assert register["awarded_on"] == _today().isoformat() and register["award_extension_days"] == 15

    events = events_of(a, case_id, lambda seen: any(e.type == "referral.award_made" for e in seen))
    types = [e.type for e in events if e.type.startswith("referral.")]
    assert types.index("referral.decided") < types.index("referral.award_extended") < types.index("referral.award_made")
    decided = next(e.payload for e in events if e.type == "referral.decided")
    assert decided["award_due_date"] == _calendar_days(45).isoformat()
    with psycopg.connect(a.stack.postgres.service_url("referrals")) as conn:
        actions = [
            r[0]
            for r in conn.execute(
                "SELECT action FROM referrals.audit_log WHERE subject = %s ORDER BY at", (rid,)
            ).fetchall()
        ]
    assert actions[-2:] == ["referral.award_extension", "referral.award"], actions
    # The award ends its follow-up.
    wait_for(
        "the award follow-up ended",
        lambda: _status(a, f"referral:{rid}:award") is WorkflowExecutionStatus.COMPLETED,
        timeout=60,
    )


def _status(a: Agencies, workflow_id: str) -> WorkflowExecutionStatus | None:
    try:
        return a.run(a.temporal().get_workflow_handle(workflow_id).describe()).status  # type: ignore[no-any-return]
    except RPCError:
        return None  # not started yet
