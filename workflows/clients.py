"""The service interfaces the lifecycle activities use, and their default implementations.

Each owning service (cases, referrals, sanctions) is reached through a Protocol. The default
implementations call the service's HTTP API as the lifecycle client (a bearer token of the `lifecycle` role)
with the activity's idempotency key in the `Idempotency-Key` header, so a retried activity never creates a second order, letter, referral or listing: the service
answers a repeated key with the record it created the first time (200/201, or 409 with the record).

`JournalServices` is the development stand-in while a service is not built yet: it appends each command to a
JSON-lines journal and answers with an id derived from the idempotency key (so repeats get the same id).

Complainant messages go through an `SmsGateway`; the default `LocalSmsSink` appends them to a file. Only
keyed references travel: the gateway resolves `recipient_ref` to a number inside the system that holds it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from pydantic import BaseModel
from temporalio.exceptions import ApplicationError

from services.contracts.lifecycle import (
    AgencyNotice,
    CompensationRequest,
    DepartmentTerms,
    DepartmentTermsRequest,
    DocumentRef,
    ForwardRequest,
    LetterRequest,
    Notification,
    OrderToPayRequest,
    ReferralRequest,
    ReferralSupplementRequest,
    SanctionRequest,
    WithdrawReferralRequest,
)
from services.contracts.process_reports import ProcessReport
from workflows.core import SERVICE_REFUSED

log = logging.getLogger(__name__)


class CasesApi(Protocol):
    async def notify_agency(self, notice: AgencyNotice) -> None: ...
    async def report_process(self, report: ProcessReport) -> None: ...
    async def forward_complaint(self, request: ForwardRequest) -> DocumentRef: ...
    async def issue_order_to_pay(self, request: OrderToPayRequest) -> DocumentRef: ...
    async def decide_additional_compensation(self, request: CompensationRequest) -> DocumentRef: ...


class ReferralsApi(Protocol):
    async def issue_letter(self, request: LetterRequest) -> DocumentRef: ...
    async def make_referral(self, request: ReferralRequest) -> DocumentRef: ...
    async def withdraw_referral(self, request: WithdrawReferralRequest) -> None: ...
    async def send_referral_supplement(self, request: ReferralSupplementRequest) -> DocumentRef: ...
    async def department_terms(self, request: DepartmentTermsRequest) -> DepartmentTerms: ...


class SanctionsApi(Protocol):
    async def start_blacklist_procedure(self, request: SanctionRequest) -> DocumentRef: ...
    async def mark_for_publication(self, request: SanctionRequest) -> DocumentRef: ...
    async def report_correction(self, request: SanctionRequest) -> DocumentRef: ...


class SmsGateway(Protocol):
    async def send(self, message: Notification) -> None: ...


# --- HTTP ----------------------------------------------------------------------------------------------------


class HttpCommandClient:
    """POSTs a command to one service with its idempotency key; maps answers to retry or refusal."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, auth: httpx.Auth | None = None) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._auth = auth

    async def post(self, path: str, command: BaseModel, idempotency_key: str) -> dict[str, Any]:
        response = await self._http.post(
            f"{self._base_url}{path}",
            content=command.model_dump_json(),
            headers={"Idempotency-Key": idempotency_key, "Content-Type": "application/json"},
            auth=self._auth if self._auth is not None else httpx.USE_CLIENT_DEFAULT,
        )
        if response.status_code == 409 or response.is_success:
            # 409: the key was seen before; the body names the record created the first time.
            return response.json() if response.content else {}
        # 401: the token was refused even after a fresh one (credentials or signing key being changed) —
        # retried with backoff like an outage, so the step goes through once the configuration is fixed.
        if 400 <= response.status_code < 500 and response.status_code not in (401, 408, 425, 429):
            # The service refuses the command itself: retrying cannot help.
            raise ApplicationError(
                f"{path} refused with {response.status_code}: {response.text[:500]}",
                type=SERVICE_REFUSED,
                non_retryable=True,
            )
        response.raise_for_status()  # 5xx, 408, 429: the activity is retried with backoff
        raise RuntimeError(f"unexpected status {response.status_code} from {path}")

    async def get(self, path: str) -> dict[str, Any] | None:
        """A read: the body, or None for 404 (the service does not know the thing); other answers as `post`."""
        response = await self._http.get(
            f"{self._base_url}{path}", auth=self._auth if self._auth is not None else httpx.USE_CLIENT_DEFAULT
        )
        if response.status_code == 404:
            return None
        if response.is_success:
            return response.json()  # type: ignore[no-any-return]
        if 400 <= response.status_code < 500 and response.status_code not in (401, 408, 425, 429):
            raise ApplicationError(
                f"{path} refused with {response.status_code}: {response.text[:500]}",
                type=SERVICE_REFUSED,
                non_retryable=True,
            )
        response.raise_for_status()
        raise RuntimeError(f"unexpected status {response.status_code} from {path}")


