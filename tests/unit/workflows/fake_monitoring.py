"""A fake of the monitoring service's payout request (`monitoring.request_payout`), for the case workflow's
payouts: registered by a worker of its own on the monitoring task queue."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.contracts.guarantee_funds import (
    PAYOUT_REQUEST_REFUSED,
    REQUEST_PAYOUT_ACTIVITY,
    PayoutAccepted,
    PayoutRequest,
    PayoutStage,
)


class FakeMonitoring:
    """The monitoring service's request activity: one payout per idempotency key, numbered per case."""

    def __init__(self) -> None:
        self.requests: list[PayoutRequest] = []
        self.payouts: dict[str, PayoutAccepted] = {}
        self.refusing: str | None = None

    @activity.defn(name=REQUEST_PAYOUT_ACTIVITY)
    async def request_payout(self, request: PayoutRequest) -> PayoutAccepted:
        self.requests.append(request)
        if self.refusing is not None:
            raise ApplicationError(self.refusing, type=PAYOUT_REQUEST_REFUSED, non_retryable=True)
        first = self.payouts.get(request.idempotency_key)
        if first is not None:
            return first.model_copy(update={"created": False})
        sequence = 1 + sum(1 for p in self.payouts.values() if p.workflow_id.startswith(f"payout:{request.case_id}:"))
        accepted = PayoutAccepted(
            payout_id=f"PO-{request.case_id}-{sequence}",
            workflow_id=f"payout:{request.case_id}:{sequence}",
            sequence=sequence,
            stage=PayoutStage.REQUESTED,
            created=True,
        )
        self.payouts[request.idempotency_key] = accepted
        return accepted
