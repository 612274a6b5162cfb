"""How the ledger shows a complaint: the row's figures and stage, and what the lifecycle suggests deciding.

No personal data: the complainant is never in a complaint's view.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from services.contracts.lifecycle import ParkedStep, SuggestedDecision, acceptance_suggestion


class ComplaintView(BaseModel):
    """A complaint as the ledger knows it (`GET /v1/complaints/{id}`)."""

    complaint_id: str
    case_id: str = Field(description="The ledger case (differs from `process_case_id` after a merge or split).")
    process_case_id: str = Field(description="The case workflow (`case:<id>`) the complaint joins once accepted.")
    county: str = Field(description="County code (行政区划代码).")
    stage: str = Field(
        description="The complaint's stage: awaiting_acceptance, awaiting_information, in_case, callback or done."
    )
    status: str = Field(description="open or closed.")
    decision: str | None = Field(None, description="The acceptance decision, once made.")
    stale_for_rejection: bool = Field(
        False,
        description="The owed period ended more than two years before receipt (劳动保障监察条例 art. 20), "
        "as intake marked it.",
    )
    owed_until: date | None = Field(None, description="The last day owed, which the two-year limit counts from.")
    suggested_decision: SuggestedDecision | None = Field(
        None,
        description="While the complaint awaits acceptance: the decision the lifecycle suggests (a complaint "
        "past the limit: reject, reason violation_too_old). The inspector still decides.",
    )
    parked: ParkedStep | None = Field(
        None,
        description="A step of the complaint's process that its service refused for good: the process waits "
        "for an operator to fix the cause and retry it (null: nothing parked).",
    )


class ParkedProcess(ParkedStep):
    """A parked step of one of a case's processes (`GET /v1/cases/{id}`, `parked`)."""

    workflow_id: str = Field(description="`complaint:<id>` or `case:<id>`: what `anxin case retry` takes.")


def parked_processes(complaints: list[dict[str, Any]], processes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every parked step of a case's complaints and case processes, so a case that waits for an operator says
    so at its top, not only deep in one of its rows."""
    found = [(f"complaint:{c['complaint_id']}", c.get("parked")) for c in complaints]
    found += [(f"case:{p['process_case_id']}", p.get("parked")) for p in processes]
    return [
        ParkedProcess(workflow_id=workflow_id, **parked).model_dump(mode="json")
        for workflow_id, parked in found
        if parked
    ]


def with_suggestion(row: dict[str, Any]) -> dict[str, Any]:
    """A complaint row with the decision suggested for it (the same rule as the workflow's `status` query)."""
    suggestion = acceptance_suggestion(row["stage"], bool(row.get("stale_for_rejection")), row.get("owed_until"))
    return {**row, "suggested_decision": suggestion.model_dump(mode="json") if suggestion else None}
