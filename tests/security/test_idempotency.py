"""Attacks on the agencies' Idempotency-Keys, on the real stack (docs/security.md): another county's
inspector replays a key to read the first answer, and a client reuses its own key for another request."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx

from tests.integration.cases.conftest import Agencies, complaint_body
from tests.integration.sanctions.conftest import Sanctions
from tests.support.factories import seed


def test_an_idempotency_key_answers_only_its_client_for_its_request(agencies: Agencies) -> None:
    a = agencies
    _, case_id = a.accepted_case(complaint_body(seed(), county="130402"))
    key = f"probe-{uuid.uuid4().hex}"
    verified = a.inspector.post(
        f"/v1/cases/{case_id}/verification", json={"outcome": "wage_arrears"}, headers={"Idempotency-Key": key}
    )
    assert verified.status_code == 200, verified.text

    # The attack: another county's inspector sends the key (to any case) and would read the first answer.
    probe = a.other_inspector.post(
        f"/v1/cases/{case_id}/verification", json={"outcome": "wage_arrears"}, headers={"Idempotency-Key": key}
    )
    assert probe.status_code == 422 and "reused" in probe.json()["title"]
    assert verified.json()["action_id"] not in probe.text and "process" not in probe.json()
    # The same client's key with another request is refused, not answered with the first action.
    other_request = a.inspector.post(
        f"/v1/cases/{case_id}/verification", json={"outcome": "unfounded"}, headers={"Idempotency-Key": key}
    )
    assert other_request.status_code == 422 and "reused" in other_request.json()["title"]
    # The same request again (reformatted) gets the first answer.
    again = a.inspector.post(
        f"/v1/cases/{case_id}/verification",
        content=b'{ "outcome" : "wage_arrears" }',
        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
    )
    assert again.status_code == 200 and again.json()["repeated"] is True
    assert again.json()["action_id"] == verified.json()["action_id"]


def test_a_listing_action_key_is_not_answered_to_another_client(
    sanctions: Sanctions, client: Callable[[str, str | None], httpx.Client]
) -> None:
    """The same rule in the sanctions service, on an employer's statement during the defence period."""
    employer = sanctions.employer()
    sanctions.file_complaint(employer)
    body, lifecycle_key = sanctions.sanction_request(employer, "blacklist_procedure")
    listing_id = sanctions.lifecycle_post("/v1/blacklist-procedures", body, lifecycle_key).json()["id"]
    sanctions.listing_until(listing_id, lambda item: item["stage"] == "defence", "the prior notice")
    key = f"probe-{uuid.uuid4().hex}"
    path = f"/v1/listings/{listing_id}/statements"
    first = sanctions.inspector.post(path, json={"text": "用人单位陈述：已筹集资金"}, headers={"Idempotency-Key": key})
    assert first.status_code in (200, 201), first.text

    probe = client("sanctions-api", "inspector-130403").post(
        path, json={"text": "用人单位陈述：已筹集资金"}, headers={"Idempotency-Key": key}
    )
    assert probe.status_code == 422 and first.json()["action_id"] not in probe.text
    changed = sanctions.inspector.post(path, json={"text": "另一份陈述"}, headers={"Idempotency-Key": key})
    assert changed.status_code == 422
    again = sanctions.inspector.post(path, json={"text": "用人单位陈述：已筹集资金"}, headers={"Idempotency-Key": key})
    assert again.status_code in (200, 201) and again.json()["repeated"] is True
