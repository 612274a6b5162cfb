"""Major-violation publication and the criminal-transfer register on the real stack: cases marked by the
lifecycle, referrals learnt from the event stream, a quarter's list drafted (by the API and by the Temporal
Schedule), approved by the city office and published as record, event, PDF and HTML.

The referrals service is built at the same time by another engineer: its events are produced here on the
real Kafka topic exactly as `services/contracts/referrals_events.py` defines them, rather than by starting
its half-built processes.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from kafka import KafkaProducer
from openpyxl import load_workbook
from temporalio.client import Client, ScheduleActionStartWorkflow

from deploy.stack import Stack
from services.common.kafka import client_options
from services.common.pagination import encode_cursor
from services.common.settings import CommonSettings
from services.common.temporal import connect
from services.contracts.events import EventEnvelope, Topics
from services.contracts.referrals_events import (
    ReferralDecided,
    ReferralDecision,
    ReferralKind,
    ReferralMade,
)
from services.contracts.sanctions_workflows import QUARTERLY_LIST_WORKFLOW_TYPE, TASK_QUEUE
from services.sanctions.domain import china_date, previous_quarter, quarter_of
from services.sanctions.worker import QUARTERLY_SCHEDULE_ID

from .conftest import Employer, Sanctions, wait_for


def produce_referral(stack: Stack, employer: Employer, decision: ReferralDecision | None) -> str:
    referral_id = f"REF-{uuid.uuid4().hex[:10].upper()}"
    made = ReferralMade(
        referral_id=referral_id,
        case_id=employer.case_id,
        county=employer.county,
        employer_ref=employer.ref,
        target=ReferralKind.POLICE,
        letter_id=f"L-{referral_id}",
        document_number="邯欠薪办移〔2026〕7号",
        unpaid_amount=Decimal("45000.00"),
        workers=3,
    )
    events = [EventEnvelope.wrap(made, subject=employer.case_id, producer="referrals")]
    if decision is not None:
        decided = ReferralDecided(
            referral_id=referral_id,
            case_id=employer.case_id,
            county=employer.county,
            target=ReferralKind.POLICE,
            decision=decision,
            decided_by="police",
            decision_ref="邯公立字〔2026〕12号",
        )
        events.append(EventEnvelope.wrap(decided, subject=employer.case_id, producer="referrals"))
    producer = KafkaProducer(**client_options(stack.client_settings()), acks="all")
    try:
        for event in events:
            producer.send(Topics.REFERRALS, key=event.subject.encode(), value=event.to_bytes())
            # Delivered twice, as a relay resending after a crash would: the register applies it once.
            producer.send(Topics.REFERRALS, key=event.subject.encode(), value=event.to_bytes())
        producer.flush(timeout=30)
    finally:
        producer.close()
    return referral_id


def test_referrals_to_the_police_form_the_register_with_their_outcome(sanctions: Sanctions, stack: Stack) -> None:
    employer = sanctions.employer()
    referral_id = produce_referral(stack, employer, ReferralDecision.ACCEPTED)
    row = wait_for(
        "the referral in the register",
        lambda: next(
            (
                r
                for r in sanctions.city.get("/v1/criminal-transfers", params={"limit": 200}).json()["items"]
                if r["referral_id"] == referral_id and r["outcome"] == "accepted"
            ),
            None,
        ),
    )
    assert row["case_id"] == employer.case_id and row["unpaid_amount"] == "45000.00" and row["target"] == "police"
    assert row["decision_ref"] == "邯公立字〔2026〕12号"
    assert len(sanctions.query("SELECT 1 FROM criminal_transfers WHERE referral_id = %s", referral_id)) == 1
    stats = sanctions.city.get("/v1/criminal-transfers/statistics").json()["rows"]
    police = next(r for r in stats if r["county"] == employer.county and r["target"] == "police")
    assert police["referrals"] >= 1 and police["accepted"] >= 1
    assert sanctions.public.get("/v1/criminal-transfers").status_code == 401


def test_a_quarter_list_is_drafted_approved_and_published_with_only_what_may_be_published(
    sanctions: Sanctions, stack: Stack
) -> None:
    large, referred, small = sanctions.employer(), sanctions.employer(), sanctions.employer()
    for employer, amount in ((large, "150000.00"), (referred, "45000.00"), (small, "20000.00")):
        sanctions.file_complaint(employer, amount=amount)
        body, key = sanctions.sanction_request(employer, "publication", amount=amount)
        first = sanctions.lifecycle_post("/v1/publication-marks", body, key)
        assert first.status_code == 201, first.text
        assert sanctions.lifecycle_post("/v1/publication-marks", body, key).json() == first.json()
    produce_referral(stack, referred, None)
    wait_for(
        "the referral in the register",
        lambda: sanctions.query("SELECT 1 FROM criminal_transfers WHERE case_id = %s", referred.case_id),
    )

    quarter = quarter_of(china_date(datetime.now(UTC)))
    drafted = sanctions.city.post("/v1/publication-lists", json={"quarter": quarter})
    assert drafted.status_code == 200, drafted.text
    draft = drafted.json()
    assert draft["status"] == "draft"
    cases = {entry["case_id"]: entry for entry in draft["entries"]}
    assert large.case_id in cases and referred.case_id in cases  # large arrears; referred to the judiciary
    assert small.case_id not in cases
    assert "移送公安机关" in cases[referred.case_id]["handling"]
    assert sanctions.inspector.post(f"/v1/publication-lists/{draft['list_id']}/approval").status_code == 403

    # The draft opens in Excel for the office's review: its title, the columns of the published list, its rows.
    workbook = sanctions.city.get(f"/v1/publication-lists/{draft['list_id']}.xlsx")
    assert workbook.status_code == 200, workbook.text
    table = [[c.value for c in row] for row in load_workbook(io.BytesIO(workbook.content)).active.iter_rows()]  # type: ignore[union-attr]
    assert "重大劳动保障违法行为社会公布" in table[0][0] and table[1][0] == "违法主体"
    assert {row[1] for row in table[2:]} >= {large.credit_code, referred.credit_code}
    assert sanctions.city.get("/v1/publication-lists/PL-NONE.xlsx").status_code == 404

    approved = sanctions.city.post(f"/v1/publication-lists/{draft['list_id']}/approval")
    assert approved.status_code == 200, approved.text
    published = approved.json()
    assert published["status"] == "published" and published["approved_by"] == "city-office"

    found = sanctions.public.get("/v1/public/major-violations", params={"q": large.credit_code}).json()
    assert [item["employer_name"] for item in found["items"]] == [large.name]
    assert set(found["items"][0]) == {
        "quarter",
        "list_id",
        "employer_name",
        "credit_code",
        "project_name",
        "county",
        "violation",
        "handling",
    }
    pdf = sanctions.public.get(f"/v1/documents/{published['pdf_document_id']}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    page = sanctions.public.get(f"/v1/documents/{published['html_document_id']}")
    assert page.status_code == 200 and large.name in page.text and "重大劳动保障违法行为" in page.text
    assert sanctions.query(
        "SELECT 1 FROM outbox WHERE event_type = 'publication.list_published' AND envelope->'payload'->>'list_id' = %s",
        draft["list_id"],
    )
    # Published lists do not change: drafting the quarter again leaves it as published.
    assert sanctions.city.post("/v1/publication-lists", json={"quarter": quarter}).json()["status"] == "published"


def test_the_quarterly_schedule_drafts_the_last_complete_quarter(sanctions: Sanctions, stack: Stack) -> None:
    async def trigger() -> None:
        secrets = stack.development_secrets()
        settings = CommonSettings.model_validate(
            {
                "temporal_address": stack.temporal.address,
                "ANXIN_PAYLOAD_KEYS": secrets.get("ANXIN_PAYLOAD_KEYS"),
                "ANXIN_PAYLOAD_KEY_ID": secrets.get("ANXIN_PAYLOAD_KEY_ID"),
            }
        )
        client: Client = await connect(settings)
        handle = client.get_schedule_handle(QUARTERLY_SCHEDULE_ID)
        description = await handle.describe()
        action = description.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.workflow == QUARTERLY_LIST_WORKFLOW_TYPE and action.task_queue == TASK_QUEUE
        # The cron comes back as the server's calendar form: on the 1st of January, April, July and October.
        assert description.schedule.spec.calendars or description.schedule.spec.cron_expressions
        await handle.trigger()

    asyncio.run(trigger())
    expected = f"PL-{previous_quarter(china_date(datetime.now(UTC)))}"
    wait_for(
        "the scheduled draft", lambda: sanctions.query("SELECT 1 FROM publication_lists WHERE list_id = %s", expected)
    )


def test_bad_cursors_and_out_of_range_quarters_are_refused_as_problems(sanctions: Sanctions) -> None:
    # Year 0 was a server error found by `make fuzz` (it reached the date arithmetic); a cursor is checked
    # before it reaches PostgreSQL, and one list's cursor is no other's.
    other_lists = [encode_cursor("listings", "2026-01-01T00:00:00+00:00", "L-1"), "not a cursor", "e30"]
    for response in (
        *(sanctions.city.get("/v1/criminal-transfers", params={"cursor": c}) for c in other_lists),
        sanctions.city.get("/v1/listings", params={"cursor": "bm90IGpzb24"}),
        sanctions.city.get("/v1/audit", params={"cursor": other_lists[0]}),
        sanctions.city.post("/v1/publication-lists", json={"quarter": "0000-Q1"}),
        sanctions.city.post("/v1/publication-lists", json={"quarter": "8514-Q1"}),
    ):
        assert response.status_code == 422, (response.request.url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
