"""Attacks on scope, each performed on the real stack and refused (docs/security.md lists them):

- a county inspector moves another county's site (and so its poster's complaints) into their own county;
- an agency outside the identity roles reads a listing decision that names the responsible persons.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx

from tests.integration.sanctions.conftest import Sanctions


def _site(site_id: str, county: str) -> dict[str, str]:
    return {
        "site_id": site_id,
        "name": "丛台区某安置房项目工地",
        "county_code": county,
        "address": "丛台区人民路 100 号",
    }


def test_a_county_cannot_take_over_another_countys_site(client: Callable[[str, str | None], httpx.Client]) -> None:
    site_id = f"S-{uuid.uuid4().hex[:8].upper()}"
    own, other, city = (client("intake-api", c) for c in ("inspector-130403", "inspector-130402", "city-office"))
    registered = own.put(f"/v1/sites/{site_id}", json=_site(site_id, "130403"))
    assert registered.status_code == 200, registered.text

    # The attack: 130402's inspector re-registers the site into 130402, or edits it where it is.
    moved = other.put(f"/v1/sites/{site_id}", json=_site(site_id, "130402"))
    assert moved.status_code == 403 and moved.headers["content-type"].startswith("application/problem+json")
    edited = other.put(f"/v1/sites/{site_id}", json={**_site(site_id, "130403"), "address": "别处"})
    assert edited.status_code == 403
    assert own.get(f"/v1/sites/{site_id}").json()["county_code"] == "130403"
    # The county's own inspector may not move it either; the city office may.
    assert own.put(f"/v1/sites/{site_id}", json=_site(site_id, "130402")).status_code == 403
    assert city.put(f"/v1/sites/{site_id}", json=_site(site_id, "130402")).status_code == 200
    assert own.get(f"/v1/sites/{site_id}").json()["county_code"] == "130402"


def test_only_the_identity_roles_read_a_sealed_listing_decision(
    sanctions: Sanctions, client: Callable[[str, str | None], httpx.Client]
) -> None:
    sanctions.restart_api(ANXIN_WORKING_DAY_SECONDS="0.03")
    try:
        employer = sanctions.employer()
        sanctions.file_complaint(employer)
        body, key = sanctions.sanction_request(employer, "blacklist_procedure")
        listing_id = sanctions.lifecycle_post("/v1/blacklist-procedures", body, key).json()["id"]
        decided = sanctions.listing_until(
            listing_id, lambda item: item.get("decision_document_id") is not None, "the listing decision", timeout=90
        )
    finally:
        sanctions.restart_api()
    path = f"/v1/documents/{decided['decision_document_id']}"
    # The attack: agencies without a county (a department, the police, a court) and a county inspector.
    for reader in ("dept-housing", "police", "court", "inspector-130402"):
        refused = client("sanctions-api", reader).get(path)
        assert refused.status_code in (403, 404), (reader, refused.status_code)
    readable = sanctions.credit.get(path)
    assert readable.status_code == 200 and readable.content[:4] == b"%PDF"
    assert sanctions.query(
        "SELECT 1 FROM audit_log WHERE subject = %s AND action = 'document.read'", decided["decision_document_id"]
    )
