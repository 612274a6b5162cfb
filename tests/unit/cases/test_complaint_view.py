"""How the ledger shows a complaint past the two-year limit: the mark, and the suggested rejection while it
awaits acceptance (services/cases/views.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import FastAPI

from services.cases import views
from services.cases.ledger_api import router
from services.contracts.lifecycle import AcceptanceDecisionKind, RejectionReason


def row(**overrides: Any) -> dict[str, Any]:
    return {
        "complaint_id": "TS-20261130-000001",
        "case_id": "AJ-1",
        "process_case_id": "AJ-1",
        "county": "130402",
        "stage": "awaiting_acceptance",
        "status": "open",
        "decision": None,
        "stale_for_rejection": True,
        "owed_until": date(2023, 5, 31),
        **overrides,
    }


def test_a_complaint_past_the_limit_awaiting_acceptance_is_suggested_for_rejection() -> None:
    view = views.ComplaintView.model_validate(views.with_suggestion(row()))
    assert view.stale_for_rejection and view.owed_until == date(2023, 5, 31)
    suggestion = view.suggested_decision
    assert suggestion is not None
    assert suggestion.decision is AcceptanceDecisionKind.REJECT
    assert suggestion.reason is RejectionReason.VIOLATION_TOO_OLD
    assert "2023-05-31" in suggestion.basis


def test_nothing_is_suggested_within_the_limit_or_once_decided() -> None:
    assert views.with_suggestion(row(stale_for_rejection=False))["suggested_decision"] is None
    decided = views.with_suggestion(row(stage="callback", status="closed", decision="reject"))
    assert decided["suggested_decision"] is None and decided["stale_for_rejection"]
    # A row recorded before the ledger kept the mark.
    assert views.with_suggestion(row(stale_for_rejection=None, owed_until=None))["suggested_decision"] is None


def test_the_complaint_view_is_documented_in_openapi() -> None:
    app = FastAPI()
    app.include_router(router)
    schema = app.openapi()
    ok = schema["paths"]["/v1/complaints/{complaint_id}"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/ComplaintView")
    properties = schema["components"]["schemas"]["ComplaintView"]["properties"]
    assert {"stale_for_rejection", "owed_until", "suggested_decision"} <= set(properties)
    assert all("description" in p for name, p in properties.items() if name != "complaint_id")
    suggested = schema["components"]["schemas"]["SuggestedDecision"]["properties"]
    assert "description" in suggested["basis"]
