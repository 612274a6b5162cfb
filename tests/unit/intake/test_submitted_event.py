"""`complaint.submitted` is built from its class and carries what it always did: facts, keyed references and
a masked phone, never the complainant's data in clear."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from services.common.crypto import FieldCipher
from services.contracts.intake_events import ComplaintSubmitted
from services.intake import domain, identifiers, validation
from services.intake.evidence import EvidenceRef
from services.intake.submissions import Intake, submitted_event
from tests.unit.intake.factories import TODAY, submission

# The payload's members before it had a class (a dict written by hand in `submitted_event`).
PUBLISHED = {
    "complaint_id",
    "channel",
    "site_id",
    "county_code",
    "project_name",
    "employer_name",
    "employer_name_key",
    "employer_credit_code",
    "period_start",
    "period_end",
    "amount_owed",
    "workers_affected",
    "confidential",
    "stale_for_rejection",
    "person_ref",
    "phone_ref",
    "phone_masked",
    "evidence_count",
    "submitted_at",
}
# Added since, with defaults (an event without them still reads): the employer register's match.
ADDED = {"employer_matched_credit_code", "employer_match"}


def test_complaint_submitted_is_its_class_with_the_members_it_always_had_and_no_personal_data() -> None:
    s = validation.validate_submission(submission(), counties=domain.DEFAULT_COUNTIES, today=TODAY)
    intake = Intake(
        pool=None,
        cipher=FieldCipher({"k1": os.urandom(32)}, "k1"),  # type: ignore[arg-type]
        reference_key=os.urandom(32),
        counties=domain.DEFAULT_COUNTIES,
        complaints_per_ip_per_hour=5,
        complaints_per_phone_per_day=5,
    )
    evidence = [EvidenceRef(sha256="a" * 64, size=10, media_type="image/jpeg")]
    row = intake._row(s, "TS-20261128-000001", "ABCD-EFGH", evidence, datetime(2026, 11, 28, 9, tzinfo=UTC))
    envelope = submitted_event(row, s)

    assert (envelope.type, envelope.version, envelope.subject, envelope.producer) == (
        "complaint.submitted",
        1,
        "TS-20261128-000001",
        "intake",
    )
    assert set(envelope.payload) == PUBLISHED | ADDED
    assert ComplaintSubmitted.model_validate({k: envelope.payload[k] for k in PUBLISHED}).employer_match is None
    event = envelope.parse()
    assert isinstance(event, ComplaintSubmitted)
    assert (event.amount_owed, event.period_end, event.evidence_count) == (s.amount_owed, s.period_end, 1)
    assert envelope.payload["amount_owed"] == str(s.amount_owed)
    assert event.phone_masked == identifiers.mask_phone(s.phone) and event.phone_ref == row.phone_ref
    wire = envelope.to_bytes().decode()
    for secret in (s.worker_name, s.id_number, s.phone, s.bank_card):
        assert not secret or secret not in wire
