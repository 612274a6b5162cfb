"""What the ledger's timeline says of an inspector's or the bureau head's action that carries the process's
state (the projection applies the state and writes this line; services/cases/projection.py)."""

from __future__ import annotations

from typing import Any

from pydantic_core import to_jsonable_python

from services.contracts.case_decision_events import (
    DeadlineConfirmed,
    ReferralApprovalDecided,
    ReferralReportSubmitted,
    ReferralWithdrawalDecided,
    ReferralWithdrawalProposed,
)
from services.contracts.cases_events import ActionRecorded

SNAPSHOT_ACTIONS: tuple[type[ActionRecorded], ...] = (
    ReferralReportSubmitted,
    ReferralApprovalDecided,
    ReferralWithdrawalProposed,
    ReferralWithdrawalDecided,
    DeadlineConfirmed,
)


def timeline_line(action: ActionRecorded) -> tuple[str, dict[str, Any]]:
    """The timeline's summary of the action, and its detail."""
    match action:
        case ReferralReportSubmitted():
            return (
                f"办案组提交涉嫌犯罪案件移送报告（{'、'.join(action.team)}）",
                {
                    "subjective_element": action.subjective_element,
                    "facts": action.facts,
                    "evidence": to_jsonable_python(action.evidence),
                },
            )
        case ReferralApprovalDecided():
            text = "本局负责人批准移送公安机关" if action.approved else f"本局负责人不批准移送：{action.reason}"
            return f"{text}（{action.actor}）", {}
        case ReferralWithdrawalProposed():
            return f"报请撤回移送公安机关（{action.actor}）：{action.reason}", {}
        case ReferralWithdrawalDecided():
            text = "本局负责人批准撤回移送" if action.approved else f"本局负责人不批准撤回移送：{action.reason}"
            return f"{text}（{action.actor}）", {}
        case DeadlineConfirmed():
            return f"承办人确认暂定期限「{action.deadline}」的日期（{action.actor}）", {}
    raise TypeError(f"no timeline line for {type(action).__name__}")
