"""Steps the recorded scenarios share: serving the order, the call-back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from services.contracts.lifecycle import (
    CallbackRecord,
    CaseStatus,
    ComplaintStage,
    ComplaintStatus,
    Evidence,
    EvidenceKind,
    Satisfaction,
    ServiceMethod,
    ServiceRecord,
    Updates,
)
from tests.unit.workflows.harness import Harness

Scenario = Callable[[Harness], Awaitable[dict[str, Any]]]


async def serve(h: Harness, case_id: str) -> CaseStatus:
    async def issued() -> bool:
        return (await h.case_status(case_id)).order_id is not None

    await h.eventually(issued)
    await h.update(
        h.case(case_id),
        Updates.RECORD_SERVICE,
        ServiceRecord(
            method=ServiceMethod.POSTING,
            served_by="inspector-7",
            evidence=[
                Evidence(kind=EvidenceKind.PHOTO, ref="photo-1"),
                Evidence(kind=EvidenceKind.VIDEO, ref="v-1"),
            ],
        ),
        CaseStatus,
    )

    async def deadline() -> CaseStatus | None:
        status = await h.case_status(case_id)
        return status if "order.payment" in status.deadlines else None

    return await h.eventually(deadline)


async def callback(h: Harness, complaint: Any) -> None:
    async def closed() -> bool:
        return (await h.complaint_status(complaint)).stage is ComplaintStage.CALLBACK

    await h.eventually(closed)
    await h.update(
        complaint,
        Updates.RECORD_CALLBACK,
        CallbackRecord(satisfaction=Satisfaction.SATISFIED, called_by="clerk-2"),
        ComplaintStatus,
    )
    await h.result(complaint)
