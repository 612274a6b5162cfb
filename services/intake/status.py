"""What a worker (or an agency) sees about one complaint: its stage and a plain-language timeline.

The complaint's workflow knows the process; until it has started (Temporal or Kafka briefly away), the
intake record alone answers, so the worker always sees at least that the complaint was received.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import FastAPI
from temporalio.service import RPCError

from services.contracts.lifecycle import ComplaintStatus, Queries, complaint_workflow_id

log = logging.getLogger(__name__)

STAGE_TEXT = {
    "received": "已收到，等待受理",
    "awaiting_acceptance": "等待受理（5个工作日内作出决定）",
    "awaiting_information": "需要补充材料",
    "in_case": "已受理，正在核实处理",
    "callback": "已办结，等待回访",
    "done": "已办结",
}


def _received_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "complaint_id": row["complaint_id"],
        "stage": "received",
        "stage_text": STAGE_TEXT["received"],
        "status": "open",
        "overdue": False,
        "next_deadline": None,
        "timeline": [
            {
                "at": row["submitted_at"].isoformat(),
                "kind": "complaint.submitted",
                "text": "投诉已提交，系统已登记。劳动保障监察机构将在5个工作日内决定是否受理。",
            }
        ],
    }


async def complaint_status(app: FastAPI, row: dict[str, Any]) -> dict[str, Any]:
    """The workflow's status when it answers within a few seconds, otherwise the intake record's view."""
    client = app.state.temporal.get()
    if client is None or row.get("workflow_id") is None:
        return _received_view(row)
    try:
        handle = client.get_workflow_handle(complaint_workflow_id(row["complaint_id"]))
        status = await asyncio.wait_for(handle.query(Queries.STATUS, result_type=ComplaintStatus), timeout=5)
    except (RPCError, TimeoutError) as exc:
        log.warning(
            "status query failed; answering from the intake record",
            extra={"complaint_id": row["complaint_id"], "error": type(exc).__name__},
        )
        return _received_view(row)
    # The decision suggested to the inspector is the inspector's to make, not for the worker's status page.
    view = status.model_dump(mode="json", exclude={"suggested_decision"})
    view["stage_text"] = STAGE_TEXT.get(status.stage.value, status.stage.value)
    return view
