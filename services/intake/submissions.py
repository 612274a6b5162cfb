"""Filing a complaint: validate, seal the personal data, store it with its event, answer at once.

The one path every channel takes (the worker's form, the clerks' API, clue imports), so the rules for
idempotency, abuse limits and what an event may carry hold everywhere alike.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from psycopg.errors import UniqueViolation
from psycopg_pool import AsyncConnectionPool

from services.common import audit, db
from services.common.auth import Principal
from services.common.crypto import FieldCipher, keyed_reference
from services.common.errors import Invalid, TooManyRequests, Unprocessable
from services.contracts.cases import EmployerIdentity
from services.contracts.events import EventEnvelope
from services.contracts.intake_events import ComplaintSubmitted
from services.contracts.legal_time import CHINA_TZ, legal_date
from services.intake import domain, employers, identifiers, lookups, store, validation
from services.intake.evidence import EvidenceRef, EvidenceStore

SEALED_CONTEXT = "intake.complaints"


@dataclass(frozen=True)
class Filed:
    complaint_id: str
    tracking_code: str
    replayed: bool = False  # True when an Idempotency-Key returned an earlier complaint


@dataclass(frozen=True)
class Intake:
    """What filing needs: the pool, the cipher and reference key, and the configured counties."""

    pool: AsyncConnectionPool
    cipher: FieldCipher
    reference_key: bytes
    counties: dict[str, str]
    complaints_per_ip_per_hour: int
    complaints_per_phone_per_day: int
    # Wrong tracking codes before status look-ups are refused for the hour (services/intake/lookups.py).
    wrong_codes_per_ip_per_hour: int = 30
    wrong_codes_per_complaint_per_hour: int = 10
    # Where the form's uploads are written, once the limits have let the complaint through; and how many
    # bytes of evidence one client address may upload in an hour.
    evidence_store: EvidenceStore | None = None
    evidence_bytes_per_ip_per_hour: int = 100 * 1024 * 1024

    def today(self) -> date:
        return legal_date(datetime.now(UTC))

    def validate(self, raw: dict[str, Any]) -> domain.ComplaintSubmission:
        try:
            return validation.validate_submission(raw, counties=self.counties, today=self.today())
        except domain.SubmissionInvalid as invalid:
            raise invalid_complaint(invalid) from None

    async def file(
        self,
        submission: domain.ComplaintSubmission,
        *,
        evidence: list[EvidenceRef],
        client_ip: str | None,
        idempotency_key: str | None = None,
        clue: tuple[str, str] | None = None,
        principal: Principal | None = None,
        uploads: Sequence[bytes] = (),
    ) -> Filed:
        """Store the complaint and its `complaint.submitted` event in one transaction.

        `uploads` are the files of `evidence` not stored yet (the form's): they are written only once the
        abuse limits have let the complaint through, so a refused request leaves no file behind."""
        request_hash = _request_hash(submission, evidence)
        now = datetime.now(UTC)
        complaint_id = identifiers.new_complaint_id(now.astimezone(CHINA_TZ))
        tracking_code = identifiers.new_tracking_code()
        row = self._row(submission, complaint_id, tracking_code, evidence, now)
        try:
            # Pipelined: the filing waits for the server only for the answers it reads (an earlier use of the
            # Idempotency-Key, the abuse limits, the employer register); the complaint, its event, its audit and
            # idempotency rows travel with the COMMIT. Still one transaction (services/common/db.py).
            async with self.pool.connection() as conn, db.pipelined_transaction(conn):
                if idempotency_key:
                    replay = await self._replay_in(conn, idempotency_key, request_hash)
                    if replay:
                        return replay
                await self._check_limits(conn, client_ip, row.phone_ref, upload_bytes=sum(map(len, uploads)))
                if clue is not None:
                    seen = await store.clue_seen(conn, clue[0])
                    if seen:
                        raise seen
                if uploads:
                    assert self.evidence_store is not None, "uploads need an evidence store"
                    for data in uploads:
                        await asyncio.to_thread(self.evidence_store.put, data)
                # The employer register's answer is taken here, once, and published with the complaint.
                employer = await employers.identify(
                    conn,
                    county=row.county_code,
                    name_key=row.employer_name_key,
                    credit_code=row.employer_credit_code,
                    complaint_id=complaint_id,
                    at=now,
                )
                event = submitted_event(row, submission, employer)
                sealed_response = self.cipher.seal(
                    json.dumps({"complaint_id": complaint_id, "tracking_code": tracking_code}),
                    context="intake.idempotency.response",
                )
                await store.insert_complaint(
                    conn,
                    row,
                    event,
                    idempotency=(idempotency_key, request_hash, sealed_response) if idempotency_key else None,
                    clue_fingerprint=clue,
                )
                await audit.record(
                    conn,
                    principal,
                    "complaint.filed",
                    complaint_id,
                    fields=["worker_name", "id_number", "phone"] + (["bank_card"] if submission.bank_card else []),
                    detail={"channel": submission.channel},
                    actor=None if principal else "public-form",
                )
        except UniqueViolation:
            # A concurrent request with the same Idempotency-Key (or the same clue) committed first.
            if idempotency_key:
                replay = await self._replay(idempotency_key, request_hash)
                if replay:
                    return replay
            if clue is not None:
                async with self.pool.connection() as conn:
                    seen = await store.clue_seen(conn, clue[0])
                if seen:
                    raise seen from None
            raise
        return Filed(complaint_id, tracking_code)

    def open_person(self, row: dict[str, Any]) -> dict[str, str | None]:
        """The complainant's personal data, opened from its sealed columns."""

        def unseal(field: str) -> str | None:
            sealed = row[f"{field}_sealed"]
            return self.cipher.open(sealed, context=f"{SEALED_CONTEXT}.{field}") if sealed else None

        return {f: unseal(f) for f in ("worker_name", "id_number", "phone", "bank_card")}

    async def _replay(self, key: str, request_hash: str) -> Filed | None:
        async with self.pool.connection() as conn:
            return await self._replay_in(conn, key, request_hash)

    async def _replay_in(self, conn: Any, key: str, request_hash: str) -> Filed | None:
        found = await store.find_idempotent(conn, key)
        if found is None:
            return None
        if found["request_hash"] != request_hash:
            raise Unprocessable(
                "Idempotency-Key reused",
                "This Idempotency-Key was already used for a different complaint. Use a new key for a new "
                "complaint, or resend exactly the same request to get the first answer again.",
                code="idempotency-key-reused",
            )
        first = json.loads(self.cipher.open(found["response_sealed"], context="intake.idempotency.response"))
        return Filed(first["complaint_id"], first["tracking_code"], replayed=True)

    async def _check_limits(self, conn: Any, client_ip: str | None, phone_ref: str, *, upload_bytes: int = 0) -> None:
        """Count the complaint against every limit it falls under, in one statement; the first limit it
        passes (address before phone) refuses it."""
        checks = [(store.RateHit(f"phone:{phone_ref}", 86400, self.complaints_per_phone_per_day), "手机号")]
        if client_ip:
            ip_ref = keyed_reference(client_ip, self.reference_key, prefix="ip")
            checks.insert(0, (store.RateHit(ip_ref, 3600, self.complaints_per_ip_per_hour), "网络地址"))
            if upload_bytes:
                evidence_ref = keyed_reference(client_ip, self.reference_key, prefix="evidence-ip")
                checks.append(
                    (store.RateHit(evidence_ref, 3600, self.evidence_bytes_per_ip_per_hour, upload_bytes), "网络地址")
                )
        waits = await store.hit_rate_limits(conn, [hit for hit, _ in checks])
        for (_, what), wait in zip(checks, waits, strict=True):
            if wait is not None:
                raise TooManyRequests(
                    "Too many complaints",
                    f"同一{what}提交次数过多，请 {max(1, wait // 60)} 分钟后再试，或拨打 12333 热线。"
                    f" Too many complaints from this {'phone number' if what == '手机号' else 'address'};"
                    f" try again in {wait} seconds or call the 12333 hotline.",
                    retry_after=wait,
                )

    def _row(
        self,
        s: domain.ComplaintSubmission,
        complaint_id: str,
        tracking_code: str,
        evidence: list[EvidenceRef],
        now: datetime,
    ) -> store.ComplaintRow:
        def seal(field: str, value: str) -> bytes:
            return self.cipher.seal(value, context=f"{SEALED_CONTEXT}.{field}")

        return store.ComplaintRow(
            complaint_id=complaint_id,
            tracking_code_mac=lookups.tracking_code_mac(tracking_code, self.reference_key),
            channel=s.channel,
            site_id=s.site_id,
            county_code=s.county_code,
            project_name=s.project_name,
            employer_name=s.employer_name,
            employer_name_key=identifiers.normalise_employer_name(s.employer_name),
            employer_credit_code=s.employer_credit_code,
            period_start=s.period_start,
            period_end=s.period_end,
            amount_owed=s.amount_owed,
            workers_affected=s.workers_affected,
            description=s.description,
            confidential=s.confidential,
            stale_for_rejection=s.stale_for_rejection,
            worker_name_sealed=seal("worker_name", s.worker_name),
            id_number_sealed=seal("id_number", s.id_number),
            phone_sealed=seal("phone", s.phone),
            bank_card_sealed=seal("bank_card", s.bank_card) if s.bank_card else None,
            person_ref=keyed_reference(s.id_number, self.reference_key, prefix="person"),
            phone_ref=keyed_reference(s.phone, self.reference_key, prefix="phone"),
            evidence=[{"sha256": e.sha256, "size": e.size, "media_type": e.media_type} for e in evidence],
            submitted_at=now,
        )


def submitted_event(
    row: store.ComplaintRow, s: domain.ComplaintSubmission, employer: EmployerIdentity | None = None
) -> EventEnvelope:
    """`complaint.submitted` v1: facts about the complaint, no personal data in clear; for an employer named
    without a code, the code the employer register matched (services/intake/employers.py)."""
    matched = employer if employer is not None and employer.basis in ("linked", "learnt") else None
    return EventEnvelope.wrap(
        ComplaintSubmitted(
            complaint_id=row.complaint_id,
            channel=row.channel,
            site_id=row.site_id,
            county_code=row.county_code,
            project_name=row.project_name,
            employer_name=row.employer_name,
            employer_name_key=row.employer_name_key,
            employer_credit_code=row.employer_credit_code,
            employer_matched_credit_code=matched.credit_code if matched else None,
            employer_match=("linked" if matched.basis == "linked" else "learnt") if matched else None,
            period_start=row.period_start,
            period_end=row.period_end,
            amount_owed=row.amount_owed,
            workers_affected=row.workers_affected,
            confidential=row.confidential,
            stale_for_rejection=row.stale_for_rejection,
            person_ref=row.person_ref,
            phone_ref=row.phone_ref,
            phone_masked=identifiers.mask_phone(s.phone),
            evidence_count=len(row.evidence),
            submitted_at=row.submitted_at,
        ),
        subject=row.complaint_id,
        producer="intake",
    )


def _request_hash(s: domain.ComplaintSubmission, evidence: list[EvidenceRef]) -> str:
    body = s.model_dump(mode="json")
    body["evidence"] = sorted(e.sha256 for e in evidence)
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def invalid_complaint(invalid: domain.SubmissionInvalid) -> Invalid:
    errors = [{"field": e.field, "code": e.code, "message": e.message} for e in invalid.errors]
    fields = "、".join(dict.fromkeys(e.field for e in invalid.errors))
    return Invalid(
        "The complaint is not valid",
        f"请检查以下内容 / Please check: {fields}",
        code="invalid-complaint",
        errors=errors,
    )
