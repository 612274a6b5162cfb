"""The verification stage: the inspector's outcome (update `record_verification`) classifies the case and
decides where it goes next."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.contracts.lifecycle import (
        CLASSIFICATION_OF,
        CLOSING_OUTCOMES,
        CaseStage,
        CaseStatus,
        Classification,
        ClosureReason,
        ReferralKind,
        Updates,
        VerificationOutcome,
        VerificationResult,
        verification_refusal,
    )
    from workflows.base import refuse
    from workflows.case.merge import CaseMerge
    from workflows.core import WaitResult
    from workflows.texts import OUTCOME_TEXT

# An early-warning case the inspection finds no arrears in closes as `no_arrears_found`; a workflow that verified
# it before this change closed it as `unfounded`, and replays so.
NO_ARREARS_CLOSURE = "2026-12-no-arrears-closure"


class VerificationStage(CaseMerge):
    """Verification and classification: waits for the outcome, then closes, refers or moves on."""

    async def _verification(self) -> WaitResult | None:
        result = await self._wait(
            lambda: (
                self._state.pending_verification is not None
                or self._everyone_left()
                or self._state.merge_request is not None
            ),
            None,
        )
        if result is WaitResult.CONTINUE_AS_NEW:
            return result
        if self._state.merge_request is not None and self._state.pending_verification is None:
            await self._merge_away()
            return None
        if self._state.pending_verification is None:
            self._close(ClosureReason.WITHDRAWN, "全部投诉已撤回")
            return None
        verification = self._state.pending_verification
        self._state.verification = verification
        self._state.classification = CLASSIFICATION_OF[verification.outcome]
        text = f"核实结论：{OUTCOME_TEXT[verification.outcome]}（{verification.verified_by}）"
        if verification.confirmed_amount is not None:
            text += f"，核定欠薪 {verification.confirmed_amount} 元、{self._workers()} 人"
        self._record("case.verified", text)
        self._progress("verified", text)
        self._publish_search_attributes()

        outcome = verification.outcome
        if outcome in CLOSING_OUTCOMES:
            self._close(self._closing_reason(outcome), OUTCOME_TEXT[outcome])
        elif outcome is VerificationOutcome.LABOUR_DISPUTE:
            if "arbitration" not in self._state.referrals:
                ref = await self._referral(ReferralKind.ARBITRATION, "劳动争议，引导申请劳动人事争议仲裁（速裁）")
                self._state.referrals["arbitration"] = ref.id
            self._close(ClosureReason.REFERRED_TO_ARBITRATION, "已引导至劳动人事争议仲裁院")
        elif self._state.classification is Classification.NON_WAGE_DISPUTE:
            self._set_stage(CaseStage.HANDOFF)
        else:
            self._set_stage(CaseStage.SERVICE)
        return None

    @staticmethod
    def _closing_reason(outcome: VerificationOutcome) -> ClosureReason:
        reason = CLOSING_OUTCOMES[outcome]
        if reason is ClosureReason.NO_ARREARS_FOUND and not workflow.patched(NO_ARREARS_CLOSURE):
            return ClosureReason.UNFOUNDED
        return reason

    # --- the inspector's outcome (update) -------------------------------------------------------------------

    @workflow.update(name=Updates.RECORD_VERIFICATION)
    def record_verification(self, verification: VerificationResult) -> CaseStatus:
        self._state.pending_verification = verification
        return self._status()

    @record_verification.validator
    def _validate_verification(self, verification: VerificationResult) -> None:
        self._require_stage("记录核实结论", CaseStage.VERIFICATION)
        if self._state.pending_verification is not None:
            raise refuse("核实结论已记录 (the verification outcome is already recorded)")
        if not self._state.members and self._input.origin is None:
            raise refuse("案件没有有效投诉 (the case has no active complaint)")
        if self._state.merge_request is not None:
            raise refuse("本案正在并入其他案件 (the case is being merged into another)")
        why = verification_refusal(
            self._input.origin,
            bool(self._state.members),
            verification.outcome,
            verification.confirmed_amount,
            verification.confirmed_workers,
        )
        if why is not None:
            raise refuse(why)
