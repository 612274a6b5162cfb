"""One truth for listings: what the blacklist workflow does without any sanctions activity (a statement put
under review, a correction paying in full) reaches the listing record through its reports, and the audit of
`anxin audit ledger` finds no disagreement (services/contracts/listing_reports.py)."""

from __future__ import annotations

from deploy.stack import Stack
from tests.support.ledger_audit import assert_listings_agree

from .conftest import Sanctions


def test_a_statement_under_review_and_a_correction_reach_the_listing_record(sanctions: Sanctions, stack: Stack) -> None:
    sanctions.restart_api(ANXIN_WORKING_DAY_SECONDS="1.0")  # the defence period in about 7 s
    try:
        employer = sanctions.employer()
        sanctions.file_complaint(employer)
        body, key = sanctions.sanction_request(employer, "blacklist_procedure")
        listing_id = sanctions.lifecycle_post("/v1/blacklist-procedures", body, key).json()["id"]
        sanctions.listing_until(listing_id, lambda item: item["stage"] == "defence", "the prior notice")
        statement = sanctions.inspector.post(
            f"/v1/listings/{listing_id}/statements", json={"text": "我公司对拖欠数额有异议。"}
        )
        assert statement.status_code == 200, statement.text

        # The defence period ends: the review stage is recorded by no activity, only by the workflow's report.
        review = sanctions.listing_until(
            listing_id, lambda item: item["stage"] == "review", "the review stage", timeout=60
        )
        assert review["statements"] == [statement.json()["statement_id"]] and review["report_seq"] >= 1
        assert review["defence_due_date"] is not None
        in_review = sanctions.city.get("/v1/listings", params={"stage": "review", "limit": 200}).json()["items"]
        assert listing_id in [item["listing_id"] for item in in_review]

        # The city office reads the statement it reviews in clear (sealed in the store): the read is audited.
        statements = sanctions.city.get(f"/v1/listings/{listing_id}/statements")
        assert statements.status_code == 200, statements.text
        assert [s["text"] for s in statements.json()["statements"]] == ["我公司对拖欠数额有异议。"]
        assert sanctions.query(
            "SELECT 1 FROM audit_log WHERE subject = %s AND action = 'listing.statements.read'", listing_id
        )
        assert sanctions.credit.get(f"/v1/listings/{listing_id}/statements").status_code == 403
        assert_listings_agree(stack, [listing_id])

        maintained = sanctions.city.post(
            f"/v1/listings/{listing_id}/review", json={"list_employer": True, "reason": "申辩理由不成立"}
        )
        assert maintained.status_code == 200, maintained.text
        listed = sanctions.listing_until(
            listing_id, lambda item: item["stage"] == "listed" and item["decided_on"], "the listing"
        )
        assert listed["expires_on"] is not None

        # Wages paid in full after the listing: only the workflow knows it (a signal), the record follows.
        paid, paid_key = sanctions.sanction_request(employer, "correction", basis="拒不支付后补发 60000.00 元（PAY-R）")
        assert sanctions.lifecycle_post("/v1/corrections", paid, paid_key).status_code == 201
        corrected = sanctions.listing_until(
            listing_id, lambda item: item["paid_in_full_on"] is not None, "the payment in full on the record"
        )
        assert corrected["amount_corrected"] == "60000.00" and corrected["early_removal_possible_from"]
        assert sanctions.query(
            "SELECT 1 FROM outbox WHERE envelope->>'type' = 'listing.state_reported' "
            "AND envelope->'payload'->>'listing_id' = %s",
            listing_id,
        )
        assert_listings_agree(stack, [listing_id])
    finally:
        sanctions.restart_api()
