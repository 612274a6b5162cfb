"""The blacklist procedure on the real stack: the lifecycle's requests, the whole life on a compressed clock
with the credit systems' feed applied exactly once across a consumer crash and a worker kill, agencies'
actions, and the decision not to list when wages are paid before the decision."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from deploy.stack import Stack
from services.contracts.credit_sharing_events import CreditEvents
from tests.support.factories import seed
from tests.support.identities import sample_id_number

from .conftest import CreditSystem, Sanctions, wait_for


def test_lifecycle_requests_are_checked_and_idempotent(
    sanctions: Sanctions, agency_token: Callable[[str], str]
) -> None:
    employer = sanctions.employer()
    below, key = sanctions.sanction_request(
        employer, "blacklist_procedure", basis="未达到数额较大标准（3 名劳动者，未付合计 9000 元）"
    )
    refused = sanctions.lifecycle_post("/v1/blacklist-procedures", below, key)
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
    assert "criteria" in refused.json()["title"]

    wrong_kind, key = sanctions.sanction_request(employer, "publication")
    assert sanctions.lifecycle_post("/v1/blacklist-procedures", wrong_kind, key).status_code == 422

    body, key = sanctions.sanction_request(employer, "blacklist_procedure")
    assert sanctions.lifecycle.post("/v1/blacklist-procedures", json=body).status_code == 400  # no key
    inspector = httpx.post(
        f"{sanctions.lifecycle.base_url}/v1/blacklist-procedures",
        json=body,
        headers={"Idempotency-Key": key, "Authorization": f"Bearer {agency_token('inspector-130402')}"},
    )
    assert inspector.status_code == 403  # an agency token cannot start a listing

    mass, key = sanctions.sanction_request(employer, "blacklist_procedure", basis="拖欠工资引发群体性事件")
    first = sanctions.lifecycle_post("/v1/blacklist-procedures", mass, key)
    assert first.status_code == 201, first.text
    assert set(first.json()) == {"id"}  # exactly the contract's DocumentRef
    again = sanctions.lifecycle_post("/v1/blacklist-procedures", mass, key)
    assert again.status_code == 200 and again.json() == first.json()
    reused = sanctions.lifecycle_post("/v1/blacklist-procedures", {**mass, "amount": "1.00"}, key)
    assert reused.status_code == 422 and "reused" in reused.json()["title"]
    # A second proposal for the same case is answered with the live procedure.
    other, other_key = sanctions.sanction_request(employer, "blacklist_procedure")
    assert sanctions.lifecycle_post("/v1/blacklist-procedures", other, other_key).json() == first.json()
    assert len(sanctions.query("SELECT 1 FROM listings WHERE case_id = %s", employer.case_id)) == 1
    listing = sanctions.listing_until(first.json()["id"], lambda item: item["stage"] == "defence", "the prior notice")
    assert listing["ground"] == "mass_incident"


def test_a_listing_reaches_the_credit_systems_exactly_once_and_leaves_after_three_years(
    sanctions: Sanctions,
    stack: Stack,
) -> None:
    # New procedures run on a compressed clock: one legal day in 0.03 s, three years in about 33 s.
    sanctions.restart_api(ANXIN_WORKING_DAY_SECONDS="0.03")
    credit = CreditSystem(stack.client_settings())
    try:
        credit.start()
        employer = sanctions.employer()
        sanctions.file_complaint(employer)
        body, key = sanctions.sanction_request(employer, "blacklist_procedure")
        created = sanctions.lifecycle_post("/v1/blacklist-procedures", body, key)
        assert created.status_code == 201, created.text
        listing_id = created.json()["id"]

        listed = sanctions.listing_until(listing_id, lambda item: item["stage"] == "listed", "the listing", timeout=60)
        assert listed["employer_name"] == employer.name and listed["credit_code"] == employer.credit_code
        assert listed["decision_number"] and listed["expires_on"] > listed["listed_on"]

        # The public finds it by credit code and by name, with nothing about workers.
        by_code = sanctions.public.get("/v1/public/blacklist", params={"q": employer.credit_code}).json()["items"]
        assert [item["listing_id"] for item in by_code] == [listing_id]
        by_name = sanctions.public.get("/v1/public/blacklist", params={"q": employer.name[-10:]}).json()["items"]
        assert listing_id in [item["listing_id"] for item in by_name]
        assert set(by_code[0]) == {
            "listing_id",
            "employer_name",
            "credit_code",
            "county",
            "ground",
            "decision_number",
            "listed_on",
            "expires_on",
            "responsible_persons",
        }

        # The credit system reads the entry, crashes before committing, and reads it again: one effect.
        added = credit.wait_for(listing_id, CreditEvents.ENTRY_ADDED, commit=False)
        assert added.payload["credit_code"] == employer.credit_code and added.payload["employer_name"] == employer.name
        credit.crash()
        credit.start()

        def redelivered() -> bool:
            credit.poll()
            return credit.deliveries.count(str(added.event_id)) >= 2

        wait_for("the entry delivered again after the crash", redelivered)

        # The worker is killed during the listing period: the three-year timer is durable.
        stack.kill_process("sanctions-worker")
        spec = stack.spec("sanctions-worker")
        stack.start_process(spec)
        stack.wait_process_ready(spec, 60)

        removed = credit.wait_for(listing_id, CreditEvents.ENTRY_REMOVED, timeout=120)
        assert removed.payload["reason"] == "expired" and removed.payload["credit_code"] == employer.credit_code
        assert credit.effects(listing_id) == [CreditEvents.ENTRY_ADDED, CreditEvents.ENTRY_REMOVED]
        final = sanctions.listing_until(listing_id, lambda item: item["stage"] == "removed", "the removal")
        assert final["removal_reason"] == "expired"
        assert sanctions.public.get(f"/v1/public/blacklist/{listing_id}").status_code == 404
        # Exactly one of each in the service's outbox, whatever was delivered.
        sent = sanctions.query(
            "SELECT event_type, count(*) AS n FROM outbox WHERE envelope->'payload'->>'listing_id' = %s "
            "GROUP BY event_type",
            listing_id,
        )
        counts = {row["event_type"]: row["n"] for row in sent}
        assert counts[CreditEvents.ENTRY_ADDED] == 1 and counts[CreditEvents.ENTRY_REMOVED] == 1
        assert counts["listing.published"] == 1 and counts["listing.removed"] == 1
    finally:
        credit.close()
        sanctions.restart_api()


def test_agencies_act_on_a_listing_and_payment_before_the_decision_leaves_the_employer_off(
    sanctions: Sanctions,
) -> None:
    employer = sanctions.employer()
    sanctions.file_complaint(employer)
    body, key = sanctions.sanction_request(employer, "blacklist_procedure")
    listing_id = sanctions.lifecycle_post("/v1/blacklist-procedures", body, key).json()["id"]
    listing = sanctions.listing_until(listing_id, lambda item: item["stage"] == "defence", "the prior notice")

    notice = sanctions.inspector.get(f"/v1/documents/{listing['notice_document_id']}")
    assert notice.status_code == 200 and notice.content.startswith(b"%PDF")
    assert sanctions.public.get(f"/v1/documents/{listing['notice_document_id']}").status_code == 401

    n = seed()
    persons = {
        "persons": [
            {"role": "legal_representative", "name": "王建国", "id_number": sample_id_number(n)},
            {"role": "person_in_charge", "name": "李四"},
        ]
    }
    recorded = sanctions.inspector.put(f"/v1/listings/{listing_id}/responsible-persons", json=persons)
    assert recorded.status_code == 200, recorded.text
    assert [p["name_masked"] for p in recorded.json()["persons"]] == ["王*国", "李*"]
    stored = sanctions.query(
        "SELECT name_sealed, id_number_sealed FROM responsible_persons WHERE listing_id = %s", listing_id
    )
    assert all("王建国".encode() not in bytes(row["name_sealed"]) for row in stored)
    assert sanctions.inspector.get(f"/v1/listings/{listing_id}/responsible-persons").status_code == 403
    clear = sanctions.credit.get(f"/v1/listings/{listing_id}/responsible-persons")
    assert clear.status_code == 200 and clear.json()["persons"][0]["name"] == "王建国"
    assert sanctions.query(
        "SELECT 1 FROM audit_log WHERE subject = %s AND action = 'listing.responsible_persons.read'", listing_id
    )

    statement = sanctions.inspector.post(
        f"/v1/listings/{listing_id}/statements",
        json={"text": "我公司已筹措资金，正在发放。"},
        headers={"Idempotency-Key": f"st-{listing_id}"},
    )
    assert statement.status_code == 200, statement.text
    repeated = sanctions.inspector.post(
        f"/v1/listings/{listing_id}/statements",
        json={"text": "我公司已筹措资金，正在发放。"},
        headers={"Idempotency-Key": f"st-{listing_id}"},
    )
    assert repeated.json()["statement_id"] == statement.json()["statement_id"] and repeated.json()["repeated"]

    early = sanctions.inspector.post(
        f"/v1/listings/{listing_id}/early-removal-applications",
        json={"pledge_ref": "PLEDGE-1", "payment_proof_ref": "BANK-1"},
    )
    assert early.status_code == 409 and "not on the list" in early.json()["detail"]
    assert sanctions.query("SELECT status FROM early_removal_applications WHERE listing_id = %s", listing_id) == [
        {"status": "refused"}
    ]

    # Paid in full before the decision: the process decides not to list, at once.
    paid, paid_key = sanctions.sanction_request(employer, "correction", basis="拒不支付后补发 60000.00 元（PAY-1）")
    first = sanctions.lifecycle_post("/v1/corrections", paid, paid_key)
    assert first.status_code == 201, first.text
    assert sanctions.lifecycle_post("/v1/corrections", paid, paid_key).json() == first.json()
    final = sanctions.listing_until(listing_id, lambda item: item["stage"] == "not_listed", "the decision not to list")
    assert final["not_listed_reason"] == "paid_before_decision" and final["listed"] is False
    assert (
        sanctions.query(
            "SELECT 1 FROM outbox WHERE topic = 'anxin.sanctions.credit-sharing.v1' "
            "AND envelope->'payload'->>'listing_id' = %s",
            listing_id,
        )
        == []
    )
    late = sanctions.inspector.post(f"/v1/listings/{listing_id}/statements", json={"text": "补充意见"})
    assert late.status_code in (404, 409)


def test_credit_repair_on_the_real_stack_refused_before_six_months_then_granted(
    sanctions: Sanctions, stack: Stack
) -> None:
    sanctions.restart_api(ANXIN_WORKING_DAY_SECONDS="0.03")  # six legal months in about 5.5 s
    credit = CreditSystem(stack.client_settings())
    try:
        credit.start()
        employer = sanctions.employer()
        sanctions.file_complaint(employer)
        body, key = sanctions.sanction_request(employer, "blacklist_procedure")
        listing_id = sanctions.lifecycle_post("/v1/blacklist-procedures", body, key).json()["id"]
        sanctions.listing_until(listing_id, lambda item: item["stage"] == "listed", "the listing")
        application = {"pledge_ref": "PLEDGE-7", "payment_proof_ref": "BANK-7"}
        path = f"/v1/listings/{listing_id}/early-removal-applications"

        unpaid = sanctions.inspector.post(path, json=application)
        assert unpaid.status_code == 409 and "not paid in full" in unpaid.json()["detail"]
        paid, paid_key = sanctions.sanction_request(employer, "correction", basis="拒不支付后补发 60000.00 元（PAY-7）")
        assert sanctions.lifecycle_post("/v1/corrections", paid, paid_key).status_code == 201
        sanctions.listing_until(
            listing_id,
            lambda item: bool((item["process"] or {}).get("paid_in_full_on")),
            "the correction in the process",
        )
        early = sanctions.inspector.post(path, json=application)
        assert early.status_code == 409 and "six months have not passed" in early.json()["detail"]
        assert sanctions.inspector.post(path, json={"pledge_ref": "PLEDGE-7"}).status_code == 422  # no proof

        time.sleep(7)
        accepted = sanctions.inspector.post(path, json=application)
        assert accepted.status_code == 200, accepted.text
        application_id = accepted.json()["application_id"]

        # The listing is among those with an application waiting (the workflow's report), and only there.
        def waiting(pending: bool) -> list[str]:
            listed = sanctions.city.get("/v1/listings", params={"pending_application": pending, "limit": 200})
            assert listed.status_code == 200, listed.text
            return [item["listing_id"] for item in listed.json()["items"]]

        wait_for("the application waiting in the listings", lambda: listing_id in waiting(True), timeout=20)
        assert listing_id not in waiting(False)
        decide = f"{path}/{application_id}/decision"
        assert sanctions.inspector.post(decide, json={"grant": True, "reason": "已整改"}).status_code == 403
        granted = sanctions.city.post(decide, json={"grant": True, "reason": "已足额支付并作出信用承诺"})
        assert granted.status_code == 200, granted.text

        removed = credit.wait_for(listing_id, CreditEvents.ENTRY_REMOVED, timeout=60)
        assert removed.payload["reason"] == "credit_repair"
        final = sanctions.listing_until(listing_id, lambda item: item["stage"] == "removed", "the removal")
        assert final["removal_reason"] == "credit_repair"
        statuses = [a["status"] for a in final["early_removal_applications"]]
        assert statuses == ["refused", "refused", "granted"]
        assert listing_id not in waiting(True) and listing_id in waiting(False)
    finally:
        credit.close()
        sanctions.restart_api()
