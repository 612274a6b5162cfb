"""Joint interviews (联合约谈) on the real stack: an employer with three cases filed through intake is proposed;
the city office schedules the interview with the police and tax invited (a letter per invitee, the event on
Kafka), records it with the commitments made; a commitment past its due date is listed overdue and counted by
the gauge until its outcome is recorded.

The department directory is the referrals service's `departments.configured` event, produced here on the real
topic from the referrals configuration (as `test_publication.py` produces referrals' events) rather than by
starting the referrals processes.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import KafkaConsumer, KafkaProducer

from deploy.stack import Stack
from services.common.kafka import client_options
from services.contracts.events import EventEnvelope, Topics
from services.referrals.departments import load_departments
from services.referrals.settings import DEFAULT_DEPARTMENTS
from services.sanctions.gauges import measure_interviews
from services.sanctions.interviews import ProposalRule

from .conftest import Sanctions, wait_for


def publish_directory(stack: Stack) -> None:
    directory = load_departments(DEFAULT_DEPARTMENTS).directory()
    event = EventEnvelope.wrap(directory, subject="departments", producer="referrals")
    producer = KafkaProducer(**client_options(stack.client_settings()), acks="all")
    try:
        producer.send(Topics.REFERRALS, key=b"departments", value=event.to_bytes())
        producer.flush(timeout=30)
    finally:
        producer.close()


def sanctions_event(stack: Stack, event_type: str, subject: str, timeout: float = 60) -> EventEnvelope:
    consumer = KafkaConsumer(
        Topics.SANCTIONS,
        **client_options(stack.client_settings()),
        group_id=f"interviews-test-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    envelope = EventEnvelope.from_bytes(record.value)
                    if envelope.type == event_type and envelope.subject == subject:
                        return envelope
    finally:
        consumer.close(autocommit=False)
    raise AssertionError(f"{event_type} for {subject} never reached {Topics.SANCTIONS}")


def proposal_of(sanctions: Sanctions, client_name: str, employer_ref: str) -> dict[str, Any] | None:
    client = getattr(sanctions, client_name)
    response = client.get("/v1/interview-proposals", params={"limit": 200})
    assert response.status_code == 200, response.text
    return next((p for p in response.json()["items"] if p["employer_ref"] == employer_ref), None)


def gauge(sanctions: Sanctions, county: str) -> float:
    with sanctions.db() as conn:
        families = measure_interviews(conn)
    return next((s.value for f in families for s in f.samples if s.labels["county"] == county), 0.0)


def test_an_employer_with_three_cases_is_interviewed_and_its_commitments_followed_up(
    sanctions: Sanctions,
    stack: Stack,
) -> None:
    publish_directory(stack)
    first = sanctions.employer()
    # Three projects of one employer: three cases (a case is one employer on one project).
    employers = [
        first,
        dataclasses.replace(first, project=first.project + "二期"),
        dataclasses.replace(first, project=first.project + "三期"),
    ]
    assert ProposalRule().min_cases == 3  # the default the service runs with in this stack
    for employer in employers[:2]:
        sanctions.file_complaint(employer, amount="40000.00")
    assert proposal_of(sanctions, "city", first.ref) is None  # two cases of 40000: not yet
    sanctions.file_complaint(employers[2], amount="40000.00")

    proposed = proposal_of(sanctions, "city", first.ref)
    assert proposed is not None, "three cases in twelve months: proposed"
    assert proposed["grounds"] == ["repeated_cases"] and proposed["case_count"] == 3
    assert proposed["amount_owed"] == "120000.00" and proposed["counties"] == ["130402"]
    assert proposed["credit_code"] == first.credit_code and proposed["employer_name"] == first.name
    assert {c["case_id"] for c in proposed["cases"]} == {e.case_id for e in employers}
    assert proposal_of(sanctions, "inspector", first.ref) is not None  # a case in the inspector's county
    paged, cursor = [], None
    while True:  # one employer a page, following the cursor
        page = sanctions.city.get(
            "/v1/interview-proposals", params={"limit": 1, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        paged += [p["employer_ref"] for p in page.json()["items"]]
        if not (cursor := page.json()["next_cursor"]):
            break
    assert first.ref in paged and len(paged) == len(set(paged))
    assert sanctions.city.get("/v1/interview-proposals", params={"cursor": "bm9wZQ"}).status_code == 422

    when = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    body = {
        "employer_ref": first.ref,
        "scheduled_for": when.isoformat(),
        "place": "市人社局三楼会议室",
        "departments": ["police", "tax"],
    }
    assert sanctions.inspector.post("/v1/interviews", json=body).status_code == 403
    unknown = sanctions.city.post("/v1/interviews", json={**body, "departments": ["police", "nobody"]})
    assert unknown.status_code == 422 and unknown.json()["type"].endswith("/unknown-department"), unknown.text
    past = sanctions.city.post("/v1/interviews", json={**body, "scheduled_for": "2020-01-01T09:00:00+08:00"})
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "scheduled_for", past.text
    far = sanctions.city.post("/v1/interviews", json={**body, "scheduled_for": "9999-12-31T23:00:00+00:00"})
    assert far.status_code == 422, far.text

    key = f"interview-{uuid.uuid4().hex[:8]}"

    def schedule() -> tuple[Any] | None:
        response = sanctions.city.post("/v1/interviews", json=body, headers={"Idempotency-Key": key})
        return (response,) if response.status_code != 422 else None

    (scheduled,) = wait_for("the department directory from the referrals event", schedule)
    assert scheduled.status_code == 201, scheduled.text
    answer = scheduled.json()
    interview_id = answer["interview_id"]
    again = sanctions.city.post("/v1/interviews", json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 200 and again.json()["interview_id"] == interview_id and again.json()["repeated"]

    # One invitation letter per invitee: the employer and each department, each a PDF on the letterhead.
    letters = {letter["invitee"]: letter for letter in answer["letters"]}
    assert set(letters) == {"employer", "police", "tax"}
    assert len({letter["document_number"] for letter in letters.values()}) == 3
    for letter in letters.values():
        pdf = sanctions.city.get(f"/v1/documents/{letter['document_id']}")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 1000
    assert sanctions.public.get(f"/v1/documents/{letters['employer']['document_id']}").status_code == 401

    event = sanctions_event(stack, "interview.scheduled", interview_id)
    assert event.payload["employer_ref"] == first.ref and event.payload["departments"] == ["police", "tax"]
    assert sorted(event.payload["case_ids"]) == sorted(e.case_id for e in employers)
    assert len(event.payload["letters"]) == 3
    assert proposal_of(sanctions, "city", first.ref) is None  # interviewed in the window: not proposed again

    # The interview held: the legal representative came, the police did, tax did not; two commitments.
    yesterday = (datetime.now(UTC) + timedelta(hours=8)).date() - timedelta(days=1)
    record = {
        "employer_representative": "legal_representative",
        "departments": {"police": True, "tax": False},
        "commitments": [
            {"text": "十日内结清一期项目工资", "amount": "40000.00", "due_date": yesterday.isoformat()},
            {"text": "二期、三期项目工资按月足额支付", "due_date": (yesterday + timedelta(days=60)).isoformat()},
        ],
        "note": "企业表示将筹措资金",
    }
    assert (
        sanctions.city.post(
            f"/v1/interviews/{interview_id}/record", json={**record, "departments": {"court": True}}
        ).status_code
        == 422
    )
    before = gauge(sanctions, "130402")
    held = sanctions.city.post(f"/v1/interviews/{interview_id}/record", json=record)
    assert held.status_code == 200, held.text
    assert sanctions.city.post(f"/v1/interviews/{interview_id}/record", json=record).status_code == 409
    held_event = sanctions_event(stack, "interview.held", interview_id)
    assert held_event.payload["departments_attended"] == ["police"]
    assert held_event.payload["departments_absent"] == ["tax"]
    assert [c["n"] for c in held_event.payload["commitments"]] == [1, 2]
    assert "text" not in held_event.payload["commitments"][0] and "note" not in held_event.payload

    # The first commitment is past its due date with no outcome: overdue, in the list and the gauge.
    overdue = sanctions.city.get("/v1/interviews", params={"overdue": "true", "limit": 200}).json()["items"]
    mine = next(i for i in overdue if i["interview_id"] == interview_id)
    assert [c["overdue"] for c in mine["commitments"]] == [True, False] and mine["overdue_commitments"] == 1
    assert mine["status"] == "held" and mine["attendance"]["employer_representative"] == "legal_representative"
    assert gauge(sanctions, "130402") == before + 1
    in_county = sanctions.inspector.get("/v1/interviews", params={"overdue": "true", "limit": 200}).json()["items"]
    assert interview_id in {i["interview_id"] for i in in_county}

    outcome = sanctions.city.post(
        f"/v1/interviews/{interview_id}/commitments/1/outcome",
        json={"outcome": "broken", "facts": "逾期未支付，工人再次投诉"},
    )
    assert outcome.status_code == 200, outcome.text
    assert (
        sanctions.city.post(
            f"/v1/interviews/{interview_id}/commitments/1/outcome", json={"outcome": "kept", "facts": "已支付"}
        ).status_code
        == 409
    )
    assert (
        sanctions.city.post(
            f"/v1/interviews/{interview_id}/commitments/9/outcome", json={"outcome": "kept", "facts": "已支付"}
        ).status_code
        == 404
    )
    broken = sanctions_event(stack, "interview.commitment_broken", interview_id)
    assert broken.payload["n"] == 1 and broken.payload["amount"] == "40000.00"
    view = sanctions.city.get(f"/v1/interviews/{interview_id}").json()
    assert view["commitments"][0]["outcome"] == "broken" and not view["commitments"][0]["overdue"]
    overdue = sanctions.city.get("/v1/interviews", params={"overdue": "true", "limit": 200}).json()["items"]
    assert interview_id not in {i["interview_id"] for i in overdue}
    assert gauge(sanctions, "130402") == before
    # The same request with the same key sent twice at once: one outcome, both answered with it.
    kept = {"outcome": "kept", "facts": "二期工资已按月支付"}
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(
                lambda _: sanctions.city.post(
                    f"/v1/interviews/{interview_id}/commitments/2/outcome",
                    json=kept,
                    headers={"Idempotency-Key": f"{key}-kept"},
                ),
                range(2),
            )
        )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert answers[0].json()["action_id"] == answers[1].json()["action_id"]
    assert sum(1 for a in answers if a.json().get("repeated")) == 1
    audit = sanctions.query("SELECT action FROM audit_log WHERE subject = %s ORDER BY at", interview_id)
    assert [a["action"] for a in audit] == [
        "interview.scheduled",
        "interview.held",
        "interview.commitment_broken",
        "interview.commitment_kept",
    ]