class ReplicatedCommandClient(HttpCommandClient):
    """The same commands to one of several replicas of a service, where no load balancer stands in front of
    them (the cluster profile on one machine): a replica that refuses the connection — stopped, restarting —
    is passed over for the next, which is then kept. Only a connection never made moves on: after a timeout
    the command may have arrived, and it goes to Temporal's retry with the same idempotency key instead."""

    def __init__(self, replicas: list[HttpCommandClient]) -> None:
        if not replicas:
            raise ValueError("at least one replica")
        self._replicas = replicas
        self._current = 0

    async def _each(self, call: Any) -> Any:
        for step in range(len(self._replicas)):
            index = (self._current + step) % len(self._replicas)
            try:
                result = await call(self._replicas[index])
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if step == len(self._replicas) - 1:
                    raise
                continue
            self._current = index
            return result
        raise AssertionError("unreachable")

    async def post(self, path: str, command: BaseModel, idempotency_key: str) -> dict[str, Any]:
        return await self._each(lambda replica: replica.post(path, command, idempotency_key))  # type: ignore[no-any-return]

    async def get(self, path: str) -> dict[str, Any] | None:
        return await self._each(lambda replica: replica.get(path))  # type: ignore[no-any-return]


class HttpCasesApi:
    def __init__(self, client: HttpCommandClient) -> None:
        self._client = client

    async def notify_agency(self, notice: AgencyNotice) -> None:
        await self._client.post("/v1/notices", notice, notice.idempotency_key)

    async def report_process(self, report: ProcessReport) -> None:
        await self._client.post("/v1/process-reports", report, report.idempotency_key)

    async def forward_complaint(self, request: ForwardRequest) -> DocumentRef:
        body = await self._client.post("/v1/forwardings", request, request.idempotency_key)
        return DocumentRef.model_validate(body)

    async def issue_order_to_pay(self, request: OrderToPayRequest) -> DocumentRef:
        body = await self._client.post("/v1/orders", request, request.idempotency_key)
        return DocumentRef.model_validate(body)

    async def decide_additional_compensation(self, request: CompensationRequest) -> DocumentRef:
        body = await self._client.post("/v1/compensation-decisions", request, request.idempotency_key)
        return DocumentRef.model_validate(body)


class HttpReferralsApi:
    def __init__(self, client: HttpCommandClient) -> None:
        self._client = client

    async def issue_letter(self, request: LetterRequest) -> DocumentRef:
        body = await self._client.post("/v1/letters", request, request.idempotency_key)
        return DocumentRef.model_validate(body)

    async def make_referral(self, request: ReferralRequest) -> DocumentRef:
        body = await self._client.post("/v1/referrals", request, request.idempotency_key)
        return DocumentRef.model_validate(body)

    async def withdraw_referral(self, request: WithdrawReferralRequest) -> None:
        await self._client.post(f"/v1/referrals/{request.referral_id}/withdrawal", request, request.idempotency_key)

    async def send_referral_supplement(self, request: ReferralSupplementRequest) -> DocumentRef:
        body = await self._client.post(
            f"/v1/referrals/{request.referral_id}/supplements", request, request.idempotency_key
        )
        return DocumentRef.model_validate(body)

    async def department_terms(self, request: DepartmentTermsRequest) -> DepartmentTerms:
        body = await self._client.get(f"/v1/departments/{quote(request.department, safe='')}/terms")
        if body is None:
            return DepartmentTerms(department=request.department, found=False, response_days=0)
        return DepartmentTerms.model_validate(body)


class HttpSanctionsApi:
    def __init__(self, client: HttpCommandClient) -> None:
        self._client = client

    async def start_blacklist_procedure(self, request: SanctionRequest) -> DocumentRef:
        body = await self._client.post("/v1/blacklist-procedures", request, request.idempotency_key)
        return DocumentRef.model_validate(body)

    async def mark_for_publication(self, request: SanctionRequest) -> DocumentRef:
        body = await self._client.post("/v1/publication-marks", request, request.idempotency_key)
        return DocumentRef.model_validate(body)

    async def report_correction(self, request: SanctionRequest) -> DocumentRef:
        body = await self._client.post("/v1/corrections", request, request.idempotency_key)
        return DocumentRef.model_validate(body)


