"""What the complaint shows: the case it follows, the two-year limit it may be past, the `status` answer and its
search attributes."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from services.contracts.lifecycle import (
        SA_CASE_ID,
        SA_COMPLAINT_ID,
        SA_COUNTY,
        SA_NEXT_DEADLINE,
        SA_OVERDUE,
        SA_STAGE,
        SA_STATUS,
        ComplaintInput,
        ComplaintStatus,
        acceptance_suggestion,
    )
    from services.contracts.owed_period import past_violation_limit, violation_limit_basis
    from services.contracts.process_reports import is_overdue
    from workflows.base import LifecycleWorkflow
    from workflows.complaint.state import ComplaintState


class ComplaintViews(LifecycleWorkflow):
    """The complaint's state and input, and the views computed from them (every part of the workflow uses them)."""

    _state: ComplaintState
    _input: ComplaintInput

    def _case_id(self) -> str:
        """The case whose process this complaint follows: its own, or the one a merge moved it to."""
        return self._state.moved_to or self._input.case_id

    def _past_violation_limit(self) -> bool:
        """Received after the violation limit (劳动保障监察条例 art. 20), judged on the China date of receipt."""
        owed_until = self._input.owed_until
        years = self._config.acceptance.violation_limit_years
        return owed_until is not None and past_violation_limit(owed_until, self._input.received_at, years)

    def _too_old_note(self) -> str:
        """What a notice about the pending acceptance adds for a complaint past the limit."""
        if not self._past_violation_limit():
            return ""
        return f"；{violation_limit_basis(self._input.owed_until, self._config.acceptance.violation_limit_years)}"

    def _expiry_needs_official_date(self, deadline_name: str) -> bool:
        # Missing information not supplied in time closes the complaint.
        return deadline_name.startswith("information#")

    def _status(self, *, timeline: bool = True) -> ComplaintStatus:
        state = self._state
        past_limit = self._past_violation_limit()
        return ComplaintStatus(
            complaint_id=self._input.complaint_id,
            case_id=self._case_id(),
            county=self._input.county,
            stage=state.stage,
            status=state.status,
            overdue=is_overdue(state.status, state.overdue),
            deadlines=dict(state.deadlines),
            next_deadline=self._next_deadline(),
            case_stage=state.case_stage,
            closure_reason=state.closure_reason,
            satisfaction=state.callback.satisfaction if state.callback else None,
            timeline=list(state.timeline) if timeline else [],
            past_violation_limit=past_limit,
            suggested_decision=acceptance_suggestion(
                state.stage, past_limit, self._input.owed_until, self._config.acceptance.violation_limit_years
            ),
            parked=self._parked(),
        )

    def _search_attribute_values(self) -> list[tuple[SearchAttributeKey[Any], Any]]:
        state = self._state
        return [
            (SA_COMPLAINT_ID, self._input.complaint_id),
            (SA_CASE_ID, self._case_id()),
            (SA_COUNTY, self._input.county),
            (SA_STAGE, state.stage.value),
            (SA_STATUS, state.status.value),
            (SA_NEXT_DEADLINE, self._next_deadline()),
            (SA_OVERDUE, state.overdue or self._needs_attention()),
        ]
