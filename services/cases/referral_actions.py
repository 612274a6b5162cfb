"""Actions on a refused case's legal steps through the cases API: the criminal referral's approval (the case
team's report and the bureau head's decision, 国务院令第310号 art. 5), its withdrawal once wages and
compensation are paid (an inspector's proposal, the bureau head's decision) and the confirmation of a
provisional deadline's date. Each is sent to the case's workflow as an update and recorded, with its event, as the other
actions are (services/cases/actions.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.cases.actions import contract_model
from services.common.auth import Principal
from services.contracts.case_decision_events import (
    DeadlineConfirmed,
    ReferralApprovalDecided,
    ReferralReportSubmitted,
    ReferralWithdrawalDecided,
    ReferralWithdrawalProposed,
)
from services.contracts.cases_events import EvidenceView
from services.contracts.lifecycle import (
    DeadlineConfirmation,
    ReferralDecisionRecord,
    ReferralReport,
    ReferralWithdrawalDecision,
    ReferralWithdrawalProposal,
    Updates,
)

if TYPE_CHECKING:
    from services.cases.actions import Cases


async def submit_referral_report(
    cases: Cases, principal: Principal, case_id: str, body: dict[str, Any], process: str | None, key: str | None
) -> dict[str, Any]:
    report = contract_model(ReferralReport, submitted_by=principal.client_id, **body)
    case, pid, workflow_id, snapshot = await cases._case_update(
        principal, case_id, process, Updates.SUBMIT_REFERRAL_REPORT, report, key
    )
    payload = ReferralReportSubmitted(
        **cases._common(principal, case, pid, snapshot),
        team=report.team,
        facts=report.facts,
        subjective_element=report.subjective_element.value,
        evidence=[EvidenceView(kind=e.kind.value, ref=e.ref) for e in report.evidence],
    )
    return await cases._record_action(
        principal=principal,
        kind="referral_report",
        case=case,
        complaint_id=None,
        workflow_id=workflow_id,
        idempotency_key=key,
        request=report.model_dump(mode="json"),
        payload=payload,
    )


async def decide_referral(
    cases: Cases, principal: Principal, case_id: str, body: dict[str, Any], process: str | None, key: str | None
) -> dict[str, Any]:
    decision = contract_model(ReferralDecisionRecord, decided_by=principal.client_id, **body)
    case, pid, workflow_id, snapshot = await cases._case_update(
        principal, case_id, process, Updates.DECIDE_REFERRAL, decision, key
    )
    payload = ReferralApprovalDecided(
        **cases._common(principal, case, pid, snapshot), approved=decision.approved, reason=decision.reason
    )
    return await cases._record_action(
        principal=principal,
        kind="referral_decision",
        case=case,
        complaint_id=None,
        workflow_id=workflow_id,
        idempotency_key=key,
        request=decision.model_dump(mode="json"),
        payload=payload,
    )


async def confirm_deadline(
    cases: Cases,
    principal: Principal,
    case_id: str,
    name: str,
    body: dict[str, Any],
    process: str | None,
    key: str | None,
) -> dict[str, Any]:
    confirmation = contract_model(DeadlineConfirmation, name=name, confirmed_by=principal.client_id, **body)
    case, pid, workflow_id, snapshot = await cases._case_update(
        principal, case_id, process, Updates.CONFIRM_DEADLINE, confirmation, key
    )
    payload = DeadlineConfirmed(**cases._common(principal, case, pid, snapshot), deadline=name, note=confirmation.note)
    return await cases._record_action(
        principal=principal,
        kind="deadline_confirmation",
        case=case,
        complaint_id=None,
        workflow_id=workflow_id,
        idempotency_key=key,
        request=confirmation.model_dump(mode="json"),
        payload=payload,
    )


async def propose_withdrawal(
    cases: Cases, principal: Principal, case_id: str, body: dict[str, Any], process: str | None, key: str | None
) -> dict[str, Any]:
    proposal = contract_model(ReferralWithdrawalProposal, proposed_by=principal.client_id, **body)
    case, pid, workflow_id, snapshot = await cases._case_update(
        principal, case_id, process, Updates.PROPOSE_REFERRAL_WITHDRAWAL, proposal, key
    )
    payload = ReferralWithdrawalProposed(**cases._common(principal, case, pid, snapshot), reason=proposal.reason)
    return await cases._record_action(
        principal=principal,
        kind="referral_withdrawal",
        case=case,
        complaint_id=None,
        workflow_id=workflow_id,
        idempotency_key=key,
        request=proposal.model_dump(mode="json"),
        payload=payload,
    )


async def decide_withdrawal(
    cases: Cases, principal: Principal, case_id: str, body: dict[str, Any], process: str | None, key: str | None
) -> dict[str, Any]:
    decision = contract_model(ReferralWithdrawalDecision, decided_by=principal.client_id, **body)
    case, pid, workflow_id, snapshot = await cases._case_update(
        principal, case_id, process, Updates.DECIDE_REFERRAL_WITHDRAWAL, decision, key
    )
    payload = ReferralWithdrawalDecided(
        **cases._common(principal, case, pid, snapshot), approved=decision.approved, reason=decision.reason
    )
    return await cases._record_action(
        principal=principal,
        kind="referral_withdrawal_decision",
        case=case,
        complaint_id=None,
        workflow_id=workflow_id,
        idempotency_key=key,
        request=decision.model_dump(mode="json"),
        payload=payload,
    )