class HttpSmsGateway:
    """An SMS gateway reached over HTTP; it resolves `recipient_ref` to the number it holds."""

    def __init__(self, client: HttpCommandClient) -> None:
        self._client = client

    async def send(self, message: Notification) -> None:
        await self._client.post("/v1/messages", message, message.idempotency_key)


# --- local stand-ins -------------------------------------------------------------------------------------


class _JsonLinesFile:
    """Append-only JSON lines, deduplicated by idempotency key (kept in memory after the first read)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._seen: dict[str, dict[str, Any]] | None = None
        self._lock = asyncio.Lock()

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._seen is None:
            self._seen = {}
            if self._path.exists():
                for line in self._path.read_text(encoding="utf-8").splitlines():
                    if line.strip():
                        record = json.loads(line)
                        self._seen[record["idempotency_key"]] = record
        return self._seen

    async def append_once(self, key: str, record: dict[str, Any]) -> dict[str, Any]:
        async with self._lock:
            seen = self._load()
            if key in seen:
                return seen[key]
            record = {"idempotency_key": key, "recorded_at": datetime.now(UTC).isoformat(), **record}
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with self._path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            seen[key] = record
            return record


class LocalSmsSink:
    """Default SMS gateway: appends each message to a JSON-lines file and logs its template (no numbers)."""

    def __init__(self, path: Path) -> None:
        self._file = _JsonLinesFile(path)

    async def send(self, message: Notification) -> None:
        await self._file.append_once(message.idempotency_key, message.model_dump(mode="json"))
        log.info(
            "message to complainant queued",
            extra={"complaint_id": message.complaint_id, "template": message.template},
        )


def _document_id(prefix: str, key: str) -> str:
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


class JournalServices:
    """Cases, referrals and sanctions in one local journal, for development before those services exist."""

    def __init__(self, path: Path) -> None:
        self._file = _JsonLinesFile(path)

    async def _record(self, command: str, request: Any, prefix: str) -> DocumentRef:
        key = request.idempotency_key
        record = await self._file.append_once(
            key,
            {"command": command, "id": _document_id(prefix, key), "request": request.model_dump(mode="json")},
        )
        return DocumentRef(id=record["id"])

    async def notify_agency(self, notice: AgencyNotice) -> None:
        await self._record("notify_agency", notice, "NOTICE")

    async def report_process(self, report: ProcessReport) -> None:
        await self._record("report_process", report, "REPORT")

    async def forward_complaint(self, request: ForwardRequest) -> DocumentRef:
        return await self._record("forward_complaint", request, "FWD")

    async def issue_order_to_pay(self, request: OrderToPayRequest) -> DocumentRef:
        return await self._record("issue_order_to_pay", request, "ORDER")

    async def decide_additional_compensation(self, request: CompensationRequest) -> DocumentRef:
        return await self._record("decide_additional_compensation", request, "COMP")

    async def issue_letter(self, request: LetterRequest) -> DocumentRef:
        return await self._record("issue_letter", request, "LETTER")

    async def make_referral(self, request: ReferralRequest) -> DocumentRef:
        return await self._record("make_referral", request, "REF")

    async def withdraw_referral(self, request: WithdrawReferralRequest) -> None:
        await self._record("withdraw_referral", request, "WDR")

    async def send_referral_supplement(self, request: ReferralSupplementRequest) -> DocumentRef:
        return await self._record("send_referral_supplement", request, "SUPP")

    async def department_terms(self, request: DepartmentTermsRequest) -> DepartmentTerms:
        # No directory without the referrals service: the workflow keeps its own setting.
        return DepartmentTerms(department=request.department, found=False, response_days=0)

    async def start_blacklist_procedure(self, request: SanctionRequest) -> DocumentRef:
        return await self._record("start_blacklist_procedure", request, "BL")

    async def mark_for_publication(self, request: SanctionRequest) -> DocumentRef:
        return await self._record("mark_for_publication", request, "PUB")

    async def report_correction(self, request: SanctionRequest) -> DocumentRef:
        return await self._record("report_correction", request, "CORR")
